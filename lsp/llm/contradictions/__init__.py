"""Contradictions judged by the model: the prompt and verdicts (`judge`), what the editor shows
(`verdicts`), the per-note queue (`scheduler`) and the vault sweep (`sweep`)."""

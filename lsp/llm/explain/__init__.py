"""Grounded explanations: the context from the vault and the prompt (`grounding`), the hover
section, command and code action (`feature`)."""

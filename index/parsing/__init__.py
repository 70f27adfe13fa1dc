"""Parsing: a note's text to a `Note` (markdown, pseudocode, sentences, claims, chunks, UTF-16
positions, stems, keys): pure functions."""

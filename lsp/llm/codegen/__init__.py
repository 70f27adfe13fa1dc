"""Implementations from pseudocode: the prompt, output path, header and syntax check
(`implement`), and the code actions and commands (`feature`)."""

"""The editor side: the pygls server, its features, the CLI and settings."""

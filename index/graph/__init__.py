"""The link and symbol graph over the store's notes, and the structural checks that read it."""

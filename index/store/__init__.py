"""The index on disk: SQLite (FTS5 + sqlite-vec), its schema, the vault's files, embeddings and search."""

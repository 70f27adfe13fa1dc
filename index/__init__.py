"""The vault as data: parse, store, embeddings, search and the checks that need no model."""

"""What the notes claim: facts, the fact index, conflicts and their guards, term definitions,
candidates for the model judge, related notes."""

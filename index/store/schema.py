"""The index database's schema: the DDL of a fresh store, its version, and the migrations that
bring an older store up to date."""

from __future__ import annotations

SCHEMA_VERSION = 9


V7 = """
-- one row per (subject key, fact) of `facts` (index.knowledge.fact_index.postings): a lookup by subject
-- reads these, not every note's facts
CREATE TABLE IF NOT EXISTS fact_keys(k INTEGER NOT NULL, file_id INTEGER NOT NULL, ord INTEGER NOT NULL,
  ident INTEGER NOT NULL,
  PRIMARY KEY(k, file_id, ord)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fact_keys_file ON fact_keys(file_id);
-- each link's target as written, by the folded name it ends in (parsing.keys.link_key): a
-- backlink count resolves these rows instead of loading every linking note
CREATE TABLE IF NOT EXISTS link_targets(file_id INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
  target TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS link_targets_key ON link_targets(key);
CREATE INDEX IF NOT EXISTS link_targets_file ON link_targets(file_id);
"""


# from version -> the script that brings it to the next; what a migration cannot fill in is
# re-derived on the next update because DERIVED_VERSION changes with it (vectors are kept)
# 8: the modules moved (index.model -> index.notes, index.facts -> index.knowledge.facts) and the
# stored note summaries and facts name their classes by module: drop them, every note is
# re-derived on the next update (DERIVED_VERSION changed with it); vectors are kept
V8 = """
DELETE FROM notes;
DELETE FROM facts;
DELETE FROM fact_keys;
UPDATE files SET hash=NULL WHERE kind='note';
"""
# 9: note summaries and facts were pickles, which run code when loaded: a `.ponder/index.db`
# planted in a vault could. They are JSON now (store.codec, knowledge.fact_codec); the pickled rows
# are dropped unread and re-derived on the next update (the stat reset makes every note differ,
# whatever DERIVED_VERSION says)
V9 = V8 + "UPDATE files SET mtime_ns=-1 WHERE kind='note';\n"
MIGRATIONS = {6: V7, 7: V8, 8: V9}


SCHEMA = (
    """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE files(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    hash TEXT, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, reason TEXT);
CREATE TABLE notes(file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
    title TEXT NOT NULL, aliases TEXT NOT NULL, summary BLOB NOT NULL);  -- JSON (store.codec)
-- what a note refers to or defines, by folded name: links by target name, pseudocode
-- calls and definitions, tags; so cross-note questions need no note loaded
CREATE TABLE keys(file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX keys_kind_key ON keys(kind, key);
CREATE INDEX keys_file ON keys(file_id);
-- names a user searches for: notes, aliases, headings, pseudocode functions
CREATE TABLE symbols(file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, detail TEXT NOT NULL, range TEXT NOT NULL);
CREATE INDEX symbols_file ON symbols(file_id);
CREATE TABLE sentences(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL, kind TEXT NOT NULL, heading_path TEXT NOT NULL, text TEXT NOT NULL, range TEXT NOT NULL,
    hash TEXT);  -- set for sentences worth a vector (claims, not headings or short fragments)
CREATE INDEX sentences_file ON sentences(file_id);
CREATE INDEX sentences_hash ON sentences(hash);
CREATE TABLE sentence_vectors(id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE);
-- sentence stems, to find the statements a prohibition ("never deletes") speaks about
CREATE VIRTUAL TABLE sentence_stems USING fts5(stems, content='', contentless_delete=1,
    tokenize="unicode61 remove_diacritics 0 tokenchars '-'");
-- facts extracted from a note (index.knowledge.facts), as JSON per file (knowledge.fact_codec)
CREATE TABLE facts(file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE, facts BLOB NOT NULL);
-- conflict pairs the user chose to ignore, by the hash of both sentences' text
CREATE TABLE ignored_pairs(key TEXT PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE chunks(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL, heading_path TEXT NOT NULL, text TEXT NOT NULL, range TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX chunks_file ON chunks(file_id);
CREATE INDEX chunks_hash ON chunks(hash);
CREATE VIRTUAL TABLE chunks_fts USING fts5(heading_path, text, content='', contentless_delete=1,
    tokenize="unicode61 remove_diacritics 2");
CREATE TABLE vectors(id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE);
"""
    + V7
)

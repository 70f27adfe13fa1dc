"""The vault as data: parsing, the store, the link graph, what the notes claim, and the queries
an editor asks. This module is the surface the editor side (`ponder.lsp`) uses; a test keeps
`lsp` from reaching past it into the sub-packages.

Layers, each importing only from those before it (a test enforces the order):
`notes`/`settings` (plain data) -> `parsing` -> `store` -> `graph` -> `knowledge` -> `editor`
-> `vault` (orchestration: files in, derived data out, open-document overlays).
"""

from ponder.index.editor import fixes, navigate, rename
from ponder.index.editor.completion import complete
from ponder.index.editor.dependents import affected_by_edit, dependents
from ponder.index.editor.navigate import Location, Spot, spot_at
from ponder.index.editor.outline import SymbolRows, SymbolTable, folding_ranges, outline
from ponder.index.editor.preview import function_info, note_preview, paragraph_lines
from ponder.index.editor.rename import Change, move_edits, notes_under
from ponder.index.knowledge import related_notes
from ponder.index.knowledge.candidates import Candidate, candidates
from ponder.index.knowledge.conflicts import pair_key
from ponder.index.notes import (
    CodeBlock,
    Diagnostic,
    Link,
    Note,
    Position,
    Range,
    Related,
    SearchHit,
)
from ponder.index.parsing.keys import link_key
from ponder.index.parsing.positions import (
    fold,
    line_count,
    split_lines,
    utf8_to_utf16,
    utf16_len,
    utf16_to_cp,
    utf16_to_utf8,
)
from ponder.index.settings import EmbeddingSettings, IndexSettings
from ponder.index.store.dbfile import IndexFileError, at_default_place, describe_store_error
from ponder.index.store.dbfile import inspect as inspect_index_file
from ponder.index.store.embed import Embedder
from ponder.index.store.files import IgnoreRules, walk
from ponder.index.store.schema import SCHEMA_VERSION
from ponder.index.vault import IndexReport, Vault

__all__ = [
    "SCHEMA_VERSION",
    "Embedder",
    "Candidate",
    "Change",
    "CodeBlock",
    "Diagnostic",
    "EmbeddingSettings",
    "IgnoreRules",
    "IndexFileError",
    "at_default_place",
    "inspect_index_file",
    "IndexReport",
    "IndexSettings",
    "Link",
    "Location",
    "Note",
    "Position",
    "Range",
    "Related",
    "SearchHit",
    "Spot",
    "SymbolRows",
    "SymbolTable",
    "Vault",
    "affected_by_edit",
    "candidates",
    "complete",
    "describe_store_error",
    "dependents",
    "fixes",
    "fold",
    "folding_ranges",
    "function_info",
    "line_count",
    "link_key",
    "move_edits",
    "navigate",
    "note_preview",
    "notes_under",
    "outline",
    "pair_key",
    "paragraph_lines",
    "related_notes",
    "rename",
    "spot_at",
    "split_lines",
    "utf8_to_utf16",
    "utf16_len",
    "utf16_to_cp",
    "utf16_to_utf8",
    "walk",
]

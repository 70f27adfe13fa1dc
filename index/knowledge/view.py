"""What the knowledge layer reads of a vault: a protocol `Vault` satisfies, so that the analyses
here depend on the questions they ask, not on the class that orchestrates the index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ponder.index.graph.graph import Graph
    from ponder.index.knowledge.definitions import Definitions
    from ponder.index.knowledge.fact_index import FactIndex
    from ponder.index.notes import Note
    from ponder.index.settings import EmbeddingSettings
    from ponder.index.store.db import Store
    from ponder.index.store.embed import Embedder


class VaultView(Protocol):
    store: Store
    embedding: EmbeddingSettings
    embedder: Embedder

    @property
    def graph(self) -> Graph: ...

    @property
    def facts(self) -> FactIndex: ...

    @property
    def definitions(self) -> Definitions: ...

    def open_note(self, path: str) -> Note | None: ...

    def open_notes(self) -> dict[str, Note]: ...

    def note(self, path: str) -> Note | None: ...

    def read_text(self, path: str) -> str | None: ...

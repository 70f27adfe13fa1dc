"""What llama.cpp says it allocated when it loaded a model: buffers per device and placed tensors.

llama.cpp logs every buffer it allocates (model weights, KV cache, compute graph, outputs) and
every tensor a buffer override moved. The backend captures that log during `load` and the
worker reports it, so "the experts are in RAM" and "the plan's numbers hold" are read from
llama.cpp itself, not assumed. Sizes are bytes, per buffer name (`CPU`, `CPU_Mapped`, `CUDA0`, ...).
"""

from __future__ import annotations

import contextlib
import ctypes
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

MIB = 1024**2
_SIZES = {
    "model": re.compile(r"(\S+) model buffer size\s*=\s*([\d.]+) MiB"),
    "kv": re.compile(r"(\S+) KV buffer size\s*=\s*([\d.]+) MiB"),
    "compute": re.compile(r"(\S+) compute buffer size\s*=\s*([\d.]+) MiB"),
    "output": re.compile(r"(\S+)\s+output buffer size\s*=\s*([\d.]+) MiB"),
}
_OVERRIDE = re.compile(r"tensor (\S+) \(.*\) buffer type overridden to (\S+)")
_FLASH = re.compile(r"(?:Flash Attention|flash_attn)\s*(?:=\s*)?(enabled|disabled|not supported)")


@dataclass
class LoadReport:
    """llama.cpp's own account of one load (the last report of each buffer wins: a context may
    reserve its graph more than once)."""

    model: dict[str, int] = field(default_factory=dict)
    kv: dict[str, int] = field(default_factory=dict)
    compute: dict[str, int] = field(default_factory=dict)
    output: dict[str, int] = field(default_factory=dict)
    overridden: dict[str, str] = field(default_factory=dict)  # tensor name -> buffer type
    flash_attn: bool | None = None

    def total(self, kind: str) -> int:
        return sum(getattr(self, kind).values())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_load_log(text: str) -> LoadReport:
    report = LoadReport()
    for line in text.splitlines():
        for kind, pattern in _SIZES.items():
            m = pattern.search(line)
            if m:
                getattr(report, kind)[m.group(1)] = round(float(m.group(2)) * MIB)
        m = _OVERRIDE.search(line)
        if m:
            report.overridden[m.group(1)] = m.group(2)
        m = _FLASH.search(line)
        if m and "flash" in line.lower():
            report.flash_attn = m.group(1) == "enabled"
    return report


@contextlib.contextmanager
def captured_llama_log(echo: bool = False) -> Iterator[list[str]]:
    """Collect everything llama.cpp logs in this block (all levels), then give the log back to
    llama-cpp-python's own handler. `echo` also writes it to stderr."""
    import llama_cpp
    from llama_cpp import _logger

    lines: list[str] = []

    @llama_cpp.llama_log_callback
    def collect(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        piece = text.decode("utf-8", errors="replace")
        lines.append(piece)
        if echo:
            sys.stderr.write(piece)

    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    try:
        yield lines
    finally:
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))

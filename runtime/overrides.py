"""llama.cpp tensor buffer overrides (keep MoE experts in RAM) through llama-cpp-python's ctypes API.

`Llama()` (0.3.x) does not expose `tensor_buft_overrides`; the C struct field exists in
`llama_model_params` (declared as `c_void_p`, "unused"). We build the NULL-terminated array of
`{const char *pattern; ggml_backend_buffer_type_t buft;}` ourselves, point it at the CPU
buffer type, and hand it to the model params that `Llama.__init__` creates, by wrapping
`llama_model_default_params` for the duration of the constructor. llama.cpp then logs
"tensor X (...) buffer type overridden to CPU" for every matching tensor.
"""

from __future__ import annotations

import contextlib
import ctypes
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class OverrideUnsupported(RuntimeError):
    """This llama-cpp-python cannot apply tensor overrides; the message says what is missing."""


class _Override(ctypes.Structure):
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


def check_support() -> Any:
    """Return the `llama_cpp.llama_cpp` module if overrides can work, else raise OverrideUnsupported."""
    try:
        import llama_cpp
        from llama_cpp import llama_cpp as lib
    except ImportError as exc:
        raise OverrideUnsupported(f"llama-cpp-python is not installed: {exc}") from exc
    version = getattr(llama_cpp, "__version__", "?")
    fields = dict(lib.llama_model_params._fields_)
    if "tensor_buft_overrides" not in fields:
        raise OverrideUnsupported(
            f"llama-cpp-python {version}: llama_model_params has no tensor_buft_overrides "
            "(needs a llama.cpp from 2025-04 or later, llama-cpp-python >= 0.3.8)"
        )
    if fields["tensor_buft_overrides"] is not ctypes.c_void_p and not hasattr(lib, "llama_model_tensor_buft_override"):
        raise OverrideUnsupported(f"llama-cpp-python {version}: unexpected type of tensor_buft_overrides")
    if not callable(getattr(lib, "llama_model_default_params", None)):
        raise OverrideUnsupported(f"llama-cpp-python {version}: no llama_model_default_params")
    return lib


def cpu_buffer_type() -> int:
    """Address of ggml's CPU buffer type, looked up in the libraries llama-cpp-python loaded."""
    import llama_cpp

    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    for name in (
        "libggml-base.so",
        "libggml-cpu.so",
        "libggml.so",
        "libllama.so",
        "ggml-base.dll",
        "libggml-base.dylib",
    ):
        path = lib_dir / name
        if not path.exists():
            continue
        lib = ctypes.CDLL(str(path))  # same file as llama_cpp loaded: the loader returns the same handle
        fn = getattr(lib, "ggml_backend_cpu_buffer_type", None)
        if fn is not None:
            fn.restype = ctypes.c_void_p
            fn.argtypes = []
            address = fn()
            if address:
                return int(address)
    raise OverrideUnsupported(f"ggml_backend_cpu_buffer_type not found in {lib_dir}")


class TensorOverrides:
    """The C array of (pattern, CPU buffer type); keep this object alive while the model loads."""

    def __init__(self, patterns: list[str]) -> None:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid tensor pattern {pattern!r}: {exc}") from exc
        self.patterns = list(patterns)
        self._strings = [p.encode() for p in patterns]
        buft = cpu_buffer_type()
        self._array = (_Override * (len(patterns) + 1))()
        for i, raw in enumerate(self._strings):
            self._array[i].pattern = raw
            self._array[i].buft = buft
        self._array[len(patterns)].pattern = None  # terminator
        self.address = ctypes.addressof(self._array)


@contextlib.contextmanager
def applied(patterns: list[str]) -> Iterator[TensorOverrides | None]:
    """Within this block, every `Llama()` loads with `patterns` kept in CPU memory."""
    if not patterns:
        yield None
        return
    lib = check_support()
    overrides = TensorOverrides(patterns)
    original = lib.llama_model_default_params

    def with_overrides() -> Any:
        params = original()
        params.tensor_buft_overrides = overrides.address
        return params

    lib.llama_model_default_params = with_overrides
    try:
        yield overrides
    finally:
        lib.llama_model_default_params = original

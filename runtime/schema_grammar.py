"""Output schemas made safe for llama.cpp's grammar engine, and the limits taken out of them.

llama-cpp-python turns a JSON schema into a GBNF grammar by spelling a `maxLength` of N as N
nested optional characters; llama.cpp refuses such a grammar somewhere between 900 and 2000
("number of rules that are going to be repeated ... exceeds sane defaults"), and llama-cpp-python
0.3.x then samples with a null grammar and the worker dies with SIGSEGV. Large length and count
limits constrain nothing a token budget does not already constrain, so they are dropped from the
grammar here and enforced after generation instead (`tasks.parse_output` validates the answer
against the full pydantic model and names the limit that was exceeded).
"""

from __future__ import annotations

from typing import Any

# Kept in the grammar up to these bounds (they help a small model close its strings); measured:
# maxLength 900 still builds with Gemma 3's vocabulary, 2000 does not.
MAX_GRAMMAR_LENGTH = 512
MAX_GRAMMAR_ITEMS = 32
MAX_GRAMMAR_MIN_LENGTH = 64

_BOUNDS = {
    "maxLength": MAX_GRAMMAR_LENGTH,
    "minLength": MAX_GRAMMAR_MIN_LENGTH,
    "maxItems": MAX_GRAMMAR_ITEMS,
    "minItems": MAX_GRAMMAR_ITEMS,
    "maxProperties": MAX_GRAMMAR_ITEMS,
}


def simplify_schema(schema: Any, dropped: list[str] | None = None, where: str = "$") -> Any:
    """A copy of `schema` without the limits above their bounds; `dropped` collects `where.key=N`."""
    if isinstance(schema, list):
        return [simplify_schema(s, dropped, f"{where}[{i}]") for i, s in enumerate(schema)]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        bound = _BOUNDS.get(key)
        if bound is not None and isinstance(value, int) and value > bound:
            if dropped is not None:
                dropped.append(f"{where}.{key}={value}")
            continue
        out[key] = simplify_schema(value, dropped, f"{where}.{key}")
    return out

"""Output parsing, cache keys, and the override support check (no model needed)."""

from __future__ import annotations

import ctypes

import pytest
from pydantic import BaseModel

from ponder.runtime import overrides
from ponder.runtime.tasks import Task, parse_output, strip_reasoning


class Answer(BaseModel):
    ok: bool


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('{"ok": true}', True),
        ('<think>maybe {"ok": false}</think>\n{"ok": true}', True),
        ('junk {"ok": false} tail', False),
    ],
)
def test_parse_output_accepts_json_after_reasoning(text: str, ok: bool) -> None:
    assert parse_output(Answer, text) == Answer(ok=ok)


@pytest.mark.parametrize("text", ['{"ok": tr', '{"ok": "perhaps"}', '<think>{"ok": true}', "no json"])
def test_parse_output_rejects_truncated_or_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        parse_output(Answer, text)


def test_unclosed_think_is_dropped_to_the_end() -> None:
    assert strip_reasoning("a<think>b") == "a"


def test_input_hash_changes_with_version_schema_and_messages() -> None:
    base = Task(name="n", messages=[{"role": "user", "content": "x"}])
    same = Task(name="n", messages=[{"role": "user", "content": "x"}])
    variants = [
        Task(name="n", messages=[{"role": "user", "content": "y"}]),
        Task(name="n", messages=[{"role": "user", "content": "x"}], version=2),
        Task(name="n", messages=[{"role": "user", "content": "x"}], output=Answer),
    ]
    assert base.input_hash() == same.input_hash()
    assert len({base.input_hash(), *(v.input_hash() for v in variants)}) == 4


def test_override_check_names_the_missing_field(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    from llama_cpp import llama_cpp as lib

    class OldParams(ctypes.Structure):
        _fields_ = [("n_gpu_layers", ctypes.c_int32)]

    monkeypatch.setattr(lib, "llama_model_params", OldParams)
    with pytest.raises(overrides.OverrideUnsupported, match="no tensor_buft_overrides"):
        with overrides.applied([r"exps"]):
            pass


def test_invalid_pattern_is_refused_before_loading() -> None:
    pytest.importorskip("llama_cpp")
    with pytest.raises(ValueError, match="invalid tensor pattern"):
        with overrides.applied([r"blk\.(1"]):
            pass

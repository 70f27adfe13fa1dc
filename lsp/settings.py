"""`PonderSettings`: the one settings model, and where its values come from.

Sources, later ones winning: defaults, `ponder.toml` in the vault, `PONDER_*`
environment variables (`PONDER_EMBEDDING__MODEL=...`), then the editor's
`initializationOptions` / `workspace/configuration` or CLI flags. An invalid value
never stops anything: it is reported by field name and the default is used. `load_settings`
can also say where each field's value came from (`ponder doctor` shows it).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ponder.index import EmbeddingSettings, IndexSettings
from ponder.lsp.llm.codegen.implement import CodegenSettings
from ponder.lsp.llm.contradictions.judge import ContradictionSettings
from ponder.runtime.settings import ModelSettings

CONFIG_FILE = "ponder.toml"
ENV_PREFIX = "PONDER_"


class PonderSettings(BaseModel):
    """Everything a user can set; the VS Code manifest and ponder.toml mirror it."""

    index: IndexSettings = Field(default_factory=IndexSettings, description="What the index reads and stores.")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description="Embedding model.")
    model: ModelSettings = Field(default_factory=ModelSettings, description="The local LLM.")
    codegen: CodegenSettings = Field(
        default_factory=CodegenSettings, description="Explanations on hover and implementations from pseudocode."
    )
    contradictions: ContradictionSettings = Field(
        default_factory=ContradictionSettings,
        description="The model's background judgement of candidate contradictions.",
    )


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _env_values(environ: dict[str, str]) -> dict:
    out: dict[str, Any] = {}
    sections = set(PonderSettings.model_fields)
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        rest = key[len(ENV_PREFIX) :].lower()
        section, sep, field = rest.partition("__")
        if not sep:
            continue
        if section not in sections:
            continue
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out.setdefault(section, {})[field] = value
    return out


def _field_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def validate(data: dict) -> tuple[PonderSettings, list[str]]:
    """Validate, dropping each invalid value (and naming it) so the rest still applies."""
    errors: list[str] = []
    data = json.loads(json.dumps(data, default=str))
    for _ in range(50):
        try:
            return PonderSettings.model_validate(data), errors
        except ValidationError as e:
            for err in e.errors():
                loc = err["loc"]
                errors.append(f"ponder.{_field_path(loc)}: {err['msg']} (got {err.get('input')!r}); using the default")
                _drop(data, loc)
    return PonderSettings(), errors


def _drop(data: dict, loc: tuple) -> None:
    node: Any = data
    for part in loc[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return
    last = loc[-1] if loc else None
    if isinstance(node, dict):
        if last in node:
            del node[last]
        elif len(loc) >= 1 and loc[0] in data:  # unknown shape: drop the whole section
            del data[loc[0]]
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node.pop(last)


def _record(sources: dict[str, str], layer: dict, source: str, env: bool = False) -> None:
    """Mark each `section.field` a layer sets (a field's own nested values count as the field)."""
    for section, fields in layer.items():
        if section in PonderSettings.model_fields and isinstance(fields, dict):
            for name in fields:
                where = f"env {ENV_PREFIX}{section.upper()}__{name.upper()}" if env else source
                sources[f"{section}.{name}"] = where


def load_settings(
    root: Path | None = None,
    overrides: dict | None = None,
    environ: dict[str, str] | None = None,
    sources: dict[str, str] | None = None,
    overrides_source: str = "editor",
) -> tuple[PonderSettings, list[str]]:
    """Settings for the vault at `root`, plus messages about anything that was ignored.

    With `sources`, also fills it with `section.field` -> where the value in force came from:
    `default`, the `ponder.toml` path, `env PONDER_...`, or `overrides_source` (the editor, the CLI)."""
    data: dict = {}
    messages: list[str] = []
    found: dict[str, str] = {}
    if root is not None:
        cfg = Path(root) / CONFIG_FILE
        if cfg.is_file():
            try:
                data = tomllib.loads(cfg.read_text("utf-8"))
                _record(found, data, str(cfg))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                messages.append(f"{cfg}: cannot read ({e}); using defaults")
    env = _env_values(dict(os.environ if environ is None else environ))
    _record(found, env, "", env=True)
    data = _deep_merge(data, env)
    if overrides:
        data = _deep_merge(data, overrides)
        _record(found, overrides, overrides_source)
    settings, errors = validate(data)
    if sources is not None:
        for section, model in PonderSettings.model_fields.items():
            for name in model.annotation.model_fields:  # type: ignore[union-attr]
                key = f"{section}.{name}"
                invalid = any(e.startswith(f"ponder.{key}:") or e.startswith(f"ponder.{key}.") for e in errors)
                origin = found.get(key, "default")
                sources[key] = f"default (invalid value in {origin})" if invalid else origin
    return settings, messages + errors

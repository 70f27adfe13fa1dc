"""`PonderSettings`: the one settings model, and where its values come from.

Sources, later ones winning: defaults, the user's own `$XDG_CONFIG_HOME/ponder/config.toml`,
`ponder.toml` in the vault, `PONDER_*` environment variables (`PONDER_EMBEDDING__MODEL=...`),
then the editor's `initializationOptions` / `workspace/configuration` or CLI flags. An invalid
value never stops anything: it is reported by field name and the default is used.

A vault is untrusted input (someone else's repository, a shared folder): its `ponder.toml` may
tune how notes are read and checked, but not widen what Ponder may do. The keys in `USER_ONLY`
(where the model runs, what may be downloaded or connected to, where the index is written) are
taken from the user's sources only; a vault that sets one is ignored for that key and told so,
as editors do for workspace trust.
`load_settings` can also say where each field's value came from (`ponder doctor` shows it).
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
USER_CONFIG = Path("ponder") / "config.toml"
ENV_PREFIX = "PONDER_"

# Settings that widen what Ponder may do: run or load a program or model, connect, download,
# write outside the vault. Only the user's own settings may set them, never a vault's
# ponder.toml. Every new field needs a decision here (tests/lsp/test_settings_trust.py).
USER_ONLY: frozenset[str] = frozenset(
    {
        "index.db_path",  # where the index database is written
        "embedding.model",  # a model name or a path: what is loaded (and downloaded, if allowed)
        "embedding.allow_download",
        "model.backend",  # which program answers: a GGUF in the worker, a server, a script
        "model.path",  # a model file run by llama.cpp
        "model.endpoint",  # where notes are sent
        "model.allow_remote",  # the privacy guard itself
        "model.script_path",  # a file read by the scripted backend
    }
)


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


def user_config_path(environ: dict[str, str]) -> Path:
    """The user's own config file: `$XDG_CONFIG_HOME/ponder/config.toml` (default ~/.config)."""
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / USER_CONFIG


def _read_toml(path: Path, messages: list[str]) -> dict:
    try:
        if not path.is_file():  # a FIFO or a folder is not a config file (and must not block us)
            return {}
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        messages.append(f"{path}: cannot read ({e}); using defaults")
        return {}


def strip_user_only(data: dict) -> tuple[dict, list[str]]:
    """`data` without the `USER_ONLY` keys, and the dotted names of those it had."""
    out: dict = {}
    dropped: list[str] = []
    for section, values in data.items():
        if not isinstance(values, dict):
            out[section] = values
            continue
        kept = {}
        for key, value in values.items():
            if f"{section}.{key}" in USER_ONLY:
                dropped.append(f"{section}.{key}")
            else:
                kept[key] = value
        out[section] = kept
    return out, sorted(dropped)


def untrusted_message(cfg: Path, keys: list[str]) -> str:
    names = ", ".join(keys)
    return (
        f"{cfg}: ignored {names}: a vault's ponder.toml may not set {'this' if len(keys) == 1 else 'these'} "
        f"(set {'it' if len(keys) == 1 else 'them'} in your editor settings, {USER_CONFIG} in your config folder, "
        f"or PONDER_* environment variables)"
    )


def load_settings(
    root: Path | None = None,
    overrides: dict | None = None,
    environ: dict[str, str] | None = None,
    sources: dict[str, str] | None = None,
    overrides_source: str = "editor",
) -> tuple[PonderSettings, list[str]]:
    """Settings for the vault at `root`, plus messages about anything that was ignored.

    With `sources`, also fills it with `section.field` -> where the value in force came from:
    `default`, the user's config file, the `ponder.toml` path, `env PONDER_...`, or
    `overrides_source` (the editor, the CLI)."""
    environ = dict(os.environ if environ is None else environ)
    messages: list[str] = []
    found: dict[str, str] = {}
    user_cfg = user_config_path(environ)
    data = _read_toml(user_cfg, messages)
    _record(found, data, str(user_cfg))
    if root is not None:
        cfg = Path(root) / CONFIG_FILE
        vault, dropped = strip_user_only(_read_toml(cfg, messages))
        if dropped:
            messages.append(untrusted_message(cfg, dropped))
        _record(found, vault, str(cfg))
        data = _deep_merge(data, vault)
    env = _env_values(environ)
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

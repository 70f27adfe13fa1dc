"""Regenerate package.json's `contributes.configuration` from the server's settings model.

    python clients/vscode/scripts/gen_settings.py          # rewrite package.json
    python clients/vscode/scripts/gen_settings.py --check  # exit 1 if it is out of date

Every field of `ponder.lsp.settings.PonderSettings` becomes `ponder.<section>.<field>` with
its type, default, bounds and description; the extension's own settings (how to start the
server, tracing) come first. tests/editors/test_vscode.py runs `--check`. The settings only the
user may set (`USER_ONLY`, and the server command) get `"scope": "machine"`: VS Code then
ignores them in a workspace's .vscode/settings.json, which travels with the vault.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ponder.lsp.settings import USER_ONLY, PonderSettings

PACKAGE = Path(__file__).resolve().parents[1] / "package.json"

CLIENT_SETTINGS: dict[str, Any] = {
    "title": "Ponder: Server",
    "properties": {
        "ponder.server.command": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "order": 0,
            "scope": "machine",
            "markdownDescription": "Full command line that starts the language server, e.g. "
            '`["/home/me/.venv/bin/ponder", "serve"]`. `${workspaceFolder}` and `${env:NAME}` are expanded. '
            "Empty: use `#ponder.server.pythonPath#`, else `ponder` on PATH.",
        },
        "ponder.server.pythonPath": {
            "type": "string",
            "default": "",
            "order": 1,
            "scope": "machine",
            "markdownDescription": "Python interpreter that has Ponder installed; the server runs as "
            "`<python> -m ponder.lsp serve`. Empty: `ponder` on PATH.",
        },
        "ponder.trace.server": {
            "type": "string",
            "enum": ["off", "messages", "verbose"],
            "default": "off",
            "order": 2,
            "description": "Log the protocol messages between VS Code and the server to the Ponder output channel.",
        },
    },
}


def _json_type(schema: dict, defs: dict) -> dict:
    """A pydantic property schema -> the VS Code configuration keys for its type."""
    if "$ref" in schema:
        return _json_type(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        parts = [_json_type(s, defs) for s in schema["anyOf"]]
        types: list[str] = []
        out: dict[str, Any] = {}
        for p in parts:
            t = p.pop("type")
            types.extend(t if isinstance(t, list) else [t])
            out.update(p)
        return {"type": types if len(types) > 1 else types[0], **out}
    out: dict[str, Any] = {}
    if "enum" in schema:
        out["enum"] = schema["enum"]
        out["type"] = schema.get("type", "string")
    elif "const" in schema:
        out["enum"] = [schema["const"]]
        out["type"] = schema.get("type", "string")
    else:
        out["type"] = schema["type"]
    if schema.get("type") == "array" and "items" in schema:
        out["items"] = _json_type(schema["items"], defs)
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in schema:
            out[key] = schema[key]
    return out


def section(name: str, model: type[BaseModel], description: str | None) -> dict:
    schema = model.model_json_schema()
    props: dict[str, Any] = {}
    for order, (field, prop) in enumerate(schema["properties"].items()):
        info = model.model_fields[field]
        entry = _json_type(prop, schema.get("$defs", {}))
        default = info.get_default(call_default_factory=True)
        entry["default"] = default.model_dump() if isinstance(default, BaseModel) else default
        entry["order"] = order
        entry["description"] = info.description or field
        if f"{name}.{field}" in USER_ONLY:
            entry["scope"] = "machine"
            entry["description"] += " User settings only: a workspace or a vault's ponder.toml cannot set it."
        props[f"ponder.{name}.{field}"] = entry
    title = f"Ponder: {name.capitalize()}"
    return {"title": title, **({"description": description} if description else {}), "properties": props}


def configuration() -> list[dict]:
    out = [CLIENT_SETTINGS]
    for name, info in PonderSettings.model_fields.items():
        out.append(section(name, info.annotation, info.description))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if package.json is out of date")
    parser.add_argument("--package", type=Path, default=PACKAGE)
    args = parser.parse_args(argv)
    package = json.loads(args.package.read_text("utf-8"))
    wanted = configuration()
    if args.check:
        if package["contributes"].get("configuration") != wanted:
            print(
                f"{args.package}: contributes.configuration is out of date; run {Path(__file__).name}", file=sys.stderr
            )
            return 1
        return 0
    package["contributes"]["configuration"] = wanted
    args.package.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Structural self-check of an evaluation vault, independent of Ponder's code:
every wikilink / relative markdown link resolves (file by name without extension,
heading anchors case-insensitively), no note repeats a heading, every lowercase
pseudocode call has a definition, and no definition is repeated. Prints what it
finds; exit status 1 if anything is found that the labels file does not list.

    python bench/eval/check_vault_structure.py bench/eval/vault-lab bench/eval/vault-lab.labels.json
"""

import json
import pathlib
import re
import sys
from urllib.parse import unquote

FENCE = re.compile(r"^\s*(```|~~~)(\w*)")
WIKI = re.compile(r"\[\[([^\]|#]*)(?:#([^\]|]*))?(?:\|[^\]]*)?\]\]")
MDLINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
DEF = re.compile(r"^\s*(?:FUNCTION|PROCEDURE|ФУНКЦИЯ|ПРОЦЕДУРА)\s+([a-z_][a-z0-9_]*)\s*\(")
CALL = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)\s*\(")


def main(vault, labels=None):
    root = pathlib.Path(vault)
    data = json.loads(pathlib.Path(labels).read_text("utf-8")) if labels else {}
    files = sorted(p for p in root.rglob("*") if p.is_file())
    notes = [p for p in files if p.suffix == ".md"]
    by_name = {}
    for p in notes:
        by_name.setdefault(p.stem, []).append(p)
    headings = {}
    found = {"broken_links": [], "duplicate_headings": [], "undefined_calls": [], "duplicate_definitions": []}
    pseudo_lines = []  # (file, line, text)
    for p in files:
        rel = p.relative_to(root).as_posix()
        lines = p.read_text("utf-8").splitlines()
        if p.suffix == ".pseudo":
            pseudo_lines += [(rel, i, l) for i, l in enumerate(lines, 1)]
            continue
        fence, seen, front = None, {}, lines[:1] == ["---"]
        hs = []
        for i, l in enumerate(lines, 1):
            if front:
                if i > 1 and l.strip() == "---":
                    front = False
                continue
            m = FENCE.match(l)
            if m:
                fence = None if fence else m.group(2)
                continue
            if fence is not None:
                if fence == "pseudo":
                    pseudo_lines.append((rel, i, l))
                continue
            if l.startswith("#") and re.match(r"^#{1,6} ", l):
                h = l.lstrip("#").strip()
                hs.append(h.lower())
                if h.lower() in seen:
                    found["duplicate_headings"].append((rel, i, h))
                seen[h.lower()] = i
        headings[p] = hs
    for p in notes:
        rel = p.relative_to(root).as_posix()
        fence, front = None, False
        lines = p.read_text("utf-8").splitlines()
        front = lines[:1] == ["---"]
        for i, l in enumerate(lines, 1):
            if front:
                if i > 1 and l.strip() == "---":
                    front = False
                continue
            if FENCE.match(l):
                fence = None if fence else True
                continue
            if fence:
                continue
            l2 = re.sub(r"`[^`]*`", "", l)
            for m in WIKI.finditer(l2):
                name, head = m.group(1).strip(), m.group(2)
                targets = by_name.get(name, []) if name else [p]
                if len(targets) != 1 or (head and head.strip().lower() not in headings[targets[0]]):
                    found["broken_links"].append((rel, i, m.group(0)))
            for m in MDLINK.finditer(l2):
                href = m.group(1)
                if re.match(r"^[a-z]+:", href):
                    continue
                path, _, head = unquote(href).partition("#")
                t = (p.parent / path).resolve() if path else p
                if not t.is_file() or (head and head.lower() not in headings.get(t, [])):
                    found["broken_links"].append((rel, i, m.group(0)))
    defs = {}
    for f, i, l in pseudo_lines:
        m = DEF.match(l)
        if m:
            defs.setdefault(m.group(1), []).append((f, i))
    for name, places in defs.items():
        if len(places) > 1:
            found["duplicate_definitions"].append((name, places))
    for f, i, l in pseudo_lines:
        code = re.sub(r'"[^"]*"', "", l.split("//")[0])
        if DEF.match(code):
            continue
        for m in CALL.finditer(code):
            if m.group(1) not in defs:
                found["undefined_calls"].append((f, i, m.group(1)))
    bad = 0
    for key, items in found.items():
        listed = data.get(key, [])
        for it in items:
            if key == "broken_links":
                ok = any(e["file"] == it[0] and e["line"] == it[1] for e in listed)
            elif key == "duplicate_headings":
                ok = any(e["file"] == it[0] and e["line"] == it[1] for e in listed)
            elif key == "undefined_calls":
                ok = any(e["file"] == it[0] and e["line"] == it[1] and e["name"] == it[2] for e in listed)
            else:
                ok = any(e["name"] == it[0] for e in listed)
            print(("listed    " if ok else "UNLISTED  ") + key, it)
            bad += not ok
        if len(listed) > len(items):
            print(f"labels list {len(listed)} {key}, found {len(items)}")
            bad += 1
    print(
        f"{len(notes)} notes, {len(files) - len(notes)} other files, {len(defs)} pseudo definitions, "
        f"{len(pseudo_lines)} pseudo lines: " + ("FAIL" if bad else "OK")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

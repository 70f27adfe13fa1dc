"""Check a labels file against its vault: every anchor's text must be the exact
(whitespace-stripped) text of the labelled 1-based line, link targets and call
names must occur on their lines, and every path must exist.

    python bench/eval/check_labels.py bench/eval/vault-dacha bench/eval/vault-dacha.labels.json

With --substring an anchor's text only has to occur in its line and on no other
line of the file (the convention of the vault-orbit labels, which quote a sentence).
"""

import json
import pathlib
import sys


def main(vault, labels, substring=False):
    root = pathlib.Path(vault)
    data = json.loads(pathlib.Path(labels).read_text(encoding="utf-8"))
    errors = []

    def line(file, n):
        path = root / file
        if not path.is_file():
            errors.append(f"missing file {file}")
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
        if not 1 <= n <= len(lines):
            errors.append(f"{file}:{n} out of range")
            return None
        return lines[n - 1]

    def anchor(where, a):
        got = line(a["file"], a["line"])
        if got is None:
            return
        if substring:
            lines = (root / a["file"]).read_text(encoding="utf-8").splitlines()
            if a["text"] in got and sum(a["text"] in l for l in lines) == 1:
                return
        if got.strip() != a["text"].strip():
            errors.append(f"{where}: {a['file']}:{a['line']}\n  label: {a['text']!r}\n  file:  {got.strip()!r}")

    for key in ("contradictions", "hard_negatives"):
        for e in data[key]:
            anchor(e["id"] + ".a", e["a"])
            anchor(e["id"] + ".b", e["b"])
    for e in data["broken_links"]:
        got = line(e["file"], e["line"])
        if got is not None and e["target"] not in got:
            errors.append(f"broken link {e['target']} not on {e['file']}:{e['line']}")
    for e in data["undefined_calls"]:
        got = line(e["file"], e["line"])
        if got is not None and e["name"] + "(" not in got:
            errors.append(f"call {e['name']} not on {e['file']}:{e['line']}")
    for e in data["duplicate_definitions"]:
        for p in e["places"]:
            got = line(p["file"], p["line"])
            if got is not None and e["name"] + "(" not in got:
                errors.append(f"definition {e['name']} not on {p['file']}:{p['line']}")
    for e in data["duplicate_headings"]:
        got = line(e["file"], e["line"])
        if got is not None and got.lstrip("#").strip() != e["heading"]:
            errors.append(f"heading {e['heading']!r} not on {e['file']}:{e['line']}")
    for key in ("missing_links", "linked_pairs"):
        for e in data[key]:
            for f in (e["a"], e["b"]):
                if not (root / f).is_file():
                    errors.append(f"{key}: missing file {f}")

    for err in errors:
        print(err)
    counts = ", ".join(f"{k}={len(v)}" for k, v in data.items())
    print(("FAIL" if errors else "OK") + f" ({counts})")
    return 1 if errors else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--substring"]
    sys.exit(main(args[0], args[1], substring="--substring" in sys.argv[1:]))

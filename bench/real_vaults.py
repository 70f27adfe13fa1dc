"""Real-vault benchmark: index + check real folders with the CLI, then show samples to judge.

    python bench/real_vaults.py PATH... [--sample N] [--seed S] [--json OUT] [--no-related]
    python bench/real_vaults.py ~/vaults/obsidian-help/en --sample 1000   # see every report

For each folder it runs `ponder index PATH --no-embed` then `ponder check PATH --format json`
(the `ponder` next to this Python), each as a child process with a fresh index database in a
temporary folder, and prints: notes, wall time and peak RSS of each child, exit codes, counts
per diagnostic code (absolute and per 100 notes), then a seeded random sample of N reports
per code with the source line and the related side's line, so a human can tell true reports
from false ones. A check that exits 2, prints a traceback or no JSON is a CRASH, printed
loudly with the end of its stderr. Not part of the test suite; stdlib only. The children
import `ponder` as this Python would: put another checkout first on PYTHONPATH to measure it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PONDER = Path(sys.executable).parent / "ponder"
SKIP_DIRS = {".git", ".obsidian", ".ponder", "node_modules"}
NOTE_SUFFIXES = {".md", ".pseudo"}


def count_notes(root: Path) -> int:
    n = 0
    for _dir, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        n += sum(1 for f in files if Path(f).suffix.lower() in NOTE_SUFFIXES)
    return n


def run_child(args: list[str], workdir: Path) -> dict:
    """Run one child; wall time, peak RSS (MiB, from wait4), exit code, stdout, stderr."""
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "cmd": " ".join(args),
        "rc": proc.returncode,
        "wall_s": round(wall, 2),
        "rss_mib": round(usage.ru_maxrss / 1024, 1),
        "stdout": out_path.read_text(errors="replace"),
        "stderr": err_path.read_text(errors="replace"),
    }


def crashed(res: dict) -> bool:
    return res["rc"] not in (0, 1) or "Traceback (most recent call last)" in res["stderr"]


def shout_crash(step: str, res: dict) -> None:
    print(f"\n!!!!! CRASH in {step} (exit {res['rc']}): {res['cmd']}")
    for line in res["stderr"].strip().splitlines()[-25:]:
        print(f"!!   {line}")
    print("!!!!!\n")


def bench_vault(path: Path, no_related: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="ponder-real-") as tmp:
        tmp = Path(tmp)
        db = str(tmp / "index.db")
        (tmp / "index").mkdir()
        (tmp / "check").mkdir()
        idx = run_child([str(PONDER), "index", str(path), "--no-embed", "--db", db], tmp / "index")
        check_args = [str(PONDER), "check", str(path), "--format", "json", "--db", db]
        chk = run_child(check_args + (["--no-related"] if no_related else []), tmp / "check")
    diags: list = []
    try:
        diags = json.loads(chk["stdout"])["diagnostics"]
    except (ValueError, KeyError):
        chk["no_json"] = True
    return {"path": str(path), "notes": count_notes(path), "index": idx, "check": chk, "diagnostics": diags}


def print_summary(r: dict) -> None:
    notes = max(r["notes"], 1)
    print(f"\n=== {r['path']}  ({r['notes']} notes)")
    for step in ("index", "check"):
        res = r[step]
        print(f"  {step:<5} {res['wall_s']:>8.2f} s  peak RSS {res['rss_mib']:>8.1f} MiB  exit {res['rc']}")
        if crashed(res) or res.get("no_json"):
            shout_crash(step, res)
    counts = Counter(d["code"] for d in r["diagnostics"])
    for code, n in counts.most_common():
        print(f"  {code:<22} {n:>7}  {100 * n / notes:>8.1f} per 100 notes")
    if not counts:
        print("  (no diagnostics)")


class Lines:
    """Cached source lines of the vault's files, by path relative to the vault (or absolute)."""

    def __init__(self, root: Path):
        self.root, self.cache = root, {}

    def get(self, file: str, line: int) -> str:
        if file not in self.cache:
            p = Path(file) if Path(file).is_absolute() else self.root / file
            try:
                self.cache[file] = p.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self.cache[file] = []
        lines = self.cache[file]
        return lines[line].strip() if 0 <= line < len(lines) else "<no such line>"


def clip(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_samples(r: dict, n: int, seed: int) -> None:
    by_code: dict[str, list] = {}
    for d in r["diagnostics"]:
        by_code.setdefault(d["code"], []).append(d)
    lines = Lines(Path(r["path"]))
    for code, diags in sorted(by_code.items()):
        rng = random.Random(f"{seed}:{code}")
        picked = sorted(rng.sample(diags, min(n, len(diags))), key=lambda d: (d["file"], d["range"]["start"]["line"]))
        print(f"\n--- {code}: {len(picked)} of {len(diags)} (seed {seed})")
        for d in picked:
            line = d["range"]["start"]["line"]
            print(f"{d['file']}:{line + 1}: {clip(d['message'], 240)}")
            print(f"    | {clip(lines.get(d['file'], line))}")
            for rel in d.get("related", [])[:2]:
                rl = rel["range"]["start"]["line"]
                print(f"    -> {rel['file']}:{rl + 1}: {clip(rel.get('message', ''), 120)}")
                print(f"       | {clip(lines.get(rel['file'], rl))}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+", type=Path, help="vault folders (sub-folders of a big vault are fine)")
    ap.add_argument("--sample", type=int, default=10, help="reports shown per code (default 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write timings, exit codes, stderr and all diagnostics here")
    ap.add_argument("--no-related", action="store_true", help="pass --no-related to check (no missing-link)")
    args = ap.parse_args(argv)
    if not PONDER.exists():
        print(f"error: {PONDER} not found (run `make install`)", file=sys.stderr)
        return 2
    results = []
    for path in args.paths:
        if not path.is_dir():
            print(f"error: {path} is not a folder", file=sys.stderr)
            return 2
        r = bench_vault(path.resolve(), args.no_related)
        print_summary(r)
        if args.sample > 0:
            print_samples(r, args.sample, args.seed)
        results.append(r)
    print("\n=== summary")
    for r in results:
        flag = " CRASH" if any(crashed(r[s]) or r[s].get("no_json") for s in ("index", "check")) else ""
        print(
            f"  {r['path']}: {r['notes']} notes, index {r['index']['wall_s']} s, check {r['check']['wall_s']} s, "
            f"{len(r['diagnostics'])} diagnostics{flag}"
        )
    if args.json:
        for r in results:
            r["check"].pop("stdout", None)  # already parsed into r["diagnostics"]
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 1 if any(crashed(r["check"]) or crashed(r["index"]) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

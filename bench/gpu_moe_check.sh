#!/usr/bin/env bash
# The MoE placement check on a CUDA machine, self-contained: make sure llama-cpp-python is
# built with CUDA (rebuild it with -DGGML_CUDA=on when it is not; ~15-30 minutes, needs the
# CUDA toolkit with nvcc), then run bench/gpu_moe_check.py (seconds). Prints PASS or FAIL.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import llama_cpp, sys; sys.exit(0 if llama_cpp.llama_supports_gpu_offload() else 1)' 2>/dev/null; then
    command -v nvcc >/dev/null || { echo "FAIL: nvcc not on PATH (install the CUDA toolkit)"; exit 2; }
    echo "building llama-cpp-python with CUDA (this takes a while)..."
    CMAKE_ARGS="-DGGML_CUDA=on" FORCE_CMAKE=1 CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
        "$PY" -m pip install -q --force-reinstall --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python[server]>=0.3.8"
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
exec "$PY" bench/gpu_moe_check.py

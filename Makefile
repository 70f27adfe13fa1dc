# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv when it is missing and install everything into it.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# llama.cpp builds with all cores; keep the build deterministic and quiet.
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

.PHONY: demo test test-fast test-editors lint install clean bench vsix screenshots settings

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (Ponder needs Python 3.11+)"; exit 2; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[llm,dev]' --config-settings editable_mode=strict
	touch $(STAMP)

# `make install GPU=cuda`: rebuild llama-cpp-python with CUDA (needs the CUDA toolkit, nvcc on
# PATH; 15-30 minutes). Without GPU the default CPU build stays.
install: $(STAMP)
ifeq ($(GPU),cuda)
	@command -v nvcc >/dev/null 2>&1 || { echo "error: GPU=cuda needs nvcc on PATH (the CUDA toolkit)"; exit 2; }
	CMAKE_ARGS="-DGGML_CUDA=on" FORCE_CMAKE=1 $(BIN)/pip install -q --force-reinstall --no-deps --no-binary llama-cpp-python 'llama-cpp-python[server]>=0.3.8'
endif

demo: $(STAMP)
	$(BIN)/ponder index examples/vault
	$(BIN)/ponder check examples/vault; test $$? -le 1

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

# Formatting and lint rules live in pyproject.toml ([tool.ruff]).
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not model and not editor and not slow" tests

test-editors: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m editor tests/editors

bench: $(STAMP)
	$(BIN)/python bench/index_bench.py
	$(BIN)/python bench/contradictions_eval.py --vault ../shared/eval/vault-orbit --labels ../shared/eval/vault-orbit.labels.json

vsix:
	cd clients/vscode && npm ci --no-audit --no-fund && npx tsc -p . && npx eslint src && npx vsce package --out ponder.vsix

# README images: nvim in tmux (tmux, aha, chromium) and VS Code from the code-server test.
screenshots: $(STAMP)
	bash tests/editors/nvim/screenshot.sh clients/screenshots/nvim.png
	PONDER_SCREENSHOTS=clients/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider tests/editors/test_code_server.py

# After a change to the settings model: regenerate the VS Code manifest's settings.
settings: $(STAMP)
	$(BIN)/python clients/vscode/scripts/gen_settings.py

clean:
	rm -rf $(VENV) build *.egg-info examples/vault/.ponder

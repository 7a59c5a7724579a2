# One venv for everything; `make lab` and `make test` are the README's two commands.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-test lab test lint typecheck unit unit-fast bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Install only when pyproject.toml changed since the last install (the package is editable, so code
# changes need none): a second `make lab` starts as fast as .venv/bin/lab. The stamps live in .venv.
# pip -q is silent for the ~100 s a first install takes: one line says what the wait is.
$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	@echo "make: installing fluxlab into .venv with pip (quiet; about 100 s the first time)"
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "make: installing fluxlab and its test tools into .venv with pip (quiet; a few minutes the first time)"
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-lab

setup: $(VENV)/.installed-lab

setup-test: $(VENV)/.installed-test

lab: setup
	$(BIN)/lab

lint: setup-test
	$(BIN)/ruff check lab tests bench
	$(BIN)/ruff format --check lab tests bench

typecheck: setup-test
	$(BIN)/mypy

# Three workers on two cores: the slow tests spend about a third of their time waiting on git, the
# sandbox and sockets, so a third worker fills the cores (back to back on one machine: 265 s with -n 2,
# 216 s with -n 3; the same suite varies by 15% from run to run).
unit: setup-test
	$(BIN)/pytest -q -n 3 --dist loadgroup

# The tests that start no process (no git, no `lab` subprocess, no sandbox, no Textual app): seconds, not minutes.
unit-fast: setup-test
	$(BIN)/pytest -q -n 2 -m "not slow"

# mypy runs beside pytest rather than before it: on two cores it takes the moments pytest's workers
# wait (start-up, git, sockets), so the suite ends sooner; --output-sync keeps each one's output whole.
# --output-sync holds each one's output until it ends, minutes of silence: say so first.
test: lint
	@echo "make: running mypy and the test suite side by side; each one's output shows when it ends (a few minutes)"
	@$(MAKE) --no-print-directory -j2 --output-sync=target typecheck unit

bench: setup-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

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
$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
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
test: lint
	@$(MAKE) --no-print-directory -j2 --output-sync=target typecheck unit

bench: setup-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

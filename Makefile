# Two commands on a fresh machine: `make demo` and `make test`. Each builds the
# virtual environment it needs (Python 3.11+ and make are the only prerequisites).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sync-agent demo

# One pytest worker per core (pytest-xdist). pytest exits 5 when it collects no test;
# treat only that as success.
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto

lint: $(STAMP)
	$(BIN)/ruff check sync_agent connectors tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/rules_bench.py
	$(BIN)/python bench/api_calls.py
	$(BIN)/python bench/backfill.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/simulate.py

clean:
	rm -rf $(VENV) build *.egg-info

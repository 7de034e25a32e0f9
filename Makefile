# Everyday commands. Each uses the project's venv (.venv), made by `make venv` or the README's commands.
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/piksend_dev_test

.PHONY: venv serve test lint typecheck imports pg-test bench check mutation

venv: $(BIN)/piksend
$(BIN)/piksend: requirements-test.lock pyproject.toml
	python3 -m venv $(VENV) && $(BIN)/pip install -q -r requirements-test.lock -e .

serve: venv                      ## the server on the embedded default (SQLite in ./piksend-data)
	$(BIN)/piksend serve

lint: venv                       ## ruff: lint and formatting
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: venv                  ## mypy (the oauth core under the strict flags) and the layer contracts
	$(BIN)/mypy
	$(BIN)/lint-imports

test: venv                       ## the whole suite on SQLite (PostgreSQL variants skip)
	$(BIN)/pytest -n 4 --dist loadfile

pg-test: venv                    ## the whole suite on SQLite and PostgreSQL (PG_URL: an empty database)
	psql -q "$(PG_URL)" -c 'select 1' >/dev/null 2>&1 || \
	  psql -q -h 127.0.0.1 -U postgres -c 'CREATE DATABASE $(lastword $(subst /, ,$(PG_URL)))'
	PIKSEND_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/pytest -n 4 --dist loadfile

bench: venv                      ## piksend's own benchmark (needs wrk); see bench/README in RESULTS.md
	PYTHONPATH=src $(BIN)/python bench/run.py

mutation: venv                   ## mutation check of the protocol core (docs/testing.md); fails on an unlisted survivor
	$(BIN)/python tools/mutation_check.py

check: lint typecheck test       ## what CI runs, less PostgreSQL and the browser

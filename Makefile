# The two commands of README.md: `make demo` serves the demo data, `make test` runs everything.
# Both do all set-up themselves on a fresh machine with Python 3.11.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE ?= ./var/store
PORT ?= 8000

.PHONY: demo test lint bench install

$(BIN)/gis-service: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/gis-service

demo: install
	@if [ ! -f "$(STORE)/.demo-loaded" ]; then GIS_SERVICE=$(BIN)/gis-service bash data/load_demo.sh "$(STORE)"; fi
	$(BIN)/gis-service serve --host 127.0.0.1 --port $(PORT) --store "$(STORE)"

test: install
	bash .ci/system-packages
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check gis_service && $(BIN)/lint-imports

bench: install
	bash .ci/system-packages
	$(BIN)/python bench/run.py

# One place for the project's tooling, used locally and by .ci/run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test lint fmt bench clean chromium screenshots

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "ocrebot needs Python 3.11 or newer: make PYTHON=python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	mkdir -p data
	$(BIN)/ocrebot migrate
	$(BIN)/ocrebot run

# The console's browser tests drive Debian's chromium (Playwright, executable_path=/usr/bin/chromium).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) || \
		echo "chromium could not be installed (not root?): the console's browser tests will skip"

test: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

screenshots: $(VENV)/.installed-dev chromium
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/admin/test_browser.py tests/admin/test_browser_admin_tools.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

fmt: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

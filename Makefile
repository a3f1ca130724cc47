# Every target bootstraps its own virtual environment from the pinned lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.moonshift-installed
# The dashboard's JavaScript (package.json pins it) and the browser its tests drive.
ASSETS := node_modules/.moonshift-installed
CHROMIUM := /usr/bin/chromium
# bench/copy_throughput.py's reference for MariaDB and PostgreSQL to PostgreSQL.
PGLOADER := /usr/bin/pgloader
# ... and its reference for SQLite to SQLite, the SQLite shell.
SQLITE3 := /usr/bin/sqlite3
# Test processes: most tests wait on daemons, workers and databases, so two share the two
# cores well (each test has its own databases, folders and ports); TEST_WORKERS=0 runs in one.
TEST_WORKERS ?= 2

.PHONY: demo test lint bench clean lock assets compile

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "moonshift needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(PGLOADER):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgloader

$(SQLITE3):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3

assets: $(ASSETS)

# Byte-compiled once here: where the environment keeps Python from writing bytecode
# (PYTHONDONTWRITEBYTECODE), every CLI, daemon and worker process would compile the
# sources again at start-up, seconds each on a loaded machine.
compile: $(STAMP)
	@$(BIN)/python -m compileall -q src

demo: $(STAMP) compile
	@bash scripts/demo.sh

test: $(STAMP) $(ASSETS) $(CHROMIUM) compile
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/mypy bench  # a benchmark's fake of a seam keeps up with the seam
	$(BIN)/lint-imports

bench: $(STAMP) $(ASSETS) $(CHROMIUM) $(PGLOADER) $(SQLITE3)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Re-pin every dependency after editing pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade -e '.[dev]' 'setuptools>=77'
	.lock-venv/bin/pip freeze --all --exclude-editable | grep -vE "^(-e|pip==)" > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) node_modules .moonshift .pytest_cache .mypy_cache .ruff_cache

# The two commands of the README: `make serve` and `make test`. Both set everything up first and are
# idempotent (a stamp file skips the install when pyproject.toml has not changed).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml package-lock.json | sha256sum | cut -c1-12)
STORE ?= var/store
PORT ?= 8123
HOST ?= 127.0.0.1

.PHONY: setup serve test lint bench clean messages

setup: $(STAMP)

$(STAMP): pyproject.toml package-lock.json
	@test -n "$(PYTHON)" || { echo "need Python 3.11 (python3.11 or python3 on PATH)"; exit 2; }
	@command -v npm >/dev/null || { echo "need Node.js 20 with npm (the front-end libraries come from npm)"; exit 2; }
	@echo "==> setting up (first run: a minute or two)"
	@test -x $(PY) || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing the Python packages into $(VENV)"
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet --progress-bar off -e '.[test]'
	@echo "==> installing the front-end packages (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(VENV)/.installed-* && touch $(STAMP)
	@echo "==> set up"

serve: setup
	@echo "==> serving http://$(HOST):$(PORT)/ from $(STORE) (the first start loads the bundled data)"
	$(VENV)/bin/zitkg serve --store $(STORE) --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest -q

# Extract the UI's messages and update the Polish catalog (only the .po is kept; it is compiled at run time).
messages: setup
	mkdir -p var
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location -o var/messages.pot .
	$(VENV)/bin/pybabel update -i var/messages.pot -d server/zitkg/web/translations -l pl --no-location --no-fuzzy-matching

# The benchmark suite (bench/run.py, ~30-45 min on 2 cores): BENCH_ARGS="--sizes bundled,100k" for a quick run.
# Results: docs/benchmarks.md (tables), docs/benchmarks.png, bench/results/*.json. wrk (Debian) drives the
# throughput runs; without it a threaded Python client does, and the report says so.
BENCH_ARGS ?=
bench: setup
	$(PY) -m pip install --quiet -e '.[test,benchmark]'
	@command -v wrk >/dev/null || echo "note: wrk not found (apt-get install wrk); throughput uses a Python client"
	$(PY) bench/run.py $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check server tests

clean:
	rm -rf $(VENV) var .pytest_cache

# One-command set-up: `make run` and `make test` create the virtual environment when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint bench setup dev-setup browser mcp-servers clean frontend

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev-installed: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed

dev-setup: $(BIN)/.dev-installed

# Debian's Chromium drives the browser tests; Playwright never downloads a browser here.
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

# The reference MCP server from npm the tests run over streamable HTTP (Node from Debian).
NODE_SERVERS := tests/node/node_modules/.installed
$(NODE_SERVERS): tests/node/package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	cd tests/node && npm ci --no-audit --no-fund --silent
	touch $@

mcp-servers: $(NODE_SERVERS)

# Bytecode for the app's own modules, written even where PYTHONDONTWRITEBYTECODE is set (as pip
# does for installed packages): a server start otherwise compiles them all again. A checkout that
# cannot be written to still runs, as before.
COMPILE := $(BIN)/python -m compileall -q components core toolsmith

run: setup
	-$(COMPILE)
	$(BIN)/python -m toolsmith.serve --server.port 8501

test: dev-setup browser mcp-servers
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/python -m mypy

# The example schema test suite against the offline demo model (see README, "Schema test suites").
eval: setup
	$(BIN)/python -m toolsmith eval evals/library_tools.yaml --demo

bench: dev-setup browser
	-$(COMPILE)
	$(BIN)/python -m bench

# The code editor of the Tools page (CodeMirror 6), built from frontend/ with the versions in its
# package-lock.json. The built bundle is committed in static/editor/, so `make run` and `make
# test` need no Node; run this (Node 20 + npm) after changing frontend/src or its packages.
frontend:
	cd frontend && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

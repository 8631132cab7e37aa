# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
# Unit and integration tests run in this many pytest-xdist worker processes: most of their time is
# spent waiting on servers, sockets and databases, so several workers share the two cores well.
TEST_WORKERS ?= 4

.PHONY: run test install lock migrate lint format unit integration e2e chromium bench clean

# Installs come from the lock files (exact versions with hashes), never from pyproject.toml's ranges:
# requirements.lock (what the portal runs on; the Dockerfile) and requirements-test.lock (that plus
# the test tools; make run, make test, CI). `make lock` refreshes both after pyproject.toml changes.
LOCK      := requirements.lock
TEST_LOCK := requirements-test.lock
PIP_TOOLS := pip-tools==7.6.2
# Resolve against PyPI alone (not this machine's local wheel folders), so that every hash in the
# lock is one PyPI serves to a fresh machine or a Docker build.
COMPILE := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple

run: install  ## make the venv, install, migrate, start the demo portal on 127.0.0.1:8000
	$(BIN)/portal migrate
	$(BIN)/portal demo

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(TEST_LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Keeps the pins already in the lock files and adds or drops only what pyproject.toml changed; the
# runtime lock starts from the test lock's pins so both name the same versions.
# To move every pin to the newest release: rm requirements*.lock && make lock.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet '$(PIP_TOOLS)'
	$(COMPILE) --extra test -o $(TEST_LOCK) pyproject.toml
	cp $(TEST_LOCK) $(LOCK)
	$(COMPILE) -o $(LOCK) pyproject.toml

migrate: install
	$(BIN)/portal migrate

chromium:  ## the browser for end-to-end tests (Debian's package; Playwright cannot fetch its own here)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Debian's chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

lint: install
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix
	$(BIN)/ruff format

# Browser tests run in a pytest process of their own: Playwright's sync API keeps an event loop
# running for the session, which async tests in the same process cannot share.
test: install chromium lint  ## lint, type-check, then every test: unit, integration, e2e
	$(BIN)/pytest -n $(TEST_WORKERS) tests/unit tests/integration
	PORTAL_CHROMIUM=$(CHROMIUM) $(BIN)/pytest tests/e2e

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

e2e: install chromium
	PORTAL_CHROMIUM=$(CHROMIUM) $(BIN)/pytest tests/e2e

bench: install  ## benchmarks print figures; they are not tests
	$(BIN)/python bench/ws_fanout.py
	$(BIN)/python bench/webhook_ingest.py
	$(BIN)/python bench/notify_dispatch.py
	$(BIN)/python bench/console_live.py
	$(BIN)/python bench/reliability.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/order_screen.py
	$(BIN)/python bench/inquiries.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/archive_export.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis

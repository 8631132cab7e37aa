# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install migrate lint format unit integration e2e chromium bench clean

run: install  ## make the venv, install, migrate, start the demo portal on 127.0.0.1:8000
	$(BIN)/portal migrate
	$(BIN)/portal demo

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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
	$(BIN)/pytest tests/unit tests/integration
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

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis

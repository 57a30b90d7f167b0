# Quick start: `make demo` and `make test`; both set themselves up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEASON ?= jilin-2023
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help setup demo test fuzz lint typecheck unit integration infra e2e synth deploy layer checkov browser openapi lock clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The bare venv: its pip is all the layer builds need, so they need not wait for the dev install.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/.installed: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(BIN)/.installed ## Create .venv with the pinned dependencies

build/layer/.built: requirements/lambda.txt | $(BIN)/python
	rm -rf build/layer && mkdir -p build/layer
	$(BIN)/pip install -q --disable-pip-version-check --target build/layer/python \
	  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --implementation cp --python-version 3.12 \
	  --only-binary=:all: -r requirements/lambda.txt
	touch $@

build/solver-layer/.built: requirements/solver.txt | $(BIN)/python
	rm -rf build/solver-layer && mkdir -p build/solver-layer
	$(BIN)/pip install -q --disable-pip-version-check --target build/solver-layer/python --no-deps \
	  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --implementation cp --python-version 3.12 \
	  --only-binary=:all: -r requirements/solver.txt
	touch $@

build/notice-layer/.built: requirements/notice.txt | $(BIN)/python
	rm -rf build/notice-layer && mkdir -p build/notice-layer
	$(BIN)/pip install -q --disable-pip-version-check --target build/notice-layer/python --no-deps \
	  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --implementation cp --python-version 3.12 \
	  --only-binary=:all: -r requirements/notice.txt
	touch $@

build/sms-layer/.built: requirements/sms.txt | $(BIN)/python
	rm -rf build/sms-layer && mkdir -p build/sms-layer
	$(BIN)/pip install -q --disable-pip-version-check --target build/sms-layer/python --no-deps \
	  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 --implementation cp --python-version 3.12 \
	  --only-binary=:all: -r requirements/sms.txt
	touch $@

layer: build/layer/.built build/solver-layer/.built build/notice-layer/.built build/sms-layer/.built ## Build the Lambda dependency layers without Docker

# checkov, the second scanner of the synthesized templates (tests/infra/test_checkov.py), in a venv of
# its own: its pinned dependencies conflict with the project's.
CHECKOV := build/checkov/bin/checkov
$(CHECKOV): requirements/checkov.txt
	rm -rf build/checkov && $(PYTHON) -m venv build/checkov
	build/checkov/bin/pip install -q --disable-pip-version-check -r requirements/checkov.txt
	touch $@

checkov: $(CHECKOV) ## Install the pinned checkov in build/checkov (its own venv)

node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

browser: ## Install Debian Chromium for the browser tests and poppler for the notice tests (root, apt)
	@{ command -v chromium && command -v pdftotext && fc-list :lang=zh | grep -q .; } >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; }

demo: setup ## Run a whole season locally on the embedded backend (moto)
	$(BIN)/enroll demo $(DEMO_ARGS)

lint: setup ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup ## mypy (strict, pydantic plugin)
	$(BIN)/mypy enrollment functions infra app.py

# `make test` sets itself up: the venv, the four layers, checkov's venv, npm and apt are independent
# downloads, so they run side by side (SETUP_JOBS at once), with lint and mypy as soon as the venv
# is installed; then the tests. Every step leaves a stamp, so a second `make test` rebuilds nothing.
SETUP_JOBS ?= 8
test: ## Run lint, types and every test
	$(MAKE) --no-print-directory -j$(SETUP_JOBS) --output-sync=target layer checkov node_modules/.installed browser lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup -q

fuzz: setup ## Fuzz the whole API (Schemathesis, docs/openapi.json) long: 300 examples an operation, 10,000+ cases
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-300} FUZZ_SEED=$${FUZZ_SEED:-$$RANDOM} \
	  $(BIN)/pytest -q -s -p no:cacheprovider tests/fuzz

# Alarms need an owner (docs/RUNBOOK.md): ALARM_EMAIL=address and/or ALARM_TOPIC_ARN=existing SNS topic.
# `make synth` without either uses a placeholder address so a fresh clone synthesizes; deploy refuses it.
ALARM_EMAIL ?=
ALARM_TOPIC_ARN ?=
SYNTH_ONLY_ALARM_EMAIL := synth-only@example.invalid
ALARM_ARGS = $(if $(ALARM_EMAIL),-c alarm_email=$(ALARM_EMAIL)) $(if $(ALARM_TOPIC_ARN),-c alarm_topic_arn=$(ALARM_TOPIC_ARN))

synth: setup layer node_modules/.installed ## cdk synth (offline) with cdk-nag [ALARM_EMAIL= ALARM_TOPIC_ARN=]
	node_modules/.bin/cdk synth --no-notices -c season=$(SEASON) \
	  $(or $(strip $(ALARM_ARGS)),-c alarm_email=$(SYNTH_ONLY_ALARM_EMAIL)) --quiet

deploy: setup layer node_modules/.installed ## Deploy the season stack: ALARM_EMAIL=... and/or ALARM_TOPIC_ARN=... required [DEADLINES_RESYNC=]
	@if [ -z "$(strip $(ALARM_ARGS))" ] || [ "$(ALARM_EMAIL)" = "$(SYNTH_ONLY_ALARM_EMAIL)" ]; then \
	  echo "make deploy: give ALARM_EMAIL=<address> and/or ALARM_TOPIC_ARN=<existing SNS topic ARN>: alarms need an owner (docs/RUNBOOK.md)" >&2; \
	  exit 2; fi
	node_modules/.bin/cdk deploy --no-notices -c season=$(SEASON) $(ALARM_ARGS) \
	  $(if $(DEADLINES_RESYNC),-c deadlines_resync=$(DEADLINES_RESYNC))

openapi: setup ## Regenerate docs/openapi.json and docs/agency-api.yaml from the models
	$(BIN)/enroll openapi > docs/openapi.json
	$(BIN)/enroll agency-api > docs/agency-api.yaml

lock: ## Re-pin requirements/dev.txt and checkov.txt from their .in files
	$(PYTHON) -m venv build/lockenv && build/lockenv/bin/pip install -q -r requirements/dev.in \
	  && build/lockenv/bin/pip freeze --exclude-editable > requirements/dev.txt
	rm -rf build/lock-checkov && $(PYTHON) -m venv build/lock-checkov \
	  && build/lock-checkov/bin/pip install -q -r requirements/checkov.in \
	  && build/lock-checkov/bin/pip freeze --exclude-editable > requirements/checkov.txt

clean: ## Remove build output (keeps .venv)
	rm -rf build cdk.out test-output demo-out .pytest_cache .mypy_cache .ruff_cache

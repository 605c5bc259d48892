# Agora: every target is listed by `make help`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
export UV_PYTHON_DOWNLOADS := never

SERVICES := gateway registry auth executor tool analytics vetting
PROJECT_ID ?= $(shell gcloud config get-value project 2>/dev/null)
REGION ?= us-central1
TAG ?= $(shell git rev-parse --short HEAD)
IMAGE_REPO = $(REGION)-docker.pkg.dev/$(PROJECT_ID)/agora

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: install
install: ## Install everything the fleet and the tests need (uv, workspace, npm, redis)
	@./scripts/bootstrap.sh

.PHONY: dev
dev: install web-build ## Run the whole fleet and the console locally on the emulators (console at http://localhost:5000)
	uv run --frozen python -m agora_devstack.fleet

.PHONY: emulators
emulators: install ## Run only the local emulator suite (Firestore, Auth, BigQuery, Cloud Tasks, Cloud Storage, Redis)
	uv run --frozen python -m agora_devstack.emulators

.PHONY: lint
lint: ## ruff check and ruff format --check
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .

.PHONY: format
format: ## Format and auto-fix the code
	uv run --frozen ruff format .
	uv run --frozen ruff check --fix .

.PHONY: typecheck
typecheck: ## Strict type check of the shared libraries and every service
	uv run --frozen mypy libs/common/src libs/agent-sdk/src services/*/src

.PHONY: pytest
pytest: ## The pytest suite (starts its own emulators on free ports)
	uv run --frozen pytest

.PHONY: web-build
web-build: ## Build the web console into web/dist (type check included)
	npm --prefix web run --silent build

.PHONY: web-test
web-test: ## The console's unit tests (Vitest) and its first-page size budget
	npm --prefix web run --silent test
	npm --prefix web run --silent size

.PHONY: test
test: install lint typecheck web-build web-test pytest ## Everything CI runs: lint, type check, the console, the whole suite

.PHONY: check
check: test ## Alias of test

.PHONY: bench
bench: bench-gateway bench-execute bench-analytics ## Every benchmark (results go in docs/benchmarks.md)

.PHONY: wrk
wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "wrk is missing: apt-get install wrk"; exit 2; }

.PHONY: bench-gateway
bench-gateway: install wrk ## The same registry read, direct and through the gateway
	PYTHONPATH=. uv run --frozen python bench/gateway/run.py

.PHONY: bench-execute
bench-execute: install wrk ## A QuantFlow tool, direct and through gateway + executor
	PYTHONPATH=. uv run --frozen python bench/execute/run.py

.PHONY: bench-analytics
bench-analytics: install ## Analytics ingestion throughput and query latency (100,000 events)
	PYTHONPATH=. uv run --frozen python bench/analytics/run.py

.PHONY: bench-http-clients
bench-http-clients: install ## Outbound HTTP clients: CPU per request and p50, one upstream, interleaved
	PYTHONPATH=. uv run --frozen python bench/http_clients/run.py

.PHONY: deploy-%
deploy-%: ## Build, push and deploy one service to Cloud Run (e.g. make deploy-registry)
	@[[ " $(SERVICES) " == *" $* "* ]] || { echo "unknown service '$*' (one of: $(SERVICES))"; exit 2; }
	@[ -n "$(PROJECT_ID)" ] || { echo "set PROJECT_ID (or gcloud config set project)"; exit 2; }
	gcloud builds submit --project $(PROJECT_ID) --config infra/cloudbuild.yaml \
	  --substitutions _SERVICE=$*,_IMAGE=$(IMAGE_REPO)/$*:$(TAG) .
	gcloud run deploy agora-$* --project $(PROJECT_ID) --region $(REGION) \
	  --image $(IMAGE_REPO)/$*:$(TAG) --quiet

.PHONY: deploy-web
deploy-web: install web-build ## Deploy the console to Firebase Hosting (needs FIREBASE_API_KEY)
	@[ -n "$(PROJECT_ID)" ] || { echo "set PROJECT_ID (or gcloud config set project)"; exit 2; }
	@[ -n "$(FIREBASE_API_KEY)" ] || { echo "set FIREBASE_API_KEY (the project's web API key)"; exit 2; }
	PROJECT_ID=$(PROJECT_ID) uv run --frozen python -m agora_devstack.web_config > web/dist/config.json
	npx firebase deploy --only hosting --project $(PROJECT_ID) --non-interactive

.PHONY: deploy
deploy: $(addprefix deploy-,$(SERVICES)) deploy-web ## Deploy every service and the console

.PHONY: clean
clean: ## Remove local state (emulator logs, dev keys) and caches
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache

# Better Work platform. `make run` starts everything; `make test` runs every test.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PACKAGES := contracts libs/servicekit libs/messaging libs/devstack \
            services/registry services/assessments services/advisory \
            services/partnerships services/invoicing services/transparency
STAMP  := $(VENV)/.installed
CHROMIUM := $(VENV)/.chromium
# the portal's browser test drives Debian's chromium; nothing may download a browser of its own
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install run demo test lint typecheck contracts bench clean

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing dependencies into $(VENV) (first time only)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps $(addprefix -e ,$(PACKAGES))
	@touch $@

$(CHROMIUM): $(STAMP)
	@{ test -x /usr/bin/chromium && dpkg -s fonts-khmeros >/dev/null 2>&1; } || { echo "Installing Debian's chromium (the portal's browser test)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-khmeros; }
	@touch $@

install: $(STAMP) $(CHROMIUM) ## one virtual environment: every service and lib, the test tools and the CLI

run: $(STAMP) ## the whole platform: Postgres, broker, migrations, six services
	@$(BIN)/betterwork run

demo: $(STAMP) ## load a Cambodian demo programme into the running `make run` (DEMO_ARGS="--factories 50 --seed 7")
	@$(BIN)/betterwork demo $(DEMO_ARGS)

test: $(STAMP) $(CHROMIUM) lint typecheck ## every test: lint, types, then libs, services and tests/ (real Postgres, real broker)
	@$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	@$(BIN)/ruff check contracts libs services tests bench deploy
	@$(BIN)/ruff format --check contracts libs services tests bench deploy

typecheck: $(STAMP)
	@$(BIN)/mypy
	@$(BIN)/mypy --explicit-package-bases -p deploy.tooling

contracts: $(STAMP) ## regenerate contracts/ (event schemas, AsyncAPI, OpenAPI) from the code
	@$(BIN)/betterwork-contracts
	@$(BIN)/betterwork openapi

bench: $(STAMP) ## benchmarks that print their figures (several minutes; nothing else should run meanwhile)
	@$(BIN)/python bench/memory_default_run.py
	@$(BIN)/python bench/event_latency.py
	@$(BIN)/python bench/relay_throughput.py
	@$(BIN)/python bench/consumer_throughput.py
	@$(BIN)/python bench/matching_quality.py
	@$(BIN)/python bench/matching_import.py
	@$(BIN)/python bench/registry_load.py
	@$(BIN)/python bench/assessments_load.py
	@$(BIN)/python bench/alert_latency.py
	@$(BIN)/python bench/webhook_delivery.py
	@$(BIN)/python bench/invoice_numbering.py
	@$(BIN)/python bench/idle_cpu.py
	@$(BIN)/python bench/edge_ratio.py
	@$(BIN)/python bench/advisory_plan_latency.py
	@$(BIN)/python bench/advisory_pr_pdf.py
	@$(BIN)/python bench/advisory_xapi.py
	@$(BIN)/python bench/transparency_release.py
	@$(BIN)/python bench/transparency_edge.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

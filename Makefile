# Sales audit workbook. `make help` lists the targets. Every target creates .venv when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= data/demo
QUARTER ?= latest
PAPER ?= A4
REP_SCORECARDS ?= 0
SEED ?= 7
# the planner app (make planner): its port on 127.0.0.1, and the notebook papermill writes for DATA and QUARTER
PORT ?= 8866
PLANNER := .cache/planner/planner.ipynb
PYTEST_ARGS ?=
# pytest-xdist workers (auto: one per core); a test file stays on one worker (--dist loadfile), files start in
# the order of tests/conftest.py (longest first: --no-loadscope-reorder keeps it)
PYTEST_WORKERS ?= auto

.DEFAULT_GOAL := help
.PHONY: help setup syslibs import demo-data quarterly-report lint-report all-quarters test test-fast lint format lab planner planner-notebook validate bench-report bench-scale bench-planning clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'
	@echo "  Variables: DATA=$(DATA) QUARTER=$(QUARTER) PAPER=$(PAPER) (A4|letter) REP_SCORECARDS=$(REP_SCORECARDS) (1: reports/<Q>/reps/) SEED=$(SEED) PORT=$(PORT) (planner) SLICE= SLICES="

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (salesaudit)" >/dev/null
	@touch $(STAMP)

syslibs: ## Check the system libraries WeasyPrint needs (pango); install them with apt-get when possible
	@bash scripts/check-syslibs.sh

setup: $(STAMP) syslibs ## Create .venv and install the pinned packages and the salesaudit package

$(DATA)/leads.csv:
	@if [ "$(DATA)" = "data/demo" ]; then $(MAKE) --no-print-directory demo-data; \
	elif [ ! -e "$(DATA)/leads.parquet" ]; then echo "$(DATA): no leads.csv or leads.parquet (set DATA to a data folder)"; exit 2; fi

demo-data: $(STAMP) ## Generate the simulated demo company into data/demo (SEED=7)
	$(PY) -m salesaudit demo-data --out data/demo --seed $(SEED)

import: $(STAMP) ## Import CRM exports: make import FROM=hubspot SRC="contacts.csv deals.csv" OUT=data/acme
	@test -n "$(FROM)" -a -n "$(OUT)" || { echo "usage: make import FROM=hubspot|salesforce|pipedrive|mapping.yaml SRC='files or folders' OUT=data/<name> (SRC may be left out when the mapping reads only databases)"; exit 2; }
	$(PY) -m salesaudit import --from $(FROM) $(SRC) --out $(OUT)

validate: $(STAMP) $(DATA)/leads.csv ## Validate DATA against the data contract
	$(PY) -m salesaudit validate $(DATA)

quarterly-report: setup $(DATA)/leads.csv ## Build reports/<QUARTER>/ HTML + PDF (default: demo company, latest complete quarter); SLICE="country=Germany" for one slice, SLICES=1 for the audit.yaml slices; REUSE=0 executes every notebook
	$(PY) -m salesaudit report --data $(DATA) --quarter $(QUARTER) --paper $(PAPER) $(if $(filter 1,$(REP_SCORECARDS)),--rep-scorecards) $(if $(SLICE),--slice "$(SLICE)") $(if $(SLICES),--slices) $(if $(filter 0,$(REUSE)),--no-reuse)

lint-report: $(STAMP) ## Check a built report for broken tokens, claims without n, demo words, empty charts: make lint-report REPORT=reports/2026Q3
	@test -n "$(REPORT)" || { echo "usage: make lint-report REPORT=reports/<quarter>"; exit 2; }
	$(PY) -m salesaudit lint $(REPORT)

all-quarters: setup $(DATA)/leads.csv ## Build the report for every complete quarter in DATA
	$(PY) -m salesaudit report --data $(DATA) --all-quarters --paper $(PAPER)

test: setup ## Run the whole test suite (slow, browser and PostgreSQL tests included)
	@bash scripts/ensure-chromium.sh
	@bash scripts/ensure-postgres.sh
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

test-fast: setup ## Run the fast tests only
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint + format check, and check notebooks are stripped of outputs
	$(VENV)/bin/ruff check lib tests bench
	$(VENV)/bin/ruff format --check lib tests bench
	$(PY) -m pytest -q tests/test_notebooks_clean.py

format: $(STAMP) ## Format the code with ruff and strip notebook outputs
	$(VENV)/bin/ruff format lib tests bench
	$(VENV)/bin/ruff check --fix lib tests bench
	$(VENV)/bin/nbstripout notebooks/*.ipynb

lab: setup $(DATA)/leads.csv ## Open JupyterLab on the notebooks, auditing DATA and QUARTER (exported as SALESAUDIT_DATA, SALESAUDIT_QUARTER)
	SALESAUDIT_DATA="$(abspath $(DATA))" SALESAUDIT_QUARTER="$(QUARTER)" $(VENV)/bin/jupyter lab --notebook-dir=. $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) notebooks/

planner-notebook: $(STAMP) $(DATA)/leads.csv ## Write the planner notebook for DATA and QUARTER to .cache/planner/ (papermill --prepare-only: parameters set, not run)
	@mkdir -p $(dir $(PLANNER))
	$(PY) -m papermill --prepare-only --log-level WARNING notebooks/planner.ipynb $(PLANNER) -p data_dir "$(abspath $(DATA))" -p quarter "$(QUARTER)"

planner: planner-notebook ## Serve the what-if and target planner (Voilà) on http://127.0.0.1:PORT (default 8866) for DATA and QUARTER
	MPLBACKEND=module://matplotlib_inline.backend_inline $(VENV)/bin/voila $(PLANNER) --port=$(PORT) --no-browser --Voila.ip=127.0.0.1 --show_tracebacks=False

bench-report: setup $(DATA)/leads.csv ## Benchmark the demo report (cold and warm cache): time per phase, peak memory
	$(PY) bench/bench_report.py --data $(DATA) $(if $(AGAINST),--against $(AGAINST))

bench-scale: setup ## Benchmark the report at 250k, 1M and 5M generated leads (SIZES="250000 1000000" for a subset; AGAINST=<checkout> for ratios)
	$(PY) bench/bench_scale.py $(if $(SIZES),--sizes $(SIZES)) $(if $(AGAINST),--against $(AGAINST))

bench-planning: setup ## Benchmark the what-if slider recompute step
	$(PY) bench/bench_planning.py --data $(DATA)

clean: ## Remove caches and built reports (keeps .venv and data)
	rm -rf .cache reports/20* reports/.failed .pytest_cache .ruff_cache

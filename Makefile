# Two commands set up and run everything: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# make demo-events: the package the README walkthrough enters (make demo-events AGENCY=0123 OFFICERS=A1111,B2222)
AGENCY ?= 9000
OFFICERS ?= A1234,B2345

.PHONY: run test test-fast lint playground demo demo-events demo-clean screenshots package bench soak clean migrate-to-postgres

$(VENV)/.run-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.run-installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

## Start the bot on PORT (3978) with TinyDB under DATA_DIR (./data); local mode without MicrosoftAppId.
run: $(VENV)/.run-installed
	$(PY) app.py

## Install what the tests need (venv, pip, npm, Debian chromium and postgresql), lint, and run the whole suite.
test: $(VENV)/.dev-installed node_modules/.installed lint
	bash tools/install_test_prereqs.sh
	$(PY) -m pytest

## The suite without the end-to-end and process tiers (quick feedback while coding).
test-fast: $(VENV)/.dev-installed
	$(PY) -m pytest -m "not e2e and not process and not soak"

## Lint, format check, type check and the layer rules: ruff, mypy (pyproject.toml), no import cycles (tests/foundation/test_layers.py).
lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -q --no-header -p no:cacheprovider tests/foundation/test_layers.py

## The Microsoft 365 Agents Playground against the bot at http://127.0.0.1:$${PORT:-3978}/api/messages.
playground: node_modules/.installed
	TEAMSAPPTESTER_BROWSER=none npx agentsplayground -e http://127.0.0.1:$${PORT:-3978}/api/messages -c msteams -p 56150 --disable-telemetry

## The whole SOP on this machine as two people: the bot (local mode, ./demo-data) and two Agents Playgrounds, Pat Poc on :56150 and Jamie Staff (JB) on :56151. Ctrl-C stops them.
demo: $(VENV)/.run-installed node_modules/.installed
	$(PY) -m tools.demo

## A month of e-tickets for the demo package through the signed intake API, each explained as it is sent (AGENCY, OFFICERS).
demo-events: $(VENV)/.run-installed
	$(PY) -m intake.demo_events --agency $(AGENCY) --officers $(OFFICERS) \
	  --url http://127.0.0.1:$${PORT:-3978}/api/ticket-events --secret-file $${DEMO_DATA:-demo-data}/intake-secret

## Forget the demo: its store, intake secret and logs (./demo-data).
demo-clean:
	rm -rf demo-data

## Run the end-to-end tier and copy its screenshots (build/e2e/*.png) to docs/, where the README shows them.
screenshots: $(VENV)/.dev-installed node_modules/.installed
	bash tools/install_test_prereqs.sh e2e
	rm -rf build/e2e
	CI=true $(PY) -m pytest -m e2e
	mkdir -p docs
	rm -f docs/*.png
	cp build/e2e/*.png docs/

## Copy the embedded store under DATA_DIR into the empty PostgreSQL database at DATABASE_URL and check the counts (stop the bot first).
migrate-to-postgres: $(VENV)/.run-installed
	$(PY) -m tools.migrate_to_postgres

## The Teams app package build/jb-eticket-bot.zip (needs MicrosoftAppId).
package: $(VENV)/.run-installed node_modules/.installed
	$(PY) -m manifest.build

## Echo bot vs our bot; the intake at 0 / 10,000 / 100,000 stored events and at 1,000,000 (ten years, archived); PostgreSQL with 1 and 2 replicas; writes build/bench.json (~6 min).
bench: $(VENV)/.dev-installed
	$(PY) -m bench

## Long fault, load and property runs: 60 s of load, 20x hypothesis examples, the crash tests.
soak: $(VENV)/.dev-installed
	SOAK=1 HYPOTHESIS_PROFILE=soak $(PY) -m pytest tests/security tests/process -m "not e2e"

## Import the existing roster into DATA_DIR while the bot is stopped: FILE=roster.xlsx (or .csv); DRY_RUN=1 checks only.
.PHONY: import-roster
import-roster: $(VENV)/.run-installed
	@test -n "$(FILE)" || { echo "usage: make import-roster FILE=roster.xlsx [DRY_RUN=1]" >&2; exit 2; }
	$(PY) -m exports.roster_import $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run) "$(FILE)"

clean:
	rm -rf build .pytest_cache

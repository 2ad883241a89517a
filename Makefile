# MagFlow eMAG Sync. `make run` starts everything locally; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast smoke bench production-check soak schema screenshots lint audit format messages venv clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

## Start the eMAG sandbox (unless real credentials are configured), web, worker and beat.
run: venv
	$(PY) scripts/run.py

## Run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
test: venv
	$(PY) -m pytest

## Run the suite without the tests marked slow (subprocesses, servers, browsers): about 2 minutes.
test-fast: venv
	$(PY) -m pytest -m "not slow"

## Start the embedded profile, sync both accounts once, call the app, stop (under 2 minutes).
smoke: venv
	$(PY) scripts/smoke.py

## Measure syncs against the sandbox on the real PostgreSQL; writes docs/PERFORMANCE.md.
bench: venv
	$(PY) scripts/bench.py

## Run the production profile natively for one sync: gunicorn, worker and beat on PostgreSQL
## and Redis with DEBUG=0 (needs DATABASE_URL and REDIS_URL; under a minute).
production-check: venv
	$(PY) scripts/production_check.py

## Chaos soak of the production profile for SOAK_MINUTES (default 20): faults, drift, kills,
## restarts; then checks that nothing was lost (needs DATABASE_URL and redis-server; not in make test).
soak: venv
	$(PY) scripts/soak.py

## Save the README's admin screenshots under docs/screenshots/ (needs chromium; not in make test).
screenshots: venv
	$(PY) scripts/screenshots.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit --quiet --recursive emag_sync magflow scripts --exclude emag_sync/migrations
	$(VENV)/bin/mypy
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

## Check the installed dependencies for known vulnerabilities (pip-audit, PyPI's advisory data).
## Says "service unreachable" and exits 0 where PyPI cannot be asked; exits 1 on vulnerabilities.
## Not in CI: it needs the network.
audit: venv
	$(PY) scripts/audit.py

## Regenerate the committed OpenAPI schemas, v2 and v1 (a test fails when one drifts from the code).
schema: venv
	$(PY) manage.py spectacular --lang en --validate --fail-on-warn --urlconf magflow.urls_api_v2 --file docs/openapi.yaml
	$(PY) manage.py spectacular --lang en --validate --fail-on-warn --urlconf magflow.urls_api_v1 \
		--custom-settings emag_sync.api.v1.schema.SCHEMA_SETTINGS --file docs/openapi-v1.yaml

## Refresh the translation catalogues under locale/ from the marked strings (Python, templates,
## the dashboard's JavaScript) and compile them (needs GNU gettext; the compiled .mo files are
## committed, so running the app never does). Then translate what is new in locale/ro/.
messages: venv
	$(PY) manage.py makemessages --locale ro --no-obsolete --ignore ".venv/*" --ignore "var/*" --ignore "tests/*"
	$(PY) manage.py makemessages --locale ro --no-obsolete --domain djangojs --ignore ".venv/*" --ignore "var/*" --ignore "tests/*" --ignore "static/api/*"
	$(PY) manage.py compilemessages --locale ro

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/test-db.sqlite3* var/celery

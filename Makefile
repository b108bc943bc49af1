# Samhandling — developer commands. `make run` for the demo, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_ENV := DJANGO_DEMO=1 DJANGO_DEBUG=1
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: install install-dev system-deps browser run log-header lint test test-fast migrate seed lock messages makemessages check-deploy clean

# --- installation -------------------------------------------------------------------------
# `install`: the production pins only (what the Dockerfile installs). `install-dev`: those plus the
# test and development tools of requirements-dev.txt (pytest, Playwright, factory_boy, Faker,
# time-machine, Hypothesis, import-linter), for the tests and the demo.
$(VENV)/.installed-prod: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-prod requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed-prod

install-dev: $(VENV)/.installed-dev

# Debian packages the tests need: Chromium for the end-to-end tests, gettext for translations,
# Node's npm for axe-core. Installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --silent
	@touch $@

browser: system-deps node_modules/axe-core/axe.min.js

messages: install
	DJANGO_EMBEDDED=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v0

# Collect new and changed strings into locale/nb (both domains); translate them, then `make messages`.
# tests/test_i18n_catalogue.py runs the same on a copy and fails on any untranslated or fuzzy entry.
MESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=.venv-lock --ignore=staticfiles --ignore=var
makemessages: install
	DJANGO_EMBEDDED=1 $(PY) manage.py makemessages -l nb -d django $(MESSAGES_IGNORE)
	DJANGO_EMBEDDED=1 $(PY) manage.py makemessages -l nb -d djangojs $(MESSAGES_IGNORE)

# --- the demo -----------------------------------------------------------------------------
# The demo seeds its history with time-machine, a development tool.
migrate: install-dev
	@mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate -v0

# seed_insights_demo after seed_demo: the areas and a year of history for the SLT insights (workflows
# cannot import insights, so seed_demo cannot call it).
seed: migrate
	$(DEMO_ENV) $(PY) manage.py seed_demo
	$(DEMO_ENV) $(PY) manage.py seed_insights_demo

# Web + a Celery worker per queue + beat on the embedded default: SQLite and kombu's filesystem broker
# (which keeps the queues apart in one folder: a message's file name ends in <queue>.msg).
# The logins are printed from the seeded data (manage.py demo_logins), so the list cannot go stale.
# The workers and beat run under tools/supervise.py, which restarts one that exits (a worker can end
# on a broker fault, issue 12), notes each restart in that process's log, and stops them all on Ctrl-C.
# The logs keep the earlier runs: each run appends under a dated header.
LOG_DIR ?= var/log
CELERY_LOGS := worker-sweeps worker-mail beat
run: seed messages log-header
	@mkdir -p var/broker/out var/broker/processed var/broker/control
	@echo ""
	@echo "  Samhandling runs at  http://127.0.0.1:$(PORT)/"
	@$(DEMO_ENV) $(PY) manage.py demo_logins | sed 's/^/  /'
	@echo "  The workers (queues sweeps and mail) and beat append to $(LOG_DIR)/worker-sweeps.log,"
	@echo "  worker-mail.log and beat.log, and are restarted if they exit. Stop with Ctrl-C."
	@echo ""
	@trap 'trap - EXIT INT TERM; kill 0' EXIT INT TERM; \
	$(DEMO_ENV) $(PY) tools/supervise.py \
	  --program worker-sweeps $(LOG_DIR)/worker-sweeps.log "$(VENV)/bin/celery -A config worker -Q sweeps -n sweeps@%h --pool=solo -l info" \
	  --program worker-mail $(LOG_DIR)/worker-mail.log "$(VENV)/bin/celery -A config worker -Q mail -n mail@%h --pool=solo -l info" \
	  --program beat $(LOG_DIR)/beat.log "$(VENV)/bin/celery -A config beat -l info -s var/celerybeat-schedule" & \
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

log-header:
	@mkdir -p $(LOG_DIR)
	@for log in $(CELERY_LOGS); do echo "==== make run, $$(date -u '+%Y-%m-%d %H:%M:%S UTC') ====" >> $(LOG_DIR)/$$log.log; done

# --- tests --------------------------------------------------------------------------------
# The import contracts of design.md ("Import direction"): .importlinter for which app imports
# which, tools/lint_private_imports.py for private names. A violation fails `make test`.
lint: install-dev
	$(VENV)/bin/lint-imports --no-logo
	$(PY) tools/lint_private_imports.py

# The whole suite. With DATABASE_URL / REDIS_URL set (as .ci/run does) it runs on PostgreSQL and
# Redis; without them on SQLite, where the tests that need those services say so and skip
# (in CI, where CI=true, such a skip is a failure instead).
test: install-dev lint browser messages
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) -m pytest $(PYTEST_ARGS)

check-deploy: install
	DJANGO_SECRET_KEY=$$(head -c 64 /dev/urandom | base64 | tr -d '\n/+=' | head -c 64) \
	DATABASE_URL=sqlite:///var/check.sqlite3 CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \
	DJANGO_ALLOWED_HOSTS=samhandling.example.no SITE_URL=https://samhandling.example.no \
	$(PY) manage.py check --deploy --fail-level WARNING

# Both pinned files, each from a fresh virtualenv: requirements.txt from requirements.in alone (so
# no test tool slips into production), requirements-dev.txt the rest of requirements-dev.in.
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q -r requirements.in
	(echo "# Production pins, by pip freeze from requirements.in; regenerate with: make lock"; \
	 $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable) > requirements.txt
	$(LOCK_VENV)/bin/python -m pip install -q -r requirements-dev.in -c requirements.txt
	(echo "# Test and development tools on top of the production pins, by pip freeze from requirements-dev.in;"; \
	 echo "# regenerate with: make lock"; echo "-r requirements.txt"; \
	 $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable | grep -vxFf requirements.txt) > requirements-dev.txt
	rm -rf $(LOCK_VENV)

clean:
	rm -rf var staticfiles .pytest_cache .import_linter_cache $(LOCK_VENV)

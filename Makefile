# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Redis for rate limits shared by the workers of `make run`, used when it answers.
REDIS_URL ?= redis://127.0.0.1:6379/0
# Plugins that ship in plugins/ (installed into the venv as separate distributions).
PLUGIN_DIRS := $(wildcard plugins/*/pyproject.toml)
# Plugins `make run` enables unless PORTAL_PLUGINS says otherwise (the 1C demo shows up).
RUN_PLUGINS ?= onec

.PHONY: run test test-sqlite test-postgres lint bench bench-whmcs bench-reports faults translations messages install install-dev wheel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24,<27"

# Re-install only when the dependency declarations change.
.make-install.stamp: $(BIN)/python setup.cfg setup.py pyproject.toml $(PLUGIN_DIRS)
	$(BIN)/pip install --quiet -e . $(foreach p,$(PLUGIN_DIRS),-e $(dir $(p)))
	touch $@

.make-install-dev.stamp: .make-install.stamp
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: .make-install.stamp translations
install-dev: .make-install-dev.stamp translations

translations: .make-install.stamp
	@$(BIN)/pybabel -q compile -d portal/translations
	@for dir in plugins/*/portal_*/translations; do \
		$(BIN)/pybabel -q compile -d $$dir -D $$(basename $$(dirname $$dir)); done

# Rate limits need one count for all workers (docs/security.md): two workers sharing Redis
# when it answers, else one worker (its threads share its memory), never memory per worker.
run: export PORTAL_PLUGINS ?= $(RUN_PLUGINS)
run: install
	PORTAL_SESSION_COOKIE_SECURE=0 $(BIN)/portal db upgrade
	PORTAL_SESSION_COOKIE_SECURE=0 $(BIN)/portal demo
	@echo "Portal: http://$(HOST):$(PORT)/  (admin area: http://$(HOST):$(PORT)/admin/)"
	@redis_url="$${PORTAL_REDIS_URL:-$(REDIS_URL)}"; \
	if $(BIN)/python -c "import redis, sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()" "$$redis_url" 2>/dev/null; then \
		echo "Rate limits in Redis at $$redis_url; 2 workers"; \
		export PORTAL_REDIS_URL="$$redis_url" PORTAL_RATELIMIT_STORAGE_URI="$$redis_url"; workers="--workers 2"; \
	else \
		echo "Redis does not answer at $$redis_url: 1 worker, rate limits in its memory"; \
		unset PORTAL_REDIS_URL; workers="--workers 1 --threads 4"; \
	fi; \
	PORTAL_SESSION_COOKIE_SECURE=0 PORTAL_EMBEDDED_SCHEDULER=1 exec $(BIN)/gunicorn --bind $(HOST):$(PORT) $$workers \
		--access-logfile - wsgi:app

# Whole suite on SQLite, then on PostgreSQL when one answers (required when PORTAL_REQUIRE_POSTGRES=1).
test: install-dev
	$(BIN)/python -m portal.testing.run

test-sqlite: install-dev
	$(BIN)/python -m portal.testing.run --only sqlite

test-postgres: install-dev
	$(BIN)/python -m portal.testing.run --only postgres

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: install-dev
	@for f in $(filter-out bench/faults.py bench/whmcs_import.py bench/reports.py,$(wildcard bench/*.py)); do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# The core reports on 100 000 clients and 1 000 000 invoices, on PostgreSQL (docs/reports.md);
# the seeded database is kept between runs: BENCH_REPORTS_ARGS="--reseed" builds it again.
bench-reports: install-dev
	$(BIN)/python bench/reports.py $(BENCH_REPORTS_ARGS)

# Issue #14's fault scenarios on PostgreSQL (docs/development.md, "Faults"); FAULTS_ARGS="--clients 10000".
faults: install-dev
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

# `portal import whmcs` of 10 000 clients and 100 000 invoices from MariaDB into PostgreSQL
# (docs/migrating-from-whmcs.md); WHMCS_ARGS="--sqlite" or "--clients 1000 --invoices 10000".
bench-whmcs: install-dev
	$(BIN)/python bench/whmcs_import.py $(WHMCS_ARGS)

# A self-contained wheel in dist/ (migrations, default theme, compiled catalogues inside); the
# same as a plain `pip wheel --no-deps -w dist .` in a clean clone.
wheel: $(BIN)/python
	$(BIN)/pip wheel --quiet --no-deps -w dist .

clean:
	rm -rf $(VENV) .make-*.stamp build dist

# Extract messages and update both catalogues (then translate the new Russian entries).
messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching
	rm portal/translations/messages.pot
	@for plugin in plugins/*/; do domain=$$(basename $$plugin/portal_*); \
		(cd $$plugin && ../../$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 \
			-o $$domain/translations/$$domain.pot . && \
		../../$(BIN)/pybabel update -D $$domain -i $$domain/translations/$$domain.pot \
			-d $$domain/translations --no-fuzzy-matching && rm $$domain/translations/$$domain.pot); done

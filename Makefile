# Lien — developer commands. `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_ENV := DEBUG=true HOME_STRUCTURE=$${HOME_STRUCTURE-villebrie}

# Both cores by default (pytest-xdist); `make test PYTEST_ARGS=tests/test_slots.py` runs one file.
PYTEST_ARGS ?= -n 2
# The instants CI runs the fast suite at (time-machine, tests/conftest.py): the nights of both
# DST changes in Paris, New Year's Eve in Paris, 29 February, a Sunday just before midnight
# (the clock ticks: the run crosses into Monday, the week's first day).
DATE_MATRIX := 2027-03-28T01:59:30+01:00 2027-10-31T02:59:30+02:00 2026-12-31T23:30:00+01:00 \
	2028-02-29T10:00:00+01:00 2027-01-10T23:59:00+01:00

.PHONY: run test test-dates lint format typecheck bench worker install lock clean messages

# Installs exactly what the lock file pins, each file checked against its hash, then Lien itself
# without looking at its dependencies again. Re-run when pyproject.toml or a lock file changes.
$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Resolves pyproject.toml into the lock files with the hashes of every release file, keeping each
# pin that still fits: requirements-dev.lock (runtime + dev), then requirements.lock (runtime,
# held to the same versions). `make lock LOCK_ARGS=--upgrade` moves to the newest releases allowed.
LOCK_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock"

lock: $(STAMP)
	$(LOCK_COMPILE) --extra dev -o requirements-dev.lock $(LOCK_ARGS)
	$(LOCK_COMPILE) -c requirements-dev.lock -o requirements.lock $(LOCK_ARGS)

run: $(STAMP)
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py load_demo
	@echo ""
	@echo "Lien tourne sur http://127.0.0.1:8000  (espace équipe : http://127.0.0.1:8000/equipe/)"
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	DEBUG=true $(PY) -m pytest $(PYTEST_ARGS)

# The fast suite (no browser, no date-independent slow tests) as if run at each instant.
test-dates: $(STAMP)
	@for now in $(DATE_MATRIX); do \
		echo "=== LIEN_TEST_NOW=$$now"; \
		LIEN_TEST_NOW=$$now DEBUG=true $(PY) -m pytest -q -n 2 -m "not browser and not slow" \
			|| exit 1; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	DEBUG=true $(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/run.py

worker: $(STAMP)
	$(DEV_ENV) $(PY) manage.py run_worker

messages: $(STAMP)
	DEBUG=true $(PY) manage.py makemessages -l fr --ignore ".venv/*" --ignore "tests/*" --ignore "bench/*"
	DEBUG=true $(PY) manage.py fill_plural_forms
	DEBUG=true $(PY) manage.py compilemessages -l fr --ignore ".venv/*"

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

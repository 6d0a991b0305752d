# Lien — developer commands. `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_ENV := DEBUG=true HOME_STRUCTURE=$${HOME_STRUCTURE-villebrie}

.PHONY: run test lint format bench worker install clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py load_demo
	@echo ""
	@echo "Lien tourne sur http://127.0.0.1:8000  (espace équipe : http://127.0.0.1:8000/equipe/)"
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	DEBUG=true $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

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

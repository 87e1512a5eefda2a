# Xinsheng: the commands the README promises.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo run test check lint format messages clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The embedded first look: SQLite, tasks inline, demo data, the server on 127.0.0.1:8000.
demo: export DATABASE_URL :=
demo: export CELERY_BROKER_URL :=
demo: export DJANGO_DEBUG := 1
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Open http://127.0.0.1:8000/admin/ and log in as one of the demo users above."
	$(PY) manage.py runserver 127.0.0.1:8000

run: install
	$(PY) manage.py runserver 127.0.0.1:8000

# Tests use PostgreSQL when DATABASE_URL points at it (CI does), SQLite otherwise.
test: install
	$(PY) -m pytest

check: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

lint: check

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Regenerate the translation catalogue (needs GNU gettext) and compile it; both are committed.
messages: install
	$(PY) manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'tests/*'
	$(PY) manage.py compilemessages --locale zh_Hans --ignore '.venv/*'

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache

# Xinsheng: the commands the README promises.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo run worker beat test check check-deploy lint format messages clean bench \
	backup restore

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

# With CELERY_BROKER_URL set (e.g. redis://127.0.0.1:6379/0): the task worker and the
# schedule (last month's report at 02:00 Asia/Shanghai on the 1st). Run exactly one beat.
worker: install
	$(VENV)/bin/celery -A config worker -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

# Tests use PostgreSQL when DATABASE_URL points at it (CI does), SQLite otherwise; one
# worker per core (TEST_WORKERS=0 runs them in this process, as plain `pytest` does).
TEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(TEST_WORKERS)

check: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

# The production settings pass Django's deployment checks (a throwaway key, never used).
check-deploy: install
	DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=xinsheng.example.gov.cn \
	DJANGO_SECRET_KEY=$$($(PY) -c "import secrets; print(secrets.token_urlsafe(64))") \
	$(PY) manage.py check --deploy --fail-level WARNING

lint: check

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Regenerate the translation catalogue (needs GNU gettext) and compile it; both are committed.
messages: install
	$(PY) manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'tests/*'
	$(PY) manage.py compilemessages --locale zh_Hans --ignore '.venv/*'

# Backups (PostgreSQL only): the database of DATABASE_URL (pg_dump) and DJANGO_MEDIA_ROOT in
# one archive, $(BACKUP_DIR)/xinsheng-YYYYmmdd-HHMMSS.tar. `make restore FILE=…` puts one
# back into the empty database of DATABASE_URL (FORCE=1 replaces a database that is not
# empty) and checks every table's rows against the archive. See README, Backup and restore.
BACKUP_DIR ?= backups

backup: install
	$(PY) manage.py backup --output-dir "$(BACKUP_DIR)"

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=$(BACKUP_DIR)/xinsheng-YYYYmmdd-HHMMSS.tar [FORCE=1]" >&2; exit 2; }
	$(PY) manage.py restore $(if $(FORCE),--force) "$(FILE)"

# Benchmarks at city scale against their targets (bench/; figures in bench/results/*.json,
# read in docs/performance.md). Needs PostgreSQL and Redis on 127.0.0.1; creates the
# databases xinsheng_bench and xinsheng_bench_district, loads the city once and reuses it.
# Never part of `make test`. One benchmark: `$(PY) bench/run.py pages`.
BENCH_STAMP := $(VENV)/.bench-stamp

bench: install $(BENCH_STAMP)
	$(PY) bench/run.py

$(BENCH_STAMP): pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache

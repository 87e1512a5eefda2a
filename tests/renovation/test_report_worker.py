"""End to end: the report task through a real Celery worker, on Redis and PostgreSQL, to the
stored file. Runs wherever both services answer; in CI (CI=true) a missing one fails."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openpyxl
import pytest
from django.db import connection

from config.celery import app
from renovation.models import MonthlyReport
from renovation.selectors.report import Month
from renovation.services import report_request
from renovation.tasks import build_monthly_report

BROKER = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/15"
ROOT = Path(__file__).resolve().parents[2]


def _redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


def _services_or_skip() -> None:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (set DATABASE_URL)")
    if not _redis_answers():
        missing.append(f"Redis at {BROKER}")
    if missing and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI needs {', '.join(missing)}", pytrace=False)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


@pytest.fixture
def worker(tmp_path):
    _services_or_skip()
    settings_db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{settings_db['USER']}@{settings_db['HOST'] or '127.0.0.1'}:"
            f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}"
        ),
        "CELERY_BROKER_URL": BROKER,
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_DEBUG": "1",
    }
    # A queue of this run's own, so test runs sharing the Redis server never take each
    # other's tasks.
    queue = f"test-{uuid.uuid4().hex}"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield tmp_path / "media", queue
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)  # shown by pytest when the test fails


@pytest.mark.django_db(transaction=True)
def test_report_task_runs_on_a_real_worker_to_the_stored_file(registry, worker, settings, tmp_path):
    media, queue = worker
    # This process stores elsewhere, so the file can only have come from the worker.
    settings.MEDIA_ROOT = tmp_path / "not-the-worker"
    report = report_request(month=Month.parse("2022-06"), enqueue=False)
    # An explicit connection: the app's own pool may already point at the default broker.
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(BROKER) as connection_to_redis:
            build_monthly_report.apply_async(
                args=[report.pk], queue=queue, connection=connection_to_redis
            )
    finally:
        app.conf.task_always_eager = True

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.status in (MonthlyReport.Status.DONE, MonthlyReport.Status.FAILED):
            break
        time.sleep(0.5)

    assert report.status == MonthlyReport.Status.DONE, report.error
    assert report.attempts == 1
    stored = media / report.file.name
    assert stored.exists()
    assert not (tmp_path / "not-the-worker").exists()
    book = openpyxl.load_workbook(stored)
    assert book.sheetnames[0] == "总览"
    assert book["总览"]["B4"].value == 3  # the registry fixture's three compounds

"""Test harness for tests/renovation/test_report_worker.py: the project's own Celery app,
which a worker started with `-A tests.renovation.report_worker_app` runs unchanged, plus a
pause on the first build only. Once a build has begun (its row committed as "being built")
the first attempt writes its process id to REPORT_TEST_PAUSE_FILE and waits, at most
REPORT_TEST_PAUSE seconds or until the test writes the file named by REPORT_TEST_RESUME_FILE,
so the test can kill that process, or restart the database, "mid-build" at a moment it knows.
Later attempts find the file and do not pause. The real task and service run."""

import os
import time

from django.db import transaction
from django.db.models.signals import post_save

from config.celery import app

__all__ = ["app"]

PAUSE_FILE = os.environ.get("REPORT_TEST_PAUSE_FILE", "")
PAUSE = float(os.environ.get("REPORT_TEST_PAUSE", "0"))
RESUME_FILE = os.environ.get("REPORT_TEST_RESUME_FILE", "")


def _pause_first_build(sender, instance, **kwargs) -> None:
    if not PAUSE_FILE or instance.status != "running":
        return

    def pause() -> None:
        try:
            marker = os.open(PAUSE_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # not the first attempt
        os.write(marker, str(os.getpid()).encode())
        os.close(marker)
        deadline = time.monotonic() + PAUSE
        while time.monotonic() < deadline and not (RESUME_FILE and os.path.exists(RESUME_FILE)):
            time.sleep(0.1)

    transaction.on_commit(pause)


post_save.connect(_pause_first_build, sender="renovation.MonthlyReport", weak=False)

"""End to end: the report task through a real Celery worker, on Redis and PostgreSQL, to the
stored file, and how a build recovers when its pool process, its whole worker, its database
or the broker goes away. Runs wherever both services answer; in CI (CI=true) a missing one
fails.

Workers run `tests.renovation.report_worker_app`: the project's own Celery app, with a pause
once the first build has begun, so a test knows when it is "mid-build"."""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from config.celery import app
from renovation.models import MonthlyReport
from renovation.selectors.report import Month
from renovation.services import report_request
from renovation.tasks import build_monthly_report
from tests.renovation.brokers import broker, closed_port_url, hung_broker

BROKER = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/15"
ROOT = Path(__file__).resolve().parents[2]
JUNE = Month.parse("2022-06")


def _redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI needs {what}", pytrace=False)
    pytest.skip(f"needs {what}")


def _services_or_skip() -> None:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (set DATABASE_URL)")
    if not _redis_answers():
        missing.append(f"Redis at {BROKER}")
    if missing:
        _missing(", ".join(missing))


def _test_database_url() -> str:
    settings_db = connection.settings_dict
    return (
        f"postgres://{settings_db['USER']}@{settings_db['HOST'] or '127.0.0.1'}:"
        f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}"
    )


def wait_for(what: str, predicate: Callable[[], object], timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


class Workers:
    """Starts real `celery worker` processes on a queue of this test's own (so test runs
    sharing the Redis server never take each other's tasks), each in its own process group,
    its output in a log file shown when the test fails."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.queue = f"test-{uuid.uuid4().hex}"
        self.media = tmp_path / "media"
        self.pause_file = tmp_path / "paused"
        self.resume_file = tmp_path / "resume"
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "CELERY_BROKER_URL": BROKER,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "DJANGO_MEDIA_ROOT": str(self.media),
            "DJANGO_DEBUG": "1",
            "REPORT_TEST_PAUSE_FILE": str(self.pause_file),
            "REPORT_TEST_RESUME_FILE": str(self.resume_file),
            **extra,
        }

    def start(self, *, pool: str = "solo", beat: bool = False, **extra: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "celery", "-A", "tests.renovation.report_worker_app"]
        command += ["worker", f"--pool={pool}", "--concurrency=1", "--loglevel=info"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        command += ["-Q", self.queue]
        if beat:
            command += ["--beat", "--schedule", str(self.tmp_path / "beat-schedule")]
        log = self.tmp_path / f"worker-{len(self.processes) + 1}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env(**extra),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the test may kill it whole
            )
        self.processes.append((process, log))
        return process

    def paused_pid(self, timeout: float = 60) -> int:
        """The process id of the first build, once it has begun and paused."""
        wait_for("the first build begins", lambda: self.pause_file.exists(), timeout)
        return int(wait_for("its pid", lambda: self.pause_file.read_text().strip(), 5))

    def stop(self) -> None:
        for process, log in self.processes:
            # Throwaway workers on a queue of their own: nothing to finish, no need to wait.
            with contextlib.suppress(ProcessLookupError):  # with its pool processes
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            print(f"--- {log.name}\n{log.read_text()}")  # shown by pytest when a test fails


@pytest.fixture
def workers(tmp_path) -> Iterator[Workers]:
    _services_or_skip()
    started = Workers(tmp_path)
    yield started
    started.stop()


def _report(pk: int) -> MonthlyReport:
    return MonthlyReport.objects.get(pk=pk)


def _finished(pk: int) -> bool:
    return _report(pk).status in (MonthlyReport.Status.DONE, MonthlyReport.Status.FAILED)


def _assert_built(report: MonthlyReport, media: Path) -> None:
    assert report.status == MonthlyReport.Status.DONE, report.error
    book = openpyxl.load_workbook(media / report.file.name, read_only=True)
    assert book.sheetnames[0] == "总览"


@pytest.mark.django_db(transaction=True)
def test_report_task_runs_on_a_real_worker_to_the_stored_file(
    registry, workers, settings, tmp_path
):
    # This process stores elsewhere, so the file can only have come from the worker.
    settings.MEDIA_ROOT = tmp_path / "not-the-worker"
    workers.start()
    report = report_request(month=JUNE, enqueue=False)
    # An explicit connection: the app's own pool may already point at the default broker.
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(BROKER) as connection_to_redis:
            build_monthly_report.apply_async(
                args=[report.pk], queue=workers.queue, connection=connection_to_redis
            )
    finally:
        app.conf.task_always_eager = True

    wait_for("the report is built", lambda: _finished(report.pk), 90)
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.DONE, report.error
    assert report.attempts == 1
    stored = workers.media / report.file.name
    assert stored.exists()
    assert not (tmp_path / "not-the-worker").exists()
    book = openpyxl.load_workbook(stored)
    assert book.sheetnames[0] == "总览"
    assert book["总览"]["B4"].value == 3  # the registry fixture's three compounds


@pytest.mark.django_db(transaction=True)
def test_a_build_whose_pool_process_is_killed_is_built_again_without_asking(registry, workers):
    workers.start(pool="prefork", REPORT_TEST_PAUSE="60")
    with broker(BROKER, workers.queue):
        report = report_request(month=JUNE)
    assert _report(report.pk).queued_at is not None

    child = workers.paused_pid()
    assert _report(report.pk).status == MonthlyReport.Status.RUNNING
    os.kill(child, signal.SIGKILL)  # as the kernel's out-of-memory killer would

    wait_for("the report is built again", lambda: _finished(report.pk), 120)
    report.refresh_from_db()
    _assert_built(report, workers.media)
    assert report.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_build_whose_whole_worker_is_killed_is_queued_again_by_the_sweep(registry, workers):
    first = workers.start(pool="prefork", REPORT_TEST_PAUSE="60")
    with broker(BROKER, workers.queue):
        report = report_request(month=JUNE)
    workers.paused_pid()
    assert _report(report.pk).status == MonthlyReport.Status.RUNNING
    os.killpg(first.pid, signal.SIGKILL)  # the machine's OOM killer, a lost container
    first.wait()

    # The message stays unacknowledged in Redis until its visibility timeout (above the
    # task's time limit); the sweep, with a deadline of seconds here, queues it again.
    workers.start(beat=True, REPORT_STALE_AFTER="3", REPORT_SWEEP_EVERY="1")
    wait_for("the report is built again", lambda: _finished(report.pk), 120)
    report.refresh_from_db()
    _assert_built(report, workers.media)
    assert report.attempts == 2


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, which it may restart without disturbing
    anyone else's tests on the machine's server."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            _missing("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
        self.bin = Path(binaries[-1]).parent
        # Not under pytest's tmp_path: the server's own user must reach its files.
        self.dir = Path(tempfile.mkdtemp(prefix="xs-report-pg-"))
        self.as_owner: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(self.dir, user="postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-o", options]
        command += ["-l", str(self.dir / "server.log"), *args]
        subprocess.run(self.as_owner + command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        initdb = [str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust"]
        initdb += ["-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync"]
        subprocess.run(self.as_owner + initdb, check=True, capture_output=True, timeout=60)
        self.pg_ctl("start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def row(self, pk: int) -> tuple | None:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as db:
                query = "SELECT status, attempts, error, file FROM renovation_monthlyreport"
                return db.execute(query + " WHERE id = %s", [pk]).fetchone()
        except psycopg.OperationalError:
            return None  # restarting


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_build_cut_off_by_a_database_restart_ends_built(workers, private_postgres):
    env = workers.env(DATABASE_URL=private_postgres.url)
    _manage(env, "migrate", "-v0")
    workers.start(DATABASE_URL=private_postgres.url, REPORT_TEST_PAUSE="60")
    # Asked for as the web side does: the service queues the task under the row's task id.
    ask = "from renovation.services import report_request; from renovation.selectors.report"
    ask += " import Month; print(report_request(month=Month.parse('2022-06')).pk)"
    pk = int(_manage(env, "shell", "-c", ask).strip().splitlines()[-1])

    workers.paused_pid()
    assert private_postgres.row(pk)[0] == MonthlyReport.Status.RUNNING
    private_postgres.pg_ctl("-m", "fast", "restart")  # drops the worker's connection
    workers.resume_file.touch()  # the build goes on, on a connection that is gone

    def finished() -> tuple | None:
        row = private_postgres.row(pk)
        return row if row and row[0] in ("done", "failed") else None

    status, attempts, error, name = wait_for("the report is built", finished, 90)
    assert status == MonthlyReport.Status.DONE, error
    assert attempts == 2
    assert (workers.media / name).exists()


@pytest.mark.django_db(transaction=True)
def test_asking_while_the_broker_is_down_says_so_and_asking_again_builds(
    registry, users, workers, client
):
    workers.start()
    client.force_login(users["programme_office"])
    with translation.override("zh-hans"):
        not_queued = translation.gettext("not queued")
        queue_again = translation.gettext("Queue it again")
    with hung_broker() as hung:
        for down in (closed_port_url(), hung):
            with broker(down, workers.queue):
                began = time.monotonic()
                response = client.post(reverse("report-list"), {"month": "2022-06"})
                took = time.monotonic() - began
            assert response.status_code == 200
            assert took < 3, f"the page waited {took:.1f} s on a dead broker"
            page = response.content.decode()
            assert 'class="error"' in page and not_queued in page and queue_again in page
            report = MonthlyReport.objects.get()
            assert report.status == MonthlyReport.Status.PENDING and report.queued_at is None

    with broker(BROKER, workers.queue):  # the broker is back: asking again queues it
        response = client.post(reverse("report-list"), {"month": "2022-06"})
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    assert report.queued_at is not None
    wait_for("the report is built", lambda: _finished(report.pk), 90)
    report.refresh_from_db()
    _assert_built(report, workers.media)
    assert report.attempts == 1

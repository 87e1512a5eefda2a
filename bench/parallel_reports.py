"""Scaling out: several months' reports asked for at once by several processes, built by
several Celery workers on one Redis and one PostgreSQL, with no duplicates.

Starts WORKERS Celery worker processes (each with CONCURRENCY pool processes) on a Redis
database of its own, then CLIENTS processes that, released together, each ask for every one
of MONTHS (`report_request`, as the dashboard's button does) and also sends each month's
build task once more itself (a message delivered twice). Waits until every month is built,
then checks: one MonthlyReport row per month, each built once (attempts = 1), and
exactly one workbook file per month in the media folder, each opening cleanly.

Usage: python bench/parallel_reports.py [--district] [--months 2024-03,...] [--clients 4]"""

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/5")
MEDIA = common.ROOT / "bench" / ".media-parallel"
CITY_MONTHS = "2024-03,2024-04,2024-05,2024-06"
DISTRICT_MONTHS = "2022-03,2022-04,2022-05,2022-06"


def _environment(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": common.database_url(database),
        "CELERY_BROKER_URL": BROKER,
        "DJANGO_MEDIA_ROOT": str(MEDIA),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(common.ROOT),
    }


def _client(database: str, months: list[str], start_at: float, queue) -> None:
    os.environ.update(_environment(database))
    common.setup_django(database)
    from renovation.selectors.report import Month
    from renovation.services import report_request
    from renovation.tasks import build_monthly_report

    time.sleep(max(0.0, start_at - time.time()))  # released together
    ids = [report_request(month=Month.parse(m), user=None).pk for m in months]
    # And the build task itself for each, as a message delivered twice would: the task must
    # notice the report is being built, or built, and leave it.
    for pk in ids:
        build_monthly_report.delay(pk)
    queue.put(ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--district", action="store_true", help="the district database")
    parser.add_argument("--months", default="")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=600)
    options = parser.parse_args()
    database = common.DISTRICT_DB if options.district else common.CITY_DB
    months = (options.months or (DISTRICT_MONTHS if options.district else CITY_MONTHS)).split(",")
    common.ensure_databases()
    os.environ.update(_environment(database))
    common.setup_django(database)
    import redis
    from openpyxl import load_workbook

    from renovation.models import MonthlyReport
    from renovation.selectors.report import Month

    firsts = [Month.parse(m).first for m in months]
    # A clean start: these months unasked for, their files gone, the bench queue empty.
    MonthlyReport.objects.filter(month__in=firsts).delete()
    for month in months:
        for old in (MEDIA / "reports" / month).glob("*"):
            old.unlink()
    redis.Redis.from_url(BROKER).flushdb()

    workers = [
        subprocess.Popen(
            [
                str(Path(common.PYTHON).parent / "celery"),
                "-A",
                "config",
                "worker",
                "-l",
                "warning",
                "--concurrency",
                str(options.concurrency),
                "-n",
                f"bench{number}@%h",
            ],
            cwd=common.ROOT,
            env=_environment(database),
            start_new_session=True,
        )
        for number in range(1, options.workers + 1)
    ]
    started = time.time()
    try:
        time.sleep(5)  # the workers connect to the broker
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        start_at = time.time() + 3
        clients = [
            context.Process(target=_client, args=(database, months, start_at, queue))
            for _ in range(options.clients)
        ]
        for client in clients:
            client.start()
        asked = [queue.get(timeout=120) for _ in clients]
        for client in clients:
            client.join()
        asked_at = time.time()
        deadline = time.time() + options.timeout
        while time.time() < deadline:
            statuses = list(
                MonthlyReport.objects.filter(month__in=firsts).values_list("status", flat=True)
            )
            if len(statuses) == len(months) and all(
                s in (MonthlyReport.Status.DONE, MonthlyReport.Status.FAILED) for s in statuses
            ):
                break
            time.sleep(1)
        finished = time.time()
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)

    reports = list(MonthlyReport.objects.filter(month__in=firsts).order_by("month"))
    rows = {}
    for report in reports:
        folder = MEDIA / "reports" / f"{report.month:%Y-%m}"
        files = sorted(folder.glob("*.xlsx")) if folder.exists() else []
        opens = all(len(load_workbook(f, read_only=True).sheetnames) >= 6 for f in files)
        rows[f"{report.month:%Y-%m}"] = {
            "status": report.status,
            "attempts": report.attempts,
            "files": len(files),
            "opens": opens,
            "build_seconds": round((report.finished_at - report.started_at).total_seconds(), 1)
            if report.finished_at and report.started_at
            else None,
            "error": report.error,
        }
    distinct_ids = {pk for ids in asked for pk in ids}
    figures = {
        "database": database,
        "months": months,
        "clients": options.clients,
        "requests": options.clients * len(months),
        "celery_workers": options.workers,
        "concurrency_each": options.concurrency,
        "report_rows_returned": len(distinct_ids),
        "seconds_until_all_built": round(finished - asked_at, 1),
        "seconds_total": round(finished - started, 1),
        "reports": rows,
    }
    for month, row in rows.items():
        print(f"  {month}: {row}")
    done = sum(1 for r in rows.values() if r["status"] == MonthlyReport.Status.DONE)
    common.write_result(
        "parallel_reports",
        figures,
        [
            common.check(
                "months without exactly one finished report",
                len(months) - done,
                f"of {len(months)}",
                0,
                "0",
            ),
            common.check(
                "duplicate builds (attempts above 1)",
                sum(max(0, r["attempts"] - 1) for r in rows.values()),
                "",
                0,
                "0",
            ),
            common.check(
                "months without exactly one workbook file",
                sum(1 for r in rows.values() if r["files"] != 1 or not r["opens"]),
                "",
                0,
                "0",
            ),
        ],
    )


if __name__ == "__main__":
    main()

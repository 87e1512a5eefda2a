"""Load: locust on loopback against gunicorn running the production settings, on the city.

gunicorn: config.wsgi with DJANGO_DEBUG=0, a generated secret key, DJANGO_SECURE_SSL_REDIRECT=0
(loopback has no TLS), DJANGO_ALLOWED_HOSTS=127.0.0.1, static files collected and served by
WhiteNoise, persistent database connections, the cache and broker on Redis.
locust: headless, USERS simulated people (3 grid workers logging requests for every 2 staff
browsing), each at PACE requests per second, for a bounded time after everyone has logged
in once. The requests the run logged are removed afterwards, so the city stays as loaded.

Targets: 0 errors; p95 under 300 ms at 50 requests per second.

Usage: python bench/load.py [--users 50] [--pace 1] [--seconds 60] [--workers 3]"""

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

PORT = int(os.environ.get("BENCH_PORT", "8765"))
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
BIN = Path(common.PYTHON).parent


def people(users: int) -> dict:
    """Accounts for the simulated people: grid workers of distinct communities with their
    buildings, staff of the district and of communities."""
    common.setup_django(common.CITY_DB)
    from renovation.demo.city import USER_PREFIX
    from renovation.demo.registry import DEMO_PASSWORD
    from renovation.models import Building, Role, StaffProfile

    grid_count = users * 3 // 5 + 1
    staff_count = users - grid_count + 1
    grid = list(
        StaffProfile.objects.filter(role=Role.GRID_WORKER, user__username__startswith=USER_PREFIX)
        .select_related("user")
        .order_by("community__code")[:grid_count]
    )
    grid_workers = []
    for profile in grid:
        buildings = Building.objects.filter(compound__community=profile.community_id).values(
            "id", "compound"
        )[:40]
        grid_workers.append({"username": profile.user.username, "buildings": list(buildings)})
    wide = [f"{USER_PREFIX}{name}" for name in ("office", "leader", "finance", "organisation")]
    local = list(
        StaffProfile.objects.filter(
            role=Role.COMMUNITY_STAFF, user__username__startswith=USER_PREFIX
        )
        .select_related("user")
        .order_by("community__code")[:staff_count]
    )
    first_community = local[0].community_id
    staff = []
    for index in range(staff_count):
        if index % 2 == 0:
            username = wide[(index // 2) % len(wide)]
            staff.append(
                {"username": username, "community": first_community, "district_wide": True}
            )
        else:
            profile = local[index // 2]
            staff.append(
                {
                    "username": profile.user.username,
                    "community": profile.community_id,
                    "district_wide": False,
                }
            )
    return {"password": DEMO_PASSWORD, "grid_workers": grid_workers, "staff": staff}


def _wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port}")


def server_environment() -> dict[str, str]:
    return {
        **os.environ,
        **common.production_environment(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": common.database_url(common.CITY_DB),
        "DATABASE_CONN_MAX_AGE": "60",
        "CACHE_URL": f"{REDIS}/1",
        "CELERY_BROKER_URL": f"{REDIS}/0",
        "PYTHONPATH": str(common.ROOT),
    }


def start_gunicorn(workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=common.ROOT,
        env=server_environment(),
        start_new_session=True,
    )
    _wait_for_port(PORT)
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def run_locust(people_file: str, users: int, pace: float, seconds: int, prefix: str) -> None:
    # Everyone logs in first (about a second of CPU each), then `seconds` are measured.
    login_allowance = 10 + users // 2
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(common.ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds + login_allowance}s",
            "--host",
            f"http://127.0.0.1:{PORT}",
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "5",
        ],
        check=False,  # locust exits 1 when any request failed; the figures say which
        env={
            **os.environ,
            "BENCH_LOAD_PEOPLE": people_file,
            "BENCH_LOAD_PACE": str(pace),
            "BENCH_LOAD_CPU": f"{prefix}_cpu.json",
        },
        cwd=common.ROOT,
    )


def read_stats(prefix: str) -> tuple[dict, list[dict]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    return total, [row for row in rows if row["Name"] != "Aggregated"]


def remove_logged(since: float, usernames: list[str]) -> int:
    """Remove the requests the run logged (with their logs and history)."""
    from django.db import connection

    from residents.models import ResidentRequest

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_logged AS SELECT r.id FROM residents_residentrequest r "
            "JOIN auth_user u ON u.id = r.logged_by_id WHERE u.username = ANY(%s) "
            "AND r.logged_at >= to_timestamp(%s)",
            [usernames, since],
        )
        for table in (
            "residents_requestlog",
            "residents_historicalresidentrequest",
            "partycells_activityrequest",
        ):
            column = "id" if table.startswith("residents_historical") else "request_id"
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM bench_logged)")
        cursor.execute(
            f"DELETE FROM {ResidentRequest._meta.db_table} "
            "WHERE id IN (SELECT id FROM bench_logged)"
        )
        removed = cursor.rowcount
        cursor.execute("DROP TABLE bench_logged")
    return removed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--pace", type=float, default=1.0, help="requests/s per user")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn processes")
    options = parser.parse_args()
    common.ensure_databases()
    common.manage(
        common.CITY_DB, "collectstatic", "--noinput", "-v0", env=common.production_environment()
    )
    crowd = people(options.users)
    with tempfile.TemporaryDirectory() as folder:
        people_file = f"{folder}/people.json"
        Path(people_file).write_text(json.dumps(crowd), encoding="utf-8")
        prefix = f"{folder}/locust"
        started = time.time()
        server = start_gunicorn(options.workers)
        try:
            run_locust(people_file, options.users, options.pace, options.seconds, prefix)
        finally:
            stop(server)
        total, endpoints = read_stats(prefix)
        cpu = json.loads(Path(f"{prefix}_cpu.json").read_text(encoding="utf-8"))
    removed = remove_logged(started - 5, [p["username"] for p in crowd["grid_workers"]])
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    rps = float(total["Requests/s"])
    p95 = float(total["95%"])
    # Server CPU per request, measured over the same window as the requests: what the
    # site costs, however busy the machine was; 2 cores / cost = the rate it could carry.
    cpu_ms = {
        part: round(1000 * (cpu["stop"][part] - cpu["start"][part]) / max(requests, 1), 1)
        for part in cpu["start"]
    }
    locust_ms = cpu_ms.pop("locust", 0.0)
    cpu_ms["total"] = round(sum(cpu_ms.values()), 1)
    figures = {
        "users": options.users,
        "pace_per_user": options.pace,
        "offered_rps": options.users * options.pace,
        "gunicorn_workers": options.workers,
        "requests": requests,
        "failures": failures,
        "rps": round(rps, 1),
        "p50_ms": float(total["50%"]),
        "p95_ms": p95,
        "p99_ms": float(total["99%"]),
        "server_cpu_ms_per_request": cpu_ms,
        "load_generator_cpu_ms_per_request": locust_ms,
        "rate_two_free_cores_could_carry": round(2000 / cpu_ms["total"], 1)
        if cpu_ms["total"]
        else None,
        "load_average_during_run": os.getloadavg(),
        "requests_logged_and_removed": removed,
        "endpoints": {
            row["Name"]: {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
            }
            for row in endpoints
            if int(row["Request Count"])
        },
    }
    print(
        f"server CPU per request: {cpu_ms['total']} ms (gunicorn {cpu_ms['gunicorn']}, "
        f"PostgreSQL {cpu_ms['postgresql']}); two free cores would carry about "
        f"{figures['rate_two_free_cores_could_carry']} requests/s; locust itself {locust_ms} ms"
    )
    print(f"{'endpoint':<44}{'n':>7}{'fail':>6}{'p50':>8}{'p95':>8}")
    for name, row in figures["endpoints"].items():
        print(
            f"{name:<44}{row['requests']:>7}{row['failures']:>6}"
            f"{row['p50_ms']:>8.0f}{row['p95_ms']:>8.0f}"
        )
    common.write_result(
        "load",
        figures,
        [
            common.check("errors", failures, "", 0, "0"),
            common.check("p95", p95, "ms", 300, "< 300 ms"),
            common.check(
                "sustained rate (shortfall below 50 req/s)",
                round(max(0.0, 50 - rps), 1),
                f"req/s (measured {rps:.1f})",
                2.5,
                "≈ 50 req/s (≥ 47.5)",
            ),
        ],
    )


if __name__ == "__main__":
    main()

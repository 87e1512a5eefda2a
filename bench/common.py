"""What every benchmark shares: the databases it measures, Django set up against them, the
city data loaded once, and its figures printed with their targets and written to
bench/results/NAME.json.

Two databases, both created here when missing:
- xinsheng_bench: the district demo plus the city (`load_demo --scale city`), loaded once
  and reused while its city districts exist;
- xinsheng_bench_district: the district demo alone, to show that query counts do not grow
  with the data.

BENCH_PG (default postgres://postgres@127.0.0.1:5432) names the server."""

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "results")
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
CITY_DB, DISTRICT_DB = "xinsheng_bench", "xinsheng_bench_district"
PYTHON = sys.executable


def database_url(name: str) -> str:
    return f"{SERVER}/{name}"


def setup_django(database: str = CITY_DB, *, production: bool = False) -> None:
    """Set Django up against a bench database. `production` uses the production settings
    (DJANGO_DEBUG=0) as the load test's gunicorn does, with static files collected."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_MEDIA_ROOT", str(ROOT / "bench" / ".media"))
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    if production:
        os.environ.update(production_environment())
    import django

    django.setup()


def production_environment() -> dict[str, str]:
    """The production settings on loopback: debug off, a generated key, no HTTPS redirect
    (loopback has no TLS; the clients say https in X-Forwarded-Proto, as nginx would)."""
    import secrets

    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(64),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_STATIC_ROOT": str(ROOT / "bench" / ".static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        # As .env.example advises for production: one connection per process, kept.
        "DATABASE_CONN_MAX_AGE": "60",
    }


def manage(database: str, *args: str, env: dict[str, str] | None = None) -> None:
    environment = {**os.environ, "DATABASE_URL": database_url(database), **(env or {})}
    environment.setdefault("DJANGO_MEDIA_ROOT", str(ROOT / "bench" / ".media"))
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, env=environment)


def _psql(sql: str, database: str = "postgres") -> str:
    import psycopg

    with psycopg.connect(database_url(database), autocommit=True) as connection:
        cursor = connection.execute(sql)
        row = cursor.fetchone() if cursor.description else None
        return "" if row is None else str(row[0])


def ensure_databases() -> None:
    """Create, migrate and load both databases unless they are loaded already."""
    for name in (CITY_DB, DISTRICT_DB):
        if not _psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            _psql(f'CREATE DATABASE "{name}"')
        manage(name, "migrate", "--noinput", "-v0")
    for name, city in ((DISTRICT_DB, False), (CITY_DB, True)):
        demo_loaded = _psql("SELECT count(*) FROM renovation_district WHERE code = 'LB'", name)
        if demo_loaded == "0":
            print(f"[{name}] loading the district demo …", flush=True)
            manage(name, "load_demo", env={"DJANGO_DEBUG": "1"})
        if city:
            loaded = _psql("SELECT count(*) FROM renovation_district WHERE code = 'CZ'", name)
            if loaded == "0":
                print(f"[{name}] loading the city (once; reused afterwards) …", flush=True)
                started = time.perf_counter()
                manage(name, "load_demo", "--scale", "city", env={"DJANGO_DEBUG": "1"})
                seconds = time.perf_counter() - started
                write_result(
                    "city_load",
                    {"seconds": round(seconds, 1)},
                    [check("load_demo --scale city", seconds, "s", 300, "≤ 300 s (5 minutes)")],
                )


def check(name: str, value: float, unit: str, limit: float, target: str) -> dict:
    """One figure against its target (met when value ≤ limit)."""
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "target": target,
        "met": value <= limit,
    }


def write_result(bench: str, figures: dict, checks: list[dict]) -> dict:
    """Print the checks and write bench/results/NAME.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": bench,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            # Other work on the machine during the run (1, 5, 15 minutes): figures taken
            # while it is busy are slower than the code.
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "postgresql": _server_version(),
        },
        "figures": figures,
        "checks": checks,
        "all_met": all(c["met"] for c in checks),
    }
    (RESULTS / f"{bench}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    print(f"\n== {bench} ==")
    for c in checks:
        mark = "OK  " if c["met"] else "MISS"
        value = f"{c['value']:,.3f}".rstrip("0").rstrip(".")
        print(f"  [{mark}] {c['name']}: {value} {c['unit']}   target {c['target']}")
    print(f"  → bench/results/{bench}.json", flush=True)
    return result


def _server_version() -> str:
    try:
        return _psql("SHOW server_version")
    except Exception:
        return ""


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.5 = median)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed(function: Callable, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result

"""Pages at city scale against a trivial logged-in view, in the same process.

Production settings (DJANGO_DEBUG=0, static files collected, WhiteNoise), Django's test
Client, warm-up requests first, then REPEAT timed requests per page, pages interleaved so
that a slow moment of the machine does not fall on one page only. Each page is also asked
once at district scale (the district demo alone) to show its query count does not grow.
"whole ms" is each page's p50 worked out whole, the cache emptied before each request: as
on the first view after a change of what it shows (a figure, not a target).

Targets: each page's p50 ≤ 4 × the floor's p50; the same number of queries at both scales.

Usage: python bench/pages.py [--repeat N]"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

REPEAT = 40
WARM_UP = 3


def pages(scale: str) -> tuple[dict[str, tuple[str, str]], str]:
    """name → (username, path) for this database, and the floor's user."""
    from renovation.models import Community, StaffProfile

    if scale == "city":
        grid, office = "city-grid-CZ0101", "city-office"
        community = Community.objects.get(code="CZ0101", sub_district__district__code="CZ")
    else:
        grid, office = "grid", "office"
        community = StaffProfile.objects.get(user__username="grid").community
    return {
        "floor (trivial logged-in view)": (grid, "/bench-floor/"),
        "grid worker: log a request": (grid, "/residents/new/"),
        "grid worker: my requests": (grid, "/residents/"),
        "admin: requests of one community": (
            office,
            f"/admin/residents/residentrequest/?community={community.pk}",
        ),
        "project list": (office, "/projects/"),
        "dashboard": (office, "/dashboard/"),
    }, grid


def worker(database: str, scale: str, repeat: int) -> dict:
    common.setup_django(database, production=True)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ROOT_URLCONF = "bench.urls"
    targets, _grid = pages(scale)
    clients: dict[str, Client] = {}
    for username, _path in targets.values():
        if username not in clients:
            client = Client(HTTP_X_FORWARDED_PROTO="https")
            client.force_login(get_user_model().objects.get(username=username))
            clients[username] = client

    def get(name: str):
        username, path = targets[name]
        response = clients[username].get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {path} answered {response.status_code}")
        return response

    queries, sizes = {}, {}
    for name in targets:
        for _ in range(WARM_UP):
            get(name)
        with CaptureQueriesContext(connection) as captured:
            response = get(name)
        queries[name] = len(captured.captured_queries)
        sizes[name] = len(response.content)
    times: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(repeat):
        for name in targets:
            started = time.perf_counter()
            get(name)
            times[name].append(time.perf_counter() - started)
    # Each page worked out whole, as on its first view after a change: nothing of it kept
    # in the cache (the sessions are in the database).
    worked_out: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(max(1, repeat // 2)):
        for name in targets:
            cache.clear()
            started = time.perf_counter()
            get(name)
            worked_out[name].append(time.perf_counter() - started)
    return {
        name: {
            "path": targets[name][1],
            "user": targets[name][0],
            "p50_ms": round(1000 * common.percentile(times[name], 0.5), 1),
            "p95_ms": round(1000 * common.percentile(times[name], 0.95), 1),
            "queries": queries[name],
            "bytes": sizes[name],
            "worked_out_p50_ms": round(1000 * common.percentile(worked_out[name], 0.5), 1),
        }
        for name in targets
    }


def _run(database: str, scale: str, repeat: int) -> dict:
    output = subprocess.run(
        [common.PYTHON, __file__, "--worker", database, scale, str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def collect_static() -> None:
    common.manage(common.CITY_DB, "collectstatic", "--noinput", "-v0", env=_production_env())


def _production_env() -> dict[str, str]:
    return common.production_environment()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=REPEAT)
    options = parser.parse_args()
    common.ensure_databases()
    collect_static()
    city = _run(common.CITY_DB, "city", options.repeat)
    district = _run(common.DISTRICT_DB, "district", 5)
    floor_name = "floor (trivial logged-in view)"
    floor = city[floor_name]["p50_ms"]
    print(
        f"{'page':<36}{'p50 ms':>9}{'p95 ms':>9}{'× floor':>9}{'queries':>9}{'district':>9}"
        f"{'whole ms':>10}"
    )
    checks = []
    for name, figures in city.items():
        ratio = figures["p50_ms"] / floor
        figures["p50_over_floor"] = round(ratio, 2)
        figures["district_queries"] = district[name]["queries"]
        figures["district_p50_ms"] = district[name]["p50_ms"]
        print(
            f"{name:<36}{figures['p50_ms']:>9.1f}{figures['p95_ms']:>9.1f}{ratio:>9.2f}"
            f"{figures['queries']:>9}{district[name]['queries']:>9}"
            f"{figures['worked_out_p50_ms']:>10.1f}"
        )
        if name == floor_name:
            continue
        checks.append(common.check(f"{name}: p50 / floor p50", round(ratio, 2), "×", 4, "≤ 4 ×"))
        checks.append(
            common.check(
                f"{name}: queries city − district",
                abs(figures["queries"] - district[name]["queries"]),
                f"(city {figures['queries']}, district {district[name]['queries']})",
                0,
                "0: fixed",
            )
        )
    common.write_result(
        "pages", {"repeat": options.repeat, "floor_p50_ms": floor, "pages": city}, checks
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        database, scale, repeat = sys.argv[2:5]
        print(json.dumps(worker(database, scale, int(repeat))))
    else:
        main()

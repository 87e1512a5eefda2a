"""Every benchmark in turn (`make bench`), then one table of every figure against its target.

Needs PostgreSQL and Redis on 127.0.0.1 (BENCH_PG, BENCH_REDIS to point elsewhere). Creates
its databases and loads the city once (about a minute; reused afterwards). Never part of
the test suite. Usage: python bench/run.py [NAME ...] (report pages import load
parallel_reports; all by default)."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

BENCHMARKS = ["report", "pages", "import_registry", "load", "parallel_reports"]
RESULT_NAMES = {"import_registry": "import"}


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    chosen = sys.argv[1:] or BENCHMARKS
    missing = [name for port, name in ((5432, "PostgreSQL"), (6379, "Redis")) if not _answers(port)]
    if missing:
        print(f"bench needs {' and '.join(missing)} on 127.0.0.1 (see .ci/run to start them)")
        return 2
    started = time.perf_counter()
    common.ensure_databases()
    failed_runs = []
    for name in chosen:
        print(f"\n### {name}", flush=True)
        run = subprocess.run([common.PYTHON, str(common.ROOT / "bench" / f"{name}.py")])
        if run.returncode:
            failed_runs.append(name)
    print("\n### All figures against their targets")
    missed = 0
    for name in ["city_load", *chosen]:
        path = common.RESULTS / f"{RESULT_NAMES.get(name, name)}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        for check in result["checks"]:
            missed += not check["met"]
            mark = "OK  " if check["met"] else "MISS"
            value = f"{check['value']:,.3f}".rstrip("0").rstrip(".")
            print(
                f"  [{mark}] {result['benchmark']}: {check['name']}: {value} {check['unit']}"
                f"   target {check['target']}"
            )
    print(
        f"\n{missed} target(s) missed; {len(failed_runs)} benchmark(s) could not run"
        f"{': ' + ', '.join(failed_runs) if failed_runs else ''}; "
        f"{time.perf_counter() - started:.0f} s in all."
    )
    return 1 if failed_runs else 0


if __name__ == "__main__":
    sys.exit(main())

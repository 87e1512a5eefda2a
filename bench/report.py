"""The monthly report at city scale against its floor, measured in the same run.

- report: `build_workbook(month)` as the task runs it: wall time (second of two runs, so
  the database cache is warm for it as for the floor), peak memory (the process's peak RSS,
  and Python's own peak from tracemalloc in a separate run, since tracing slows it), and
  the number of SQL queries, at district scale and at city scale.
- floor: the very SQL the report ran, replayed through a bare cursor and fetched, plus
  openpyxl write-only writing the same cell values (read back from the report's workbook)
  with no styles, charts or formulas worked out: what no implementation can avoid.

Targets: report ≤ 1.5 × floor, peak ≤ 400 MB, the same number of queries at both scales.
Each measurement runs in a fresh process so memory peaks do not mix.

Usage: python bench/report.py [--month YYYY-MM] [--district-month YYYY-MM]"""

import argparse
import io
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

CITY_MONTH = "2024-06"  # the city's busiest month: 2023 and 2024 batches on site together
DISTRICT_MONTH = "2022-06"  # the article's month


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def worker_report(database: str, month_text: str, sql_file: str, xlsx_file: str) -> dict:
    common.setup_django(database)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renovation.report_workbook import build_workbook
    from renovation.selectors.report import Month

    month = Month.parse(month_text)
    baseline = _peak_rss_mb()
    with CaptureQueriesContext(connection) as captured:
        warm_seconds, content = common.timed(build_workbook, month)
    seconds, _content = common.timed(build_workbook, month)
    Path(xlsx_file).write_bytes(content)
    statements = [q["sql"] for q in captured.captured_queries]
    Path(sql_file).write_text(json.dumps(statements), encoding="utf-8")
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:5]
    return {
        "seconds": round(seconds, 3),
        "first_run_seconds": round(warm_seconds, 3),
        "queries": len(statements),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_before_mb": round(baseline, 1),
        "workbook_bytes": len(content),
        "slowest_queries": [{"seconds": float(q["time"]), "sql": q["sql"][:240]} for q in slowest],
    }


def worker_memory(database: str, month_text: str) -> dict:
    import tracemalloc

    common.setup_django(database)
    from renovation.report_workbook import build_workbook
    from renovation.selectors.report import Month

    tracemalloc.start()
    build_workbook(Month.parse(month_text))
    _current, peak = tracemalloc.get_traced_memory()
    return {"python_peak_mb": round(peak / 2**20, 1)}


def worker_floor(database: str, sql_file: str, xlsx_file: str) -> dict:
    common.setup_django(database)
    from django.db import connection
    from openpyxl import Workbook, load_workbook

    statements = json.loads(Path(sql_file).read_text(encoding="utf-8"))
    # A streamed query (.iterator()) was logged as its server-side cursor's DECLARE.
    statements = [
        re.sub(r"^DECLARE .*? CURSOR WITH HOLD FOR ", "", sql, count=1, flags=re.S)
        for sql in statements
    ]

    def replay() -> int:
        rows = 0
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description:
                    rows += len(cursor.fetchall())
        return rows

    replay()  # warm, as the report's measured run was
    sql_seconds, rows = common.timed(replay)

    # The same cell values, read back from the report's workbook (not timed).
    source = load_workbook(xlsx_file, read_only=True)
    sheets = {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in source}
    cells = sum(len(row) for rows_ in sheets.values() for row in rows_)

    def write() -> int:
        workbook = Workbook(write_only=True)
        for title, sheet_rows in sheets.items():
            sheet = workbook.create_sheet(title)
            for row in sheet_rows:
                sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return len(buffer.getvalue())

    write_seconds, _size = common.timed(write)
    return {
        "seconds": round(sql_seconds + write_seconds, 3),
        "sql_seconds": round(sql_seconds, 3),
        "write_seconds": round(write_seconds, 3),
        "queries": len(statements),
        "rows_fetched": rows,
        "cells": cells,
    }


def _run_worker(*args: str) -> dict:
    output = subprocess.run(
        [common.PYTHON, __file__, "--worker", *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(database: str, month: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        sql_file, xlsx_file = f"{folder}/queries.json", f"{folder}/report.xlsx"
        report = _run_worker("report", database, month, sql_file, xlsx_file)
        floor = _run_worker("floor", database, sql_file, xlsx_file)
    memory = _run_worker("memory", database, month)
    return {"month": month, "report": {**report, **memory}, "floor": floor}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default=CITY_MONTH)
    parser.add_argument("--district-month", default=DISTRICT_MONTH)
    options = parser.parse_args()
    common.ensure_databases()
    started = time.perf_counter()
    district = measure(common.DISTRICT_DB, options.district_month)
    city = measure(common.CITY_DB, options.month)
    ratio = city["report"]["seconds"] / city["floor"]["seconds"]
    print(
        f"city {city['month']}: report {city['report']['seconds']:.2f} s, floor "
        f"{city['floor']['seconds']:.2f} s (SQL {city['floor']['sql_seconds']:.2f} s + "
        f"writing {city['floor']['write_seconds']:.2f} s), {city['report']['queries']} queries"
    )
    print(
        f"district {district['month']}: report {district['report']['seconds']:.2f} s, "
        f"{district['report']['queries']} queries"
    )
    common.write_result(
        "report",
        {"district": district, "city": city, "bench_seconds": round(time.perf_counter() - started)},
        [
            common.check(
                f"city report {city['month']} / floor", round(ratio, 2), "×", 1.5, "≤ 1.5 ×"
            ),
            common.check(
                "city report wall time", city["report"]["seconds"], "s", float("inf"), "(shown)"
            ),
            common.check(
                "city report peak RSS", city["report"]["peak_rss_mb"], "MB", 400, "≤ 400 MB"
            ),
            common.check(
                "city report Python peak (tracemalloc)",
                city["report"]["python_peak_mb"],
                "MB",
                400,
                "≤ 400 MB",
            ),
            common.check(
                "queries at city scale − at district scale",
                abs(city["report"]["queries"] - district["report"]["queries"]),
                f"(city {city['report']['queries']}, district {district['report']['queries']})",
                0,
                "0: independent of rows",
            ),
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, *rest = sys.argv[2:]
        worker = {"report": worker_report, "memory": worker_memory, "floor": worker_floor}[kind]
        print(json.dumps(worker(*rest)))
    else:
        main()

"""Import: a registry workbook of 2,500 compounds and 25,000 buildings, generated here in
the layout of the registry template, imported by the same service staff use
(`registry_import`, user None as the management command does).

Two runs on the city database, each inside a transaction rolled back afterwards so the
benchmark can run again: a first import into 500 empty communities of a district made for
the run (everything created), then the same file again on top of it (everything matched,
nothing changed: what a sub-district does every month).

Target: the first import in under 30 seconds.

Usage: python bench/import_registry.py"""

import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

COMPOUNDS, BUILDINGS_PER_COMPOUND = 2500, 10
SUB_DISTRICTS, COMMUNITIES = 10, 500
DISTRICT = ("导入测试区", "BENCHIMPORT")


class Rollback(Exception):
    pass


def make_places():
    from renovation.models import Community, District, SubDistrict

    district = District.objects.create(name=DISTRICT[0], code=DISTRICT[1])
    subs = SubDistrict.objects.bulk_create(
        SubDistrict(district=district, name=f"导入{n}街道", code=f"BI{n:02d}")
        for n in range(1, SUB_DISTRICTS + 1)
    )
    communities = Community.objects.bulk_create(
        Community(sub_district=subs[n % SUB_DISTRICTS], name=f"导入{n}社区", code=f"BIC{n:03d}")
        for n in range(1, COMMUNITIES + 1)
    )
    return communities


def workbook_bytes(communities) -> tuple[bytes, int]:
    from openpyxl import Workbook

    from renovation.registry_import import (
        BUILDING_COLUMNS,
        COMPOUND_COLUMNS,
        TEMPLATE_BUILDING_FIELDS,
        TEMPLATE_BUILDING_SHEET,
        TEMPLATE_COMPOUND_FIELDS,
    )
    from renovation.workbooks import header_of

    rng = random.Random("bench-import")
    workbook = Workbook(write_only=True)
    compounds = workbook.create_sheet("小区台账")
    buildings = workbook.create_sheet(TEMPLATE_BUILDING_SHEET)
    compounds.append([header_of(COMPOUND_COLUMNS, name) for name in TEMPLATE_COMPOUND_FIELDS])
    buildings.append([header_of(BUILDING_COLUMNS, name) for name in TEMPLATE_BUILDING_FIELDS])
    rows = 0
    for number in range(COMPOUNDS):
        community = communities[number % len(communities)]
        name = f"{community.name.removesuffix('社区')}{number + 1}号院"
        households = [rng.choice([12, 18, 24, 30, 36]) for _ in range(BUILDINGS_PER_COMPOUND)]
        values = {
            "sub_district": community.sub_district.name,
            "community": community.name,
            "name": name,
            "code": "",
            "address": f"导入路{number + 1}号",
            "build_year": rng.randint(1965, 2015),
            "building_count": BUILDINGS_PER_COMPOUND,
            "households": sum(households),
            "original_owner_unit": "",
            "property_management": rng.choice(["无物业", "物业公司", "自管会"]),
            "origin": "",
            "notes": "",
        }
        compounds.append([values[field] for field in TEMPLATE_COMPOUND_FIELDS])
        for index, count in enumerate(households, start=1):
            building = {
                "community": community.name,
                "compound": name,
                "number": f"{index}栋",
                "floors": rng.randint(5, 7),
                "units": rng.randint(1, 3),
                "households": count,
            }
            buildings.append([building[field] for field in TEMPLATE_BUILDING_FIELDS])
            rows += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), rows


def main() -> None:
    common.ensure_databases()
    common.setup_django(common.CITY_DB)
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from renovation.services import registry_import

    figures: dict = {}
    try:
        with transaction.atomic():
            communities = make_places()
            started = time.perf_counter()
            content, building_rows = workbook_bytes(communities)
            figures["generate_seconds"] = round(time.perf_counter() - started, 2)
            figures["workbook_bytes"] = len(content)
            figures["building_rows"] = building_rows
            for run in ("first", "again"):
                with CaptureQueriesContext(connection) as captured:
                    seconds, result = common.timed(
                        registry_import, file=io.BytesIO(content), user=None, dry_run=False
                    )
                if not result.ok:
                    raise RuntimeError(f"import refused: {result.errors[:3]}")
                figures[run] = {
                    "seconds": round(seconds, 2),
                    "queries": len(captured.captured_queries),
                    "compounds_created": result.compounds_created,
                    "compounds_updated": result.compounds_updated,
                    "buildings_created": result.buildings_created,
                    "buildings_updated": result.buildings_updated,
                }
                print(f"{run}: {figures[run]}", flush=True)
            raise Rollback
    except Rollback:
        pass
    first = figures["first"]
    common.write_result(
        "import",
        figures,
        [
            common.check(
                f"import {first['compounds_created']:,} compounds and "
                f"{first['buildings_created']:,} buildings",
                first["seconds"],
                "s",
                30,
                "< 30 s",
            ),
            common.check(
                "the same file again (all matched)", figures["again"]["seconds"], "s", 30, "< 30 s"
            ),
        ],
    )


if __name__ == "__main__":
    main()

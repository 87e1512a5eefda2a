"""Sheet 4 (居民诉求) of the monthly workbook: figures as the month ended, no personal data."""

import datetime
import io
import re
import zipfile

import openpyxl
import pytest

from renovation.models import ItemCategory
from renovation.report_workbook import build_workbook
from renovation.selectors.report import Month
from residents.models import RequestLog, RequestStatus
from residents.report import request_tallies
from residents.services import request_transition

ZONE = datetime.timezone(datetime.timedelta(hours=8))
JUNE = Month.parse("2022-06")


def at(month: int, day: int) -> datetime.datetime:
    return datetime.datetime(2022, month, day, 10, 0, tzinfo=ZONE)


def resolve(request, user, when: datetime.datetime) -> None:
    for status in (RequestStatus.UNDER_REVIEW, RequestStatus.ACCEPTED, RequestStatus.RESOLVED):
        request_transition(request=request, to_status=status, user=user, note="已处理")
    RequestLog.objects.filter(request=request).update(at=when)


@pytest.fixture
def requests(registry, users, make_request):
    roads = ItemCategory.objects.get(code="roads")
    office = users["programme_office"]
    early = make_request(category=roads, logged_at=at(5, 10))
    resolve(early, office, at(6, 5))
    open_gy = make_request(logged_at=at(6, 15))
    make_request(logged_at=at(7, 2))
    late = make_request(registry["compounds"]["JN"], logged_at=at(6, 20))
    resolve(late, office, at(7, 10))
    return {"early": early, "open_gy": open_gy, "late": late}


def test_tallies_count_new_to_date_and_resolved_as_the_month_ended(requests):
    by_category, by_community = request_tallies(JUNE)
    roads, other = by_category["道路"], by_category["其他"]
    assert (roads.new, roads.to_date, roads.resolved) == (0, 1, 1)
    assert roads.median_days == 26.0
    assert (other.new, other.to_date, other.resolved) == (2, 2, 0)
    assert (by_community["雅儒街道 广跃社区"].to_date, by_community["雅儒街道 广跃社区"].new) == (
        2,
        1,
    )
    assert by_community["解放街道 解放南社区"].resolved == 0


def test_july_resolution_does_not_change_june(requests):
    july_category, _ = request_tallies(Month.parse("2022-07"))
    assert july_category["其他"].resolved == 1
    june_category, _ = request_tallies(JUNE)
    assert june_category["其他"].resolved == 0


def test_sheet_lists_the_oldest_open_requests_without_personal_data(requests):
    content = build_workbook(JUNE)
    sheet = openpyxl.load_workbook(io.BytesIO(content))["居民诉求"]
    rows = [row for row in sheet.iter_rows(values_only=True) if row[0]]
    open_rows = [row for row in rows if str(row[0]).split(" · ")[0].isdigit()]
    assert [int(row[0].split(" · ")[0]) for row in open_rows] == [
        requests["open_gy"].pk,
        requests["late"].pk,
    ]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        text = b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".xml"))
    assert not re.search(rb"1[3-9]\d{9}", text)
    assert "王阿姨".encode() not in text


def test_sheet_totals_are_formulas(requests):
    sheet = openpyxl.load_workbook(io.BytesIO(build_workbook(JUNE)))["居民诉求"]
    totals = [row for row in sheet.iter_rows(values_only=True) if row[0] == "合计"]
    assert len(totals) == 2
    assert all(str(row[1]).startswith("=SUM(") for row in totals)

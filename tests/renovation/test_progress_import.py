"""The monthly progress import: sub-districts' Excel workbooks of 形象进度, checked with the
same rules as a figure typed on the project page, all or nothing."""

import datetime
import io
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from renovation import services
from renovation.models import ProgressUpdate, ProjectStatus, RenovationProject, Role
from renovation.progress_import import ProgressImportResult, default_as_of
from renovation.services import progress_record
from tests.factories import CompoundFactory

pytestmark = pytest.mark.usefixtures("english")

D = datetime.date
AS_OF = D(2022, 6, 30)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE_ROWS = (["柳北区老旧小区改造项目形象进度月报"], ["填报单位：雅儒街道办事处"])


def make_project(compound, *, status=ProjectStatus.UNDER_CONSTRUCTION, batch_year=2022):
    """A project at `status` with the dates its status needs. Built directly: the lifecycle
    and the willingness gate have their own tests."""
    dates = {}
    if status not in (ProjectStatus.PIPELINE, ProjectStatus.FEASIBILITY):
        dates["plan_approved_on"] = D(batch_year, 2, 10)
    if status == ProjectStatus.UNDER_CONSTRUCTION:
        dates["actual_start"] = D(batch_year, 3, 10)
    return RenovationProject.objects.create(
        compound=compound,
        batch_year=batch_year,
        name=f"{compound.name}改造项目",
        status=status,
        **dates,
    )


@pytest.fixture
def office(users):
    return users["programme_office"]


@pytest.fixture
def projects(registry):
    """Under construction: 广跃社区一号院 and 北雀社区一号院 (雅儒街道), 解放南社区一号院
    (解放街道). Still in feasibility: 胜利小区 of 广跃社区."""
    compounds = registry["compounds"]
    return {
        "GY": make_project(compounds["GY"]),
        "BQ": make_project(compounds["BQ"]),
        "JN": make_project(compounds["JN"]),
        "pending": make_project(
            CompoundFactory(community=registry["a1"], name="胜利小区"),
            status=ProjectStatus.FEASIBILITY,
        ),
    }


def row(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row of the progress sheet, keyed by header."""
    values = {
        "街道": "雅儒街道",
        "社区": "广跃社区",
        "小区名称": "广跃社区一号院",
        "批次": 2022,
        "形象进度": 45,
        "截至日期": "2022-06-30",
        "情况说明": "屋面防水完成",
    }
    return values | (changes or {})


def without(values: dict[str, Any], header: str) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key != header}


@pytest.fixture
def xlsx(tmp_path):
    """Writes a progress workbook with title rows above the header, as staff send it."""

    def make(rows: list[dict], *, above=TITLE_ROWS, name="progress.xlsx", percent_format=False):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "6月进度"
        for values in above:
            sheet.append(values)
        headers = list(dict.fromkeys(header for values in rows for header in values))
        sheet.append(headers)
        for values in rows:
            sheet.append([values.get(header) for header in headers])
            if percent_format and "形象进度" in headers:
                sheet.cell(sheet.max_row, headers.index("形象进度") + 1).number_format = "0%"
        workbook.save(tmp_path / name)
        return tmp_path / name

    return make


def run(path, *, user=None, dry_run=False, as_of=None) -> ProgressImportResult:
    return services.progress_import(file=path, user=user, dry_run=dry_run, as_of=as_of)


def snapshot() -> list[dict]:
    return list(ProgressUpdate.objects.order_by("pk").values())


def places(result: ProgressImportResult) -> list[tuple]:
    return [(issue.sheet, issue.row, issue.column, issue.header) for issue in result.errors]


def refused(path: Path, **kwargs) -> ProgressImportResult:
    """Import a bad file and check that it wrote nothing."""
    before = snapshot()
    result = run(path, **kwargs)
    assert not result.ok
    assert snapshot() == before
    return result


def figures(project) -> list[tuple]:
    return list(
        project.progress_updates.order_by("recorded_on").values_list("recorded_on", "percent")
    )


# --- Good files ----------------------------------------------------------------------------


def test_good_file_imports_every_figure_under_title_rows(projects, office, xlsx):
    path = xlsx(
        [
            row(),
            row({"社区": "北雀社区", "小区名称": "北雀社区一号院", "形象进度": "60%"}),
            row({"街道": "解放街道", "社区": "解放南社区", "小区名称": "解放南社区一号院"}),
        ]
    )

    result = run(path, user=office)

    assert result.ok, result.as_text_lines()
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert result.summary() == ("Imported. Progress figures: 3 added, 0 updated, 0 unchanged.")
    update = projects["GY"].progress_updates.get()
    assert (update.recorded_on, update.percent, update.note) == (AS_OF, 45, "屋面防水完成")
    assert update.recorded_by == office
    assert figures(projects["BQ"]) == [(AS_OF, 60)]
    assert figures(projects["JN"]) == [(AS_OF, 45)]


@pytest.mark.parametrize(
    ("value", "percent"), [(45, 45), ("45", 45), (" 45 % ", 45), ("45%", 45), (45.0, 45)]
)
def test_percent_is_read_as_number_or_text(projects, xlsx, value, percent):
    assert run(xlsx([row({"形象进度": value})])).ok

    assert figures(projects["GY"]) == [(AS_OF, percent)]


@pytest.mark.parametrize(("value", "percent"), [(0.45, 45), (1, 100), (0, 0)])
def test_percent_cells_are_read_as_shown(projects, xlsx, value, percent):
    result = run(xlsx([row({"形象进度": value})], percent_format=True))

    assert result.ok, result.as_text_lines()
    assert figures(projects["GY"]) == [(AS_OF, percent)]


@pytest.mark.parametrize(
    "value", ["2022-06-30", "2022/6/30", "2022.6.30", "2022年6月30日", D(2022, 6, 30)]
)
def test_dates_are_read_as_cells_or_as_text_staff_write(projects, xlsx, value):
    assert run(xlsx([row({"截至日期": value})])).ok

    assert figures(projects["GY"]) == [(AS_OF, 45)]


def test_header_variants_and_project_names_are_accepted(projects, xlsx):
    values = {
        "序号": 1,
        "所属社区": "广跃社区",
        "项目名称": projects["GY"].name,
        "年度": "2022年",
        "完成比例(%)": 50,
        "填报日期": "2022/6/30",
        "备注": "",
    }

    result = run(xlsx([values]))

    assert result.ok, result.as_text_lines()
    assert figures(projects["GY"]) == [(AS_OF, 50)]


def test_rows_without_a_date_take_the_as_of_date(projects, xlsx):
    result = run(xlsx([without(row(), "截至日期")]), as_of=D(2022, 5, 31))

    assert result.ok, result.as_text_lines()
    assert figures(projects["GY"]) == [(D(2022, 5, 31), 45)]


def test_batch_defaults_to_the_year_of_the_date(projects, office, xlsx):
    compound = projects["GY"].compound
    earlier = RenovationProject.objects.create(
        compound=compound,
        batch_year=2019,
        name="旧批次",
        status=ProjectStatus.UNDER_CONSTRUCTION,
        plan_approved_on=D(2019, 2, 1),
        actual_start=D(2019, 3, 1),
    )

    assert run(xlsx([without(row(), "批次")])).ok
    assert figures(projects["GY"]) == [(AS_OF, 45)]

    assert run(xlsx([row({"批次": 2019})], name="2019.xlsx")).ok
    assert figures(earlier) == [(AS_OF, 45)]


def test_a_compound_with_one_project_needs_no_batch(projects, xlsx):
    late = row({"截至日期": "2023-01-31"})

    assert run(xlsx([without(late, "批次")])).ok

    assert figures(projects["GY"]) == [(D(2023, 1, 31), 45)]


def test_rows_without_a_figure_are_skipped_with_a_warning(projects, xlsx):
    path = xlsx(
        [
            row(),
            row(
                {
                    "社区": "北雀社区",
                    "小区名称": "北雀社区一号院",
                    "形象进度": None,
                    "情况说明": None,
                }
            ),
        ]
    )

    result = run(path)

    assert result.ok
    assert result.created == 1
    assert [(w.sheet, w.message) for w in result.warnings] == [
        ("6月进度", "1 row has no 形象进度 and was not imported: row 5.")
    ]


def test_footnotes_and_totals_are_skipped(projects, xlsx, tmp_path):
    workbook = openpyxl.load_workbook(xlsx([row()]))
    workbook.active.append([])
    workbook.active.append(["合计", None, None, None, 45])
    workbook.active.append(["注：形象进度按已完成工程量估算。"])
    workbook.save(tmp_path / "footnotes.xlsx")

    result = run(tmp_path / "footnotes.xlsx")

    assert result.ok, result.as_text_lines()
    assert (result.created, result.warnings) == (1, [])


def test_lower_figure_with_a_note_is_accepted(projects, xlsx):
    progress_record(project=projects["GY"], percent=60, on=D(2022, 5, 31), user=None)

    assert run(xlsx([row({"形象进度": 40, "情况说明": "返工"})])).ok

    assert figures(projects["GY"]) == [(D(2022, 5, 31), 60), (AS_OF, 40)]


def test_months_of_one_project_in_one_file_are_checked_in_date_order(projects, xlsx):
    rows = [row({"形象进度": 40, "情况说明": ""}), row({"截至日期": "2022-05-31", "形象进度": 30})]

    result = run(xlsx(rows))

    assert result.ok, result.as_text_lines()
    assert figures(projects["GY"]) == [(D(2022, 5, 31), 30), (AS_OF, 40)]


def test_a_project_not_yet_approved_may_report_zero(projects, xlsx):
    values = row({"小区名称": "胜利小区", "形象进度": 0})

    assert run(xlsx([values])).ok

    assert figures(projects["pending"]) == [(AS_OF, 0)]


# --- Re-importing and dry runs -------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(projects, xlsx):
    path = xlsx([row(), row({"社区": "北雀社区", "小区名称": "北雀社区一号院"})])
    run(path)
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        result = run(path)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert snapshot() == before
    statements = Counter(query["sql"].split()[0].upper() for query in queries.captured_queries)
    assert statements["INSERT"] == statements["UPDATE"] == 0


def test_reimport_with_new_figures_updates_and_never_duplicates(projects, users, xlsx):
    run(xlsx([row(), row({"社区": "北雀社区", "小区名称": "北雀社区一号院"})]))
    office = users["programme_office"]

    changed = [row({"形象进度": 50}), row({"社区": "北雀社区", "小区名称": "北雀社区一号院"})]
    result = run(xlsx(changed, name="again.xlsx"), user=office)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert ProgressUpdate.objects.count() == 2
    update = projects["GY"].progress_updates.get()
    assert (update.percent, update.recorded_by) == (50, office)
    # Who changed what: the first import by the system (no user), the second by the office.
    changes = update.history.order_by("history_date")
    assert [(h.history_type, h.percent, h.history_user) for h in changes] == [
        ("+", 45, None),
        ("~", 50, office),
    ]


def test_dry_run_counts_and_saves_nothing(projects, xlsx):
    run(xlsx([row()]))
    before = snapshot()
    path = xlsx(
        [row({"形象进度": 50}), row({"社区": "北雀社区", "小区名称": "北雀社区一号院"})],
        name="next.xlsx",
    )

    result = run(path, dry_run=True)

    assert result.ok and result.dry_run
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    assert snapshot() == before
    assert result.summary() == (
        "Check only, nothing was saved. Progress figures: 1 to add, 1 to update, 0 unchanged."
    )


# --- Bad files: every bad row is reported and nothing is written ---------------------------


@pytest.mark.parametrize(
    ("changes", "header", "message"),
    [
        ({"形象进度": 101}, "形象进度", "Progress is a whole number from 0 to 100."),
        ({"形象进度": -1}, "形象进度", "Progress is a whole number from 0 to 100."),
        (
            {"形象进度": "abc"},
            "形象进度",
            "“abc” is not a whole percentage: write a whole number from 0 to 100, such as 45 "
            "or 45%.",
        ),
        (
            {"形象进度": 45.5},
            "形象进度",
            "“45.5” is not a whole percentage: write a whole number from 0 to 100, such as 45 "
            "or 45%.",
        ),
        (
            {"截至日期": "六月底"},
            "截至日期",
            "“六月底” is not a date; write it like 2022-06-30, 2022/6/30 or 2022年6月30日.",
        ),
        (
            {"截至日期": "2022-02-30"},
            "截至日期",
            "“2022-02-30” is not a date; write it like 2022-06-30, 2022/6/30 or 2022年6月30日.",
        ),
        (
            {"截至日期": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()},
            "截至日期",
            "The date cannot be later than today.",
        ),
        (
            {"小区名称": "机械厂宿舍"},
            "小区名称",
            "“机械厂宿舍” of 广跃社区 has no renovation project. Projects are added by the "
            "programme office, not by the import.",
        ),
        (
            {"社区": "不存在社区"},
            "社区",
            "No community “不存在社区” in “雅儒街道” that you may report progress for.",
        ),
        (
            {"批次": 2020},
            "批次",
            "“广跃社区一号院” of 广跃社区 has no project in the 2020 batch; its projects are in "
            "2022.",
        ),
        ({"批次": "明年"}, "批次", "“明年” is not a batch year; write it like 2022 or 2022年."),
        ({"形象进度": None, "情况说明": "本月停工"}, "形象进度", "Required; this cell is empty."),
        ({"小区名称": " "}, "小区名称", "Required; this cell is empty."),
        (
            {"小区名称": "胜利小区"},
            "形象进度",
            "A project that has no approved plan yet cannot report progress.",
        ),
    ],
)
def test_bad_cell_is_an_error_at_its_column(projects, xlsx, changes, header, message):
    result = refused(xlsx([row(changes)]))

    assert [(e.sheet, e.row, e.header, e.message) for e in result.errors] == [
        ("6月进度", 4, header, message)
    ]


def test_lower_figure_without_a_note_is_an_error_at_the_note(projects, xlsx):
    progress_record(project=projects["GY"], percent=60, on=D(2022, 5, 31), user=None)

    result = refused(xlsx([row({"形象进度": 40, "情况说明": ""})]))

    assert places(result) == [("6月进度", 4, "G", "情况说明")]
    assert result.errors[0].message == (
        "Progress is lower than the 60% reported on 2022-05-31: say why in the note."
    )


def test_import_and_project_page_give_the_same_message(projects, xlsx):
    progress_record(project=projects["GY"], percent=60, on=D(2022, 5, 31), user=None)
    with pytest.raises(ValidationError) as error:
        progress_record(project=projects["GY"], percent=40, on=AS_OF, user=None)

    result = refused(xlsx([row({"形象进度": 40, "情况说明": ""})]))

    assert [result.errors[0].message] == error.value.message_dict["note"]


def test_lower_than_an_earlier_row_of_the_same_file_needs_a_note(projects, xlsx):
    rows = [row({"形象进度": 20, "情况说明": ""}), row({"截至日期": "2022-05-31", "形象进度": 30})]

    result = refused(xlsx(rows))

    assert places(result) == [("6月进度", 4, "G", "情况说明")]


def test_same_project_twice_for_one_date_is_an_error(projects, xlsx):
    result = refused(xlsx([row(), row({"形象进度": 50})]))

    assert places(result) == [("6月进度", 5, "C", "小区名称")]
    assert result.errors[0].message == (
        f"“{projects['GY'].name}” is listed twice for 2022-06-30: also on row 4 of “6月进度”."
    )


def test_project_name_and_compound_name_of_one_project_are_the_same_project(projects, xlsx):
    result = refused(xlsx([row(), row({"小区名称": projects["GY"].name})]))

    assert "is listed twice for 2022-06-30" in result.errors[0].message


def test_compound_with_projects_in_several_batches_needs_the_batch(projects, xlsx):
    RenovationProject.objects.create(
        compound=projects["GY"].compound,
        batch_year=2019,
        name="旧批次",
        status=ProjectStatus.COMPLETED,
        plan_approved_on=D(2019, 2, 1),
        actual_start=D(2019, 3, 1),
        actual_finish=D(2019, 9, 1),
    )

    result = refused(xlsx([without(row({"截至日期": "2021-12-31"}), "批次")]))

    assert places(result) == [("6月进度", 4, "C", "小区名称")]
    assert result.errors[0].message == (
        "“广跃社区一号院” of 广跃社区 has projects in several batches (2019、2022); fill in the "
        "批次 column to say which."
    )


def test_row_without_a_date_and_no_as_of_date_is_an_error(projects, xlsx):
    result = refused(xlsx([without(row(), "截至日期")]))

    assert places(result) == [("6月进度", 4, "", "")]
    assert result.errors[0].message == (
        "No date: fill in 截至日期, or give the as-of date when importing."
    )


def test_as_of_date_in_the_future_is_refused(projects, xlsx):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    with pytest.raises(ValidationError) as error:
        run(xlsx([without(row(), "截至日期")]), as_of=tomorrow)

    assert error.value.message_dict == {"as_of": ["The date cannot be later than today."]}
    assert not ProgressUpdate.objects.exists()


def test_missing_required_column_is_an_error(projects, xlsx):
    result = refused(xlsx([without(row(), "形象进度")]))

    assert [(e.sheet, e.row, e.message) for e in result.errors] == [
        (
            "6月进度",
            3,
            "Column “形象进度” is missing (also accepted: 进度、完成比例、形象进度%、进度%、"
            "完成比例%、工程进度、完成进度).",
        )
    ]


def test_sheet_with_a_header_and_no_rows_is_an_error(projects, xlsx, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(list(row()))
    workbook.save(tmp_path / "empty.xlsx")

    result = refused(tmp_path / "empty.xlsx")

    assert result.errors[0].message == "The progress sheet has no rows under its header."


def test_sheet_whose_rows_have_no_figure_is_an_error(projects, xlsx):
    result = refused(xlsx([row({"形象进度": None, "情况说明": None})]))

    assert result.errors[0].message == (
        "No row has a 形象进度 figure: fill it in for the projects you report."
    )
    assert "1 row has no 形象进度" in result.warnings[0].message


def test_empty_workbook_is_an_error(projects, tmp_path):
    openpyxl.Workbook().save(tmp_path / "blank.xlsx")

    result = refused(tmp_path / "blank.xlsx")

    assert result.errors[0].message.startswith("No progress sheet found.")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ("社区,小区名称,形象进度\n广跃社区,广跃社区一号院,45\n".encode(), "progress.csv"),
        (b"this is not a workbook", "renamed.xlsx"),
    ],
)
def test_a_file_that_is_not_an_xlsx_workbook_gets_a_clear_error(projects, tmp_path, content, name):
    (tmp_path / name).write_bytes(content)

    result = refused(tmp_path / name)

    assert result.errors[0].message.startswith("This file is not an Excel workbook (.xlsx).")


def test_every_bad_row_is_reported_in_sheet_order_and_good_rows_are_not_saved(projects, xlsx):
    rows = [
        row({"社区": "北雀社区", "小区名称": "北雀社区一号院"}),  # good
        row({"形象进度": 101, "截至日期": "六月底"}),
        row({"社区": "北雀社区", "小区名称": "没有这个小区"}),
        row({"小区名称": "胜利小区", "形象进度": 10}),
    ]

    result = refused(xlsx(rows))

    assert places(result) == [
        ("6月进度", 5, "E", "形象进度"),
        ("6月进度", 5, "F", "截至日期"),
        ("6月进度", 6, "C", "小区名称"),
        ("6月进度", 7, "E", "形象进度"),
    ]
    assert result.summary() == "Not imported: 4 problems found. Nothing was saved."


# --- Who may import what -------------------------------------------------------------------


def test_sub_district_staff_may_only_report_their_own_sub_district(projects, users, xlsx):
    path = xlsx(
        [row(), row({"街道": "解放街道", "社区": "解放南社区", "小区名称": "解放南社区一号院"})]
    )

    result = refused(path, user=users["sub_district_staff"])

    assert places(result) == [("6月进度", 5, "B", "社区")]
    assert result.errors[0].message == (
        "No community “解放南社区” in “解放街道” that you may report progress for."
    )


def test_sub_district_staff_import_their_own_projects(projects, users, xlsx):
    result = run(xlsx([row()]), user=users["sub_district_staff"])

    assert result.ok
    assert projects["GY"].progress_updates.get().recorded_by == users["sub_district_staff"]


@pytest.mark.parametrize("role", ["leader", "community_staff", "finance", "grid_worker"])
def test_service_refuses_a_user_who_may_not_add_progress(projects, users, xlsx, role):
    with pytest.raises(PermissionDenied):
        run(xlsx([row()]), user=users[role])
    assert not ProgressUpdate.objects.exists()


# --- Speed ---------------------------------------------------------------------------------


@pytest.fixture
def many_projects(registry):
    """100 projects under construction in 广跃社区, built without the lifecycle service."""
    compounds = [
        CompoundFactory(community=registry["a1"], name=f"批量小区{i:03d}") for i in range(100)
    ]
    RenovationProject.objects.bulk_create(
        RenovationProject(
            compound=compound,
            batch_year=2022,
            name=f"{compound.name}改造",
            status=ProjectStatus.UNDER_CONSTRUCTION,
            plan_approved_on=D(2022, 2, 1),
            actual_start=D(2022, 3, 1),
        )
        for compound in compounds
    )
    return compounds


def query_count(path: Path, user) -> int:
    user = type(user).objects.get(pk=user.pk)  # as on a request: its profile not yet read
    with CaptureQueriesContext(connection) as queries:
        assert run(path, user=user).ok
    return len(queries.captured_queries)


def test_query_count_does_not_grow_with_the_rows(many_projects, office, xlsx):
    rows = [row({"小区名称": compound.name}) for compound in many_projects]
    small = query_count(xlsx(rows[:10], name="small.xlsx"), office)
    big = query_count(xlsx(rows, name="big.xlsx"), office)

    assert big == small
    assert ProgressUpdate.objects.count() == 100
    # And again, now that every figure exists and is overwritten.
    changed = [values | {"形象进度": 50} for values in rows]
    again_small = query_count(xlsx(changed[:10], name="again-small.xlsx"), office)
    again_big = query_count(xlsx(changed, name="again-big.xlsx"), office)
    assert again_big == again_small


# --- The template --------------------------------------------------------------------------


def download_template(client, user) -> openpyxl.Workbook:
    client.force_login(user)
    response = client.get(reverse("progress-template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.content))


def template_rows(workbook) -> list[tuple]:
    rows = list(workbook.active.iter_rows(values_only=True))
    header = next(i for i, values in enumerate(rows) if values[0] == "街道")
    return rows[header:]


def test_template_lists_the_users_active_projects_with_their_last_figure(projects, users, client):
    progress_record(project=projects["GY"], percent=30, on=D(2022, 5, 31), user=None)

    rows = template_rows(download_template(client, users["sub_district_staff"]))

    header, *data = rows
    assert header == (
        "街道", "社区", "小区名称", "批次", "形象进度(%)", "截至日期", "情况说明", "上次填报(%)"
    )  # fmt: skip
    # 解放南社区 is another sub-district's; 胜利小区 has no approved plan yet.
    assert [(r[1], r[2], r[3], r[4], r[7]) for r in data] == [
        ("广跃社区", "广跃社区一号院", 2022, None, 30),
        ("北雀社区", "北雀社区一号院", 2022, None, 0),
    ]
    assert {r[5].date() for r in data} == {default_as_of()}


def test_template_filled_in_imports(projects, users, client, tmp_path):
    workbook = download_template(client, users["programme_office"])
    sheet = workbook.active
    for values in sheet.iter_rows():
        if values[2].value == "广跃社区一号院":
            values[4].value = 55
            values[6].value = "外墙施工中"
    workbook.save(tmp_path / "filled.xlsx")

    with translation.override("en"):  # the download left the thread in Chinese
        result = run(tmp_path / "filled.xlsx", user=users["programme_office"])

    assert result.ok, result.as_text_lines()
    assert result.created == 1
    assert figures(projects["GY"]) == [(default_as_of(), 55)]
    # The other listed projects were left blank: not reported this month.
    assert "2 rows have no 形象进度 and were not imported" in result.warnings[0].message


def test_template_writes_a_name_that_looks_like_a_formula_as_text(projects, users, client):
    compound = projects["GY"].compound
    compound.name = "=1+2"
    compound.save()
    workbook = download_template(client, users["programme_office"])
    cells = [row[2] for row in workbook.active.iter_rows() if row[2].value == "=1+2"]
    assert len(cells) == 1 and cells[0].data_type == "s" and cells[0].quotePrefix


@pytest.mark.parametrize("role", ["leader", "community_staff", "finance", "no_role"])
def test_template_download_is_forbidden_without_add_permission(projects, users, client, role):
    client.force_login(users[role])

    assert client.get(reverse("progress-template")).status_code == 403


# --- The page ------------------------------------------------------------------------------


def upload(path: Path, **data) -> dict:
    return {"file": SimpleUploadedFile(path.name, path.read_bytes(), content_type=XLSX), **data}


@pytest.mark.parametrize("role", ["leader", "community_staff", "finance", "no_role"])
def test_import_page_is_forbidden_without_add_permission(projects, users, client, role, xlsx):
    client.force_login(users[role])

    assert client.get(reverse("progress-import")).status_code == 403
    assert client.post(reverse("progress-import"), upload(xlsx([row()]))).status_code == 403
    assert not ProgressUpdate.objects.exists()


def test_import_page_needs_a_login(client):
    response = client.get(reverse("progress-import"))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_import_page_shows_the_form_with_last_month_end_and_the_template(users, client):
    client.force_login(users["sub_district_staff"])

    response = client.get(reverse("progress-import"))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in content
    assert f'value="{default_as_of().isoformat()}"' in content
    assert reverse("progress-template") in content
    assert "导入月度进度" in content


def test_import_page_saves_and_shows_the_counts(projects, users, client, xlsx):
    client.force_login(users["sub_district_staff"])

    response = client.post(
        reverse("progress-import"), upload(xlsx([row()]), as_of="2022-06-30"), follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("progress-import")
    assert "已导入。进度数据：新增 1 条，更新 0 条，未变 0 条。" in response.content.decode()
    assert figures(projects["GY"]) == [(AS_OF, 45)]


def test_import_page_shows_every_error_in_chinese_and_saves_nothing(projects, users, client, xlsx):
    client.force_login(users["programme_office"])
    path = xlsx([row({"形象进度": 101}), row({"社区": "北雀社区", "小区名称": "没有这个小区"})])

    response = client.post(reverse("progress-import"), upload(path))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="import-errors"' in content
    assert "未导入：发现 2 处问题，未保存任何内容。" in content
    assert "形象进度须为 0 至 100 之间的整数。" in content
    assert "“没有这个小区”" in content
    assert not ProgressUpdate.objects.exists()


def test_import_page_dry_run_shows_counts_and_saves_nothing(projects, users, client, xlsx):
    client.force_login(users["programme_office"])

    response = client.post(reverse("progress-import"), upload(xlsx([row()]), dry_run="on"))

    assert response.status_code == 200
    assert response.context["result"].created == 1
    assert "仅检查，未保存任何内容" in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_import_page_refuses_a_file_that_is_not_xlsx(users, client):
    client.force_login(users["programme_office"])
    file = SimpleUploadedFile("progress.csv", b"a,b\n", content_type="text/csv")

    response = client.post(reverse("progress-import"), {"file": file})

    assert response.status_code == 200
    assert "请上传扩展名为 .xlsx 的 Excel 工作簿" in response.content.decode()


def test_import_page_refuses_an_as_of_date_in_the_future(projects, users, client, xlsx):
    client.force_login(users["programme_office"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(reverse("progress-import"), upload(xlsx([row()]), as_of=tomorrow))

    assert response.status_code == 200
    assert response.context["form"].errors["as_of"]
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize(
    ("role", "shown"),
    [("programme_office", True), ("sub_district_staff", True), ("leader", False)],
)
def test_project_list_links_to_the_import_for_those_who_may_add_progress(
    users, client, role, shown
):
    client.force_login(users[role])

    response = client.get(reverse("project-list"))

    assert (reverse("progress-import") in response.content.decode()) is shown


# --- The command ---------------------------------------------------------------------------


def import_progress(*args: str) -> str:
    out = StringIO()
    call_command("import_progress", *args, stdout=out)
    return out.getvalue()


def test_command_imports_and_prints_the_counts(projects, xlsx):
    output = import_progress(str(xlsx([row()])))

    assert "Imported. Progress figures: 1 added, 0 updated, 0 unchanged." in output
    assert figures(projects["GY"]) == [(AS_OF, 45)]


def test_command_dry_run_saves_nothing(projects, xlsx):
    output = import_progress(str(xlsx([row()])), "--dry-run")

    assert "Progress figures: 1 to add" in output
    assert not ProgressUpdate.objects.exists()


def test_command_as_of_dates_rows_without_a_date(projects, xlsx):
    import_progress(str(xlsx([without(row(), "截至日期")])), "--as-of", "2022-05-31")

    assert figures(projects["GY"]) == [(D(2022, 5, 31), 45)]


def test_command_prints_every_error_and_fails(projects, xlsx):
    path = xlsx([row({"形象进度": 101}), row({"社区": "北雀社区", "小区名称": "没有这个小区"})])
    out = StringIO()

    with pytest.raises(CommandError, match="Not imported: 2 problems found"):
        call_command("import_progress", str(path), stdout=out)

    errors = [line for line in out.getvalue().splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: 6月进度, row 4, column E (形象进度): Progress is a whole number from 0 to 100.",
        "Error: 6月进度, row 5, column C (小区名称): “没有这个小区” of 北雀社区 has no renovation "
        "project. Projects are added by the programme office, not by the import.",
    ]
    assert not ProgressUpdate.objects.exists()


def test_command_user_option_limits_the_import_to_their_area(projects, registry, make_user, xlsx):
    make_user(Role.SUB_DISTRICT_STAFF, sub_district=registry["sub_b"], username="jf")

    with pytest.raises(CommandError, match="Not imported: 1 problem found"):
        import_progress(str(xlsx([row()])), "--user", "jf")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "30/06/2022"], "--as-of must be a date like 2022-06-30"),
        (["--as-of", "2999-01-01"], "The date cannot be later than today."),
        (["--user", "nobody"], "No user 'nobody'"),
        (["--user", "leader"], "may not add progress"),
    ],
)
def test_command_refuses_bad_options(projects, users, xlsx, args, message):
    with pytest.raises(CommandError, match=message):
        import_progress(str(xlsx([row()])), *args)
    assert not ProgressUpdate.objects.exists()


def test_command_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        import_progress(str(tmp_path / "missing.xlsx"))

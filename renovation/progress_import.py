"""Reading, checking and writing the monthly progress workbook that sub-districts send.

Each row gives a project's 形象进度 (progress, %) as of a date. The project is named the way
staff name it, by 社区 and 小区名称 (or 项目名称), with 批次 when the compound has projects
in several batches. Every row obeys the same rules as a figure typed on the project page
(`services.projects.check_progress`); one bad row refuses the whole file, and every bad row
is reported by sheet, Excel row and column.

Callers use `renovation.services.progress_import`, which runs `read_workbook`, then
`plan_import` and, for a real import, `write_plan` in one transaction.
"""

import bisect
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, BinaryIO, NamedTuple

import openpyxl
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .models import Community, ProgressUpdate, ProjectStatus, RenovationProject
from .services.projects import check_progress
from .spreadsheets import append_row
from .workbooks import (
    HEADER_SCAN_ROWS,
    CellError,
    Column,
    ImportResult,
    Issue,
    RowReader,
    Sheet,
    ShownAsPercent,
    build_sheet,
    community_key,
    date_of,
    find_header_row,
    header_of,
    issue_order,
    key,
    max_length,
    read_sheets,
    sub_district_key,
    text,
    text_of,
)

# Rows per bulk statement (Django splits further on SQLite, which caps the parameters).
BATCH_SIZE = 1000

PROGRESS_COLUMNS = (
    Column("sequence", ("序号",)),
    Column("sub_district", ("街道", "所属街道")),
    Column("community", ("社区", "所属社区"), required=True),
    Column("name", ("小区名称", "项目名称", "小区名"), required=True),
    Column("batch", ("批次", "年度", "批次年度", "改造批次", "改造年度")),
    Column(
        "percent",
        ("形象进度", "进度", "完成比例", "形象进度%", "进度%", "完成比例%", "工程进度", "完成进度"),
        required=True,
    ),
    Column("recorded_on", ("截至日期", "截止日期", "填报日期", "日期", "统计日期")),
    Column("note", ("情况说明", "备注", "说明", "进展情况")),
)
# A row with only these is blank (the template dates every row). A row naming a project but
# without a figure is a project not reported this month: skipped, with a warning.
PREFILLED = frozenset({"sequence", "recorded_on"})
# Projects the template lists: those that report progress month by month.
TEMPLATE_STATUSES = (ProjectStatus.PLAN_APPROVED, ProjectStatus.UNDER_CONSTRUCTION)
TEMPLATE_FIELDS = ("sub_district", "community", "name", "batch", "percent", "recorded_on", "note")
TEMPLATE_SHEET = "形象进度"
TEMPLATE_LAST_HEADER = "上次填报(%)"
# The form's checks would say what check_progress says; the column tells staff where.
RULE_FIELDS = {"percent": "percent", "on": "recorded_on", "note": "note"}


@dataclass
class ProgressImportResult(ImportResult):
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def done_summary(self) -> str:
        counts = {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
        if self.dry_run:
            return (
                _(
                    "Check only, nothing was saved. Progress figures: %(created)d to add, "
                    "%(updated)d to update, %(unchanged)d unchanged."
                )
                % counts
            )
        return (
            _(
                "Imported. Progress figures: %(created)d added, %(updated)d updated, "
                "%(unchanged)d unchanged."
            )
            % counts
        )


def default_as_of() -> date:
    """The end of last month: sub-districts report in the first days of the next month."""
    return timezone.localdate().replace(day=1) - timedelta(days=1)


# --- Reading the workbook ------------------------------------------------------------------


@dataclass
class ProgressWorkbook:
    sheets: list[Sheet]
    errors: list[Issue]


def read_workbook(file: BinaryIO | str) -> ProgressWorkbook:
    """Every sheet whose header names 社区 and 小区名称 (sub-districts sometimes send one
    sheet per community). Raises NotAWorkbook when openpyxl cannot read the file at all."""
    errors: list[Issue] = []
    sheets = []
    found = False
    for title, rows in read_sheets(file, mark_percent_cells=True):
        header_row = find_header_row(rows, PROGRESS_COLUMNS, "community", "name")
        if header_row is None:
            continue
        found = True
        sheet = build_sheet(title, rows, header_row, PROGRESS_COLUMNS, errors, prefilled=PREFILLED)
        if sheet is not None:
            sheets.append(sheet)
    if not found:
        message = _(
            "No progress sheet found. Its header must be within the first %(rows)d rows and "
            "have the columns 社区, 小区名称 and 形象进度."
        ) % {"rows": HEADER_SCAN_ROWS}
        errors.append(Issue(message))
    return ProgressWorkbook(sheets, errors)


# --- Cell values ---------------------------------------------------------------------------


def percent_of(value: Any) -> int:
    """45, "45", "45%" or a percentage cell showing 45%, as 45. The range is a rule of
    progress itself, checked with the others."""
    if isinstance(value, ShownAsPercent):
        number = value.percent
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and (
        match := re.fullmatch(r"([+-]?\d+(?:\.\d*)?)[%％]?", key(value))
    ):
        number = float(match[1])
    else:
        number = None
    if number is None or not float(number).is_integer():
        message = _(
            "“%(value)s” is not a whole percentage: write a whole number from 0 to 100, such as "
            "45 or 45%%."
        )
        raise CellError(message % {"value": text_of(value)})
    return int(number)


def batch_year_of(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (match := re.fullmatch(r"(\d{4})(年度?)?(批次?)?", key(value))):
        return int(match[1])
    message = _("“%(value)s” is not a batch year; write it like 2022 or 2022年.")
    raise CellError(message % {"value": text_of(value)})


# --- Finding the project a row is for ------------------------------------------------------


class RowProblem(Exception):
    """A row that names no project, or several; reported at the column that says why."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


class Projects:
    """The projects the importing user may report on, found by the names in a sheet."""

    def __init__(self, communities: Iterable[Community], projects: Iterable[RenovationProject]):
        self.communities: dict[str, list[Community]] = defaultdict(list)
        for community in communities:
            self.communities[community_key(community.name)].append(community)
        self.by_name: dict[tuple[int, str], list[RenovationProject]] = defaultdict(list)
        for project in projects:
            names = {key(project.compound.name), key(project.name)}
            for name in names:
                self.by_name[(project.compound.community_id, name)].append(project)

    def find(
        self,
        *,
        community_name: str,
        sub_district_name: str | None,
        name: str,
        batch: int | None,
        on: date | None,
    ) -> RenovationProject:
        community = self._community(community_name, sub_district_name)
        found = self.by_name.get((community.pk, key(name)), [])
        params = {"name": name, "community": community.name}
        if not found:
            message = _(
                "“%(name)s” of %(community)s has no renovation project. Projects are added by "
                "the programme office, not by the import."
            )
            raise RowProblem("name", message % params)
        years = sorted({project.batch_year for project in found})
        params["years"] = "、".join(str(year) for year in years)
        if batch is not None:
            chosen = [project for project in found if project.batch_year == batch]
            if not chosen:
                message = _(
                    "“%(name)s” of %(community)s has no project in the %(batch)d batch; its "
                    "projects are in %(years)s."
                )
                raise RowProblem("batch", message % (params | {"batch": batch}))
        elif len(years) == 1:
            chosen = found
        else:
            # The batch defaults to the year of the figure's date.
            chosen = [project for project in found if on and project.batch_year == on.year]
            if not chosen:
                message = _(
                    "“%(name)s” of %(community)s has projects in several batches (%(years)s); "
                    "fill in the 批次 column to say which."
                )
                raise RowProblem("batch", message % params)
        if len(chosen) > 1:
            message = _(
                "Several projects of %(community)s are named “%(name)s”; write the compound's "
                "name in the 小区名称 column."
            )
            raise RowProblem("name", message % params)
        return chosen[0]

    def _community(self, name: str, sub_district_name: str | None) -> Community:
        found = self.communities.get(community_key(name), [])
        if sub_district_name:
            wanted = sub_district_key(sub_district_name)
            found = [c for c in found if sub_district_key(c.sub_district.name) == wanted]
        if len(found) == 1:
            return found[0]
        params = {"community": name, "sub_district": sub_district_name}
        if found:
            params["sub_districts"] = "、".join(c.sub_district.name for c in found)
            message = _(
                "Communities named “%(community)s” exist in %(sub_districts)s; fill in the "
                "街道 column to say which."
            )
        elif sub_district_name:
            message = _(
                "No community “%(community)s” in “%(sub_district)s” that you may report "
                "progress for."
            )
        else:
            message = _("No community “%(community)s” that you may report progress for.")
        raise RowProblem("community", message % params)


# --- Checking the rows ---------------------------------------------------------------------


@dataclass(eq=False)
class ProgressRow:
    sheet: Sheet
    number: int
    project: RenovationProject
    percent: int
    on: date | None  # None when the date cell is bad: the rules that need no date still apply
    note: str
    dated_in_row: bool  # False when the date is the import's as-of date


class Figure(NamedTuple):
    """A figure already recorded."""

    pk: int
    percent: int
    note: str


Figures = dict[int, dict[date, Figure]]  # project id → date → figure


@dataclass
class ImportPlan:
    result: ProgressImportResult
    user: Any = None  # who the figures and their history are recorded as
    new: list[ProgressUpdate] = field(default_factory=list)
    changed: list[ProgressUpdate] = field(default_factory=list)  # figures of a day overwritten


def plan_import(
    workbook: ProgressWorkbook,
    *,
    communities: QuerySet[Community],
    projects: QuerySet[RenovationProject],
    as_of: date | None,
    user,
    lock: bool = False,
) -> ImportPlan:
    """Check every row and work out which figures to add and which to overwrite.

    `communities` and `projects` are those the user may report on; a row naming any other is
    reported as unknown. With `lock`, the projects the file touches are locked and their
    status read again, as `progress_record` does. Runs a fixed number of queries."""
    result = ProgressImportResult(errors=list(workbook.errors))
    plan = ImportPlan(result, user)
    if not workbook.sheets:
        return plan
    finder = Projects(
        communities.select_related("sub_district"),
        projects.select_related("compound__community__sub_district"),
    )
    rows: list[ProgressRow] = []
    for sheet in workbook.sheets:
        rows += _sheet_rows(sheet, finder, as_of, result)
    if not rows and not result.errors:
        if result.warnings:  # rows name projects, but none has a figure
            message = _("No row has a 形象进度 figure: fill it in for the projects you report.")
        else:
            message = _("The progress sheet has no rows under its header.")
        result.errors.append(Issue(message, workbook.sheets[0].title))
    rows = _without_duplicates(rows, result.errors)
    project_ids = {row.project.pk for row in rows}
    if lock and project_ids:
        locked = RenovationProject.objects.select_for_update().filter(pk__in=project_ids)
        statuses = dict(locked.values_list("pk", "status"))
        for row in rows:
            row.project.status = statuses.get(row.project.pk, row.project.status)
    existing = _existing_figures(rows)
    _check_rules(rows, existing, result.errors)
    result.errors.sort(key=issue_order(sheet.title for sheet in workbook.sheets))
    if result.ok:
        _fill_plan(plan, rows, existing)
    return plan


def _sheet_rows(
    sheet: Sheet, finder: Projects, as_of: date | None, result: ProgressImportResult
) -> list[ProgressRow]:
    rows, not_reported = [], []
    for number, values in sheet.data_rows():
        if sheet.value(values, "percent") is None and sheet.value(values, "note") is None:
            not_reported.append(number)
            continue
        row = _progress_row(RowReader(sheet, number, values, result.errors), finder, as_of)
        if row is not None:
            rows.append(row)
    if not_reported:
        count = len(not_reported)
        message = ngettext(
            "%(count)d row has no 形象进度 and was not imported: row %(rows)s.",
            "%(count)d rows have no 形象进度 and were not imported: rows %(rows)s.",
            count,
        ) % {"count": count, "rows": "、".join(str(number) for number in not_reported)}
        result.warnings.append(Issue(message, sheet.title))
    return rows


def _progress_row(reader: RowReader, finder: Projects, as_of: date | None) -> ProgressRow | None:
    community_name = reader.read("community", text, required=True)
    name = reader.read("name", text, required=True)
    sub_district_name = reader.read("sub_district", text)
    batch = reader.read("batch", batch_year_of)
    percent = reader.read("percent", percent_of, required=True)
    note = reader.read("note", partial(text, max_length=max_length(ProgressUpdate, "note")))
    on = reader.read("recorded_on", date_of)
    dated_in_row = on is not None or reader.sheet.value(reader.values, "recorded_on") is not None
    if not dated_in_row:
        on = as_of
        if on is None:
            message = _("No date: fill in 截至日期, or give the as-of date when importing.")
            reader.errors.append(Issue(message, reader.sheet.title, reader.number))
    if not community_name or not name:
        return None
    try:
        project = finder.find(
            community_name=community_name,
            sub_district_name=sub_district_name,
            name=name,
            batch=batch,
            on=on,
        )
    except RowProblem as problem:
        # Without a 批次 column, a batch problem is reported at the name.
        reader.error(problem.column if reader.has(problem.column) else "name", problem.message)
        return None
    if percent is None or (on is None and not dated_in_row):
        return None
    return ProgressRow(reader.sheet, reader.number, project, percent, on, note or "", dated_in_row)


def _without_duplicates(rows: list[ProgressRow], errors: list[Issue]) -> list[ProgressRow]:
    first: dict[tuple[int, date], ProgressRow] = {}
    kept = []
    for row in rows:
        if row.on is None:
            kept.append(row)
            continue
        earlier = first.setdefault((row.project.pk, row.on), row)
        if earlier is row:
            kept.append(row)
            continue
        message = _(
            "“%(project)s” is listed twice for %(date)s: also on row %(row)d of “%(sheet)s”."
        )
        params = {"project": row.project.name, "date": row.on.isoformat()}
        params |= {"row": earlier.number, "sheet": earlier.sheet.title}
        errors.append(row.sheet.issue(row.number, "name", message % params))
    return kept


def _existing_figures(rows: list[ProgressRow]) -> Figures:
    """The figures recorded for the file's projects, up to the file's latest date."""
    figures: Figures = defaultdict(dict)
    if not rows:
        return figures
    updates = ProgressUpdate.objects.filter(
        project_id__in={row.project.pk for row in rows},
        recorded_on__lte=max((row.on for row in rows if row.on), default=date.min),
    ).values_list("project_id", "recorded_on", "pk", "percent", "note")
    for project_id, recorded_on, pk, percent, note in updates:
        figures[project_id][recorded_on] = Figure(pk, percent, note)
    return figures


def _check_rules(
    rows: list[ProgressRow],
    existing: Figures,
    errors: list[Issue],
) -> None:
    """Each row against `check_progress`, with the previous figure as it will stand once the
    file is saved: a figure recorded before, or an earlier-dated row of the same file."""
    timelines: dict[int, dict[date, int]] = defaultdict(dict)
    for project_id, figures in existing.items():
        timelines[project_id] = {on: figure.percent for on, figure in figures.items()}
    for row in rows:
        if row.on is not None:
            timelines[row.project.pk][row.on] = row.percent
    dates = {project_id: sorted(timeline) for project_id, timeline in timelines.items()}
    for row in rows:
        if row.on is None:
            _check_undated(row, errors)
            continue
        project_dates = dates[row.project.pk]
        index = bisect.bisect_left(project_dates, row.on)
        earlier = None
        if index:
            earlier_on = project_dates[index - 1]
            earlier = (earlier_on, timelines[row.project.pk][earlier_on])
        try:
            check_progress(
                status=row.project.status,
                percent=row.percent,
                on=row.on,
                note=row.note,
                earlier=earlier,
            )
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                column = RULE_FIELDS.get(name, "percent")
                if column == "recorded_on" and not row.dated_in_row:
                    column = ""  # the as-of date, not a cell
                for message in messages:
                    errors.append(row.sheet.issue(row.number, column, message))


def _check_undated(row: ProgressRow, errors: list[Issue]) -> None:
    """The rules that need no date, for a row whose date cell is bad (already reported)."""
    try:
        check_progress(
            status=row.project.status,
            percent=row.percent,
            on=timezone.localdate(),
            note=row.note,
            earlier=None,
        )
    except ValidationError as error:
        for message in error.message_dict.get("percent", []):
            errors.append(row.sheet.issue(row.number, "percent", message))


def _fill_plan(plan: ImportPlan, rows: list[ProgressRow], existing: Figures) -> None:
    result = plan.result
    for row in rows:
        before = existing.get(row.project.pk, {}).get(row.on)
        if before is not None and (before.percent, before.note) == (row.percent, row.note):
            result.unchanged += 1
            continue  # re-importing an unchanged file writes nothing
        update = ProgressUpdate(
            pk=before.pk if before else None,
            project=row.project,
            recorded_on=row.on,
            percent=row.percent,
            note=row.note,
            recorded_by=plan.user,
        )
        (plan.new if before is None else plan.changed).append(update)
    result.created, result.updated = len(plan.new), len(plan.changed)


def write_plan(plan: ImportPlan) -> None:
    """Save a checked plan in a few statements, with the change history of each figure.
    The caller holds the transaction and the locks `plan_import` took.

    One figure per project and day: a figure already recorded for the day is overwritten,
    as `progress_record` does."""
    history = {"batch_size": BATCH_SIZE, "default_user": plan.user}
    bulk_create_with_history(plan.new, ProgressUpdate, **history)
    fields = ["percent", "note", "recorded_by"]
    bulk_update_with_history(plan.changed, ProgressUpdate, fields, **history)


# --- The template staff download -----------------------------------------------------------


def template_workbook_bytes(projects: Iterable[RenovationProject], *, as_of: date) -> bytes:
    """A progress workbook listing `projects` (annotated with `progress`, the last figure),
    dated `as_of`, for staff to fill in 形象进度 and 情况说明."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = TEMPLATE_SHEET
    headers = [header_of(PROGRESS_COLUMNS, name) for name in TEMPLATE_FIELDS]
    headers[TEMPLATE_FIELDS.index("percent")] = "形象进度(%)"
    headers.append(TEMPLATE_LAST_HEADER)
    title = _("Monthly progress of renovation projects, as of %(date)s") % {
        "date": as_of.isoformat()
    }
    append_row(sheet, [title])
    append_row(sheet, [_template_notes()])
    for row in (1, 2):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(headers))
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(2, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[2].height = 15 * (_template_notes().count("\n") + 2)
    append_row(sheet, headers)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for project in projects:
        community = project.compound.community
        append_row(
            sheet,
            [
                community.sub_district.name,
                community.name,
                project.compound.name,
                project.batch_year,
                None,
                as_of,
                None,
                getattr(project, "progress", None),
            ],
        )
        sheet.cell(
            sheet.max_row, TEMPLATE_FIELDS.index("recorded_on") + 1
        ).number_format = "yyyy-mm-dd"
        sheet.cell(sheet.max_row, len(headers)).font = Font(italic=True, color="808080")
    percent_letter = get_column_letter(TEMPLATE_FIELDS.index("percent") + 1)
    validation = DataValidation(type="whole", operator="between", formula1="0", formula2="100")
    validation.error = _("Progress is a whole number from 0 to 100.")
    validation.add(f"{percent_letter}{header_row + 1}:{percent_letter}{header_row + 2000}")
    sheet.add_data_validation(validation)
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    widths = (12, 14, 22, 8, 12, 13, 40, 12)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _template_notes() -> str:
    return "\n".join(
        [
            _(
                "One project per row. Fill in 形象进度 as a whole number from 0 to 100; rows "
                "without it are not imported."
            ),
            _(
                "A figure lower than the last one needs a reason in 情况说明. 截至日期 may not be "
                "later than today."
            ),
            _(
                "%(last)s is the last figure reported, for reference only. Importing the same "
                "file again updates the figures, never duplicates them."
            )
            % {"last": TEMPLATE_LAST_HEADER},
        ]
    )

"""The monthly joint-meeting workbook, written with openpyxl in write-only mode.

Every figure comes from renovation.selectors.report (the dashboard uses the same functions).
Each sheet has a title with the district and the month, a frozen header, column widths,
number formats, and totals as Excel formulas (`Formula`: every other text stays text).
Residents' phone numbers never appear."""

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.module_loading import import_string
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .models import District, ProjectStatus
from .selectors import report as figures
from .selectors.report import Month
from .spreadsheets import Formula, inert_cell

YUAN = "#,##0.00"
WAN = "#,##0.00"  # values are divided by 10,000 where a header says 万元
INTEGER = "#,##0"
PERCENT = "0.00%"
DATE = "yyyy-mm-dd"
TEXT = "@"
TEN_THOUSAND = Decimal("10000")
HUNDRED_MILLION = Decimal("100000000")

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")
THIN = Side(style="thin", color="BFBFBF")
HEADER_BORDER = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    number_format: str = "General"
    total: bool = False  # a SUM formula under the column


def wan(amount) -> Decimal:
    return (Decimal(amount) / TEN_THOUSAND).quantize(Decimal("0.01"))


class SheetWriter:
    """A write-only sheet: title, subtitle, header, rows, and a totals row of formulas."""

    HEADER_ROW = 3

    def __init__(self, workbook: Workbook, title: str, heading: str, subtitle: str, columns):
        self.sheet = workbook.create_sheet(title)
        self.columns: list[Column] = list(columns)
        self.row = 0
        for index, column in enumerate(self.columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        self.sheet.freeze_panes = f"A{self.HEADER_ROW + 1}"
        self._append([self._cell(heading, font=TITLE_FONT)])
        self._append([self._cell(subtitle)])
        self._append(
            [
                self._cell(c.header, font=HEADER_FONT, fill=HEADER_FILL, border=HEADER_BORDER)
                for c in self.columns
            ]
        )

    def _cell(self, value, *, number_format=None, font=None, fill=None, border=None):
        # Text stays text, only a Formula is a formula (renovation.spreadsheets).
        cell = inert_cell(WriteOnlyCell(self.sheet, value=value), value)
        if number_format:
            cell.number_format = number_format
        if font:
            cell.font = font
        if fill:
            cell.fill = fill
        if border:
            cell.border = border
        return cell

    def _append(self, cells: list) -> None:
        self.sheet.append(cells)
        self.row += 1

    def write(self, values: Iterable, formats: dict[int, str] | None = None) -> int:
        """Write one data row; return its Excel row number. `formats` overrides the
        columns' number formats by 0-based index, for sheets whose rows differ."""
        formats = formats or {}
        cells = [
            self._cell(value, number_format=formats.get(index, column.number_format))
            for index, (value, column) in enumerate(zip(values, self.columns, strict=True))
        ]
        self._append(cells)
        return self.row

    def totals(self, label: str, first_row: int, extra: dict[int, str] | None = None) -> int:
        """A totals row: SUM formulas under the columns marked `total`, over the data rows."""
        last_row = self.row
        cells = []
        for index, column in enumerate(self.columns, start=1):
            letter = get_column_letter(index)
            if index == 1:
                value = label
            elif extra and index in extra:
                value = Formula(extra[index].format(row=last_row + 1))
            elif column.total and last_row >= first_row:
                value = Formula(f"=SUM({letter}{first_row}:{letter}{last_row})")
            elif column.total:
                value = 0
            else:
                value = None
            cells.append(self._cell(value, number_format=column.number_format, font=HEADER_FONT))
        self._append(cells)
        return self.row

    def blank(self) -> None:
        self._append([])

    def note(self, text: str) -> None:
        self._append([self._cell(text)])


def build_workbook(month: Month) -> bytes:
    """The whole workbook for a month, as .xlsx bytes."""
    district = District.objects.order_by("pk").first()
    context = {
        "district": district.name if district else "",
        "month": month,
        "as_of": f"{month.last.year}年{month.last.month}月{month.last.day}日",
        "made": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }
    workbook = Workbook(write_only=True)
    try:
        for sheet in SHEETS:
            write_sheet = import_string(sheet) if isinstance(sheet, str) else sheet
            write_sheet(workbook, context)
    except BaseException:
        # Write-only sheets stream into temporary files: close them, or they leak.
        for worksheet in workbook.worksheets:
            if not worksheet.closed:
                worksheet.close()
        raise
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def sheet_writer(workbook, context, title: str, heading: str, columns) -> SheetWriter:
    return SheetWriter(
        workbook,
        title,
        f"{context['district']}老旧小区改造工作联席会议月报 · {heading}（{context['month']}）",
        f"统计截至{context['as_of']} · 生成于{context['made']}",
        columns,
    )


def write_summary(workbook, context) -> None:
    month: Month = context["month"]
    figures_now = figures.summary_with_change(month)
    now, before = figures_now["now"], figures_now["before"]
    sheet = sheet_writer(
        workbook,
        context,
        "总览",
        "总览",
        [
            Column("指标", 34),
            Column(f"本月（{month}）", 16, INTEGER),
            Column(f"上月（{month.previous()}）", 16, INTEGER),
            Column("较上月变化", 14, INTEGER),
            Column("单位", 8),
        ],
    )
    change = "=B{row}-C{row}"

    def line(label: str, key: str, unit: str, fmt: str = INTEGER, convert=lambda v: v) -> int:
        row = sheet.row + 1
        return sheet.write(
            [label, convert(now[key]), convert(before[key]), Formula(change.format(row=row)), unit],
            formats=dict.fromkeys((1, 2, 3), fmt),
        )

    line("居民小区总数", "compounds", "个")
    line("其中：老旧小区", "old_compounds", "个")
    line("老旧小区占比", "old_share", "", PERCENT)
    earlier = f"{now['earlier_from']}—{now['earlier_to']}年"
    line(f"{earlier}已改造老旧小区", "renovated_earlier", "个")
    line(f"{earlier}改造总投资", "invested_earlier", "亿元", "0.00", _yi)
    line("累计已改造老旧小区（含本年已完工）", "renovated_to_date", "个")
    first_status_row = sheet.row + 2
    planned_row = sheet.row + 1
    sheet.write(
        [
            f"{month.year}年计划改造小区",
            Formula(f"=SUM(B{first_status_row}:B{first_status_row + 3})"),
            Formula(f"=SUM(C{first_status_row}:C{first_status_row + 3})"),
            Formula(change.format(row=planned_row)),
            "个",
        ]
    )
    line("其中：前期推进中", "batch_preparation", "个")
    line("其中：已进场施工", "batch_under_construction", "个")
    line("其中：已完工", "batch_completed", "个")
    line("其中：已竣工验收", "batch_accepted", "个")
    line("惠及居民", "batch_households", "户")
    line("涉及楼栋", "batch_buildings", "栋")
    budget_row = line("本年计划投资", "batch_budget", "万元", WAN, wan)
    allocated_row = line("已下达资金", "batch_allocated", "万元", WAN, wan)
    paid_row = line("已拨付资金", "batch_paid", "万元", WAN, wan)
    percent = dict.fromkeys((1, 2, 3), PERCENT)
    rate_row = sheet.row + 1
    sheet.write(
        [
            "资金下达率",
            Formula(f"=IF(B{budget_row}=0,0,B{allocated_row}/B{budget_row})"),
            Formula(f"=IF(C{budget_row}=0,0,C{allocated_row}/C{budget_row})"),
            Formula(change.format(row=rate_row)),
            "",
        ],
        formats=percent,
    )
    sheet.write(
        [
            "资金拨付率（占已下达）",
            Formula(f"=IF(B{allocated_row}=0,0,B{paid_row}/B{allocated_row})"),
            Formula(f"=IF(C{allocated_row}=0,0,C{paid_row}/C{allocated_row})"),
            Formula(change.format(row=rate_row + 1)),
            "",
        ],
        formats=percent,
    )
    line("延期项目（计划完工已过仍未完工）", "delayed", "个")

    # Chart data, then the two charts beside the table.
    sheet.blank()
    sheet.write(["项目状态", "项目数", None, None, None])
    status_first = sheet.row + 1
    for label, key in [
        ("前期推进中", "batch_preparation"),
        ("已进场施工", "batch_under_construction"),
        ("已完工", "batch_completed"),
        ("已竣工验收", "batch_accepted"),
    ]:
        sheet.write([label, now[key], None, None, None])
    status_last = sheet.row
    sheet.blank()
    sheet.write(["资金（万元）", "金额", None, None, None])
    money_first = sheet.row + 1
    for label, key in [
        ("计划投资", "batch_budget"),
        ("已下达", "batch_allocated"),
        ("已拨付", "batch_paid"),
    ]:
        sheet.write([label, wan(now[key]), None, None, None], formats={1: WAN})
    money_last = sheet.row

    sheet.sheet.add_chart(
        _bar_chart(sheet.sheet, "本年批次项目状态", status_first, status_last, "项目数"), "G3"
    )
    sheet.sheet.add_chart(
        _bar_chart(sheet.sheet, "本年批次资金（万元）", money_first, money_last, "万元"), "G20"
    )


def _yi(amount) -> Decimal:
    return (Decimal(amount) / HUNDRED_MILLION).quantize(Decimal("0.01"))


def _bar_chart(sheet, title: str, first: int, last: int, axis: str) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.y_axis.title = axis
    chart.legend = None
    chart.height, chart.width = 7.5, 14
    data = Reference(sheet, min_col=2, min_row=first - 1, max_row=last)
    categories = Reference(sheet, min_col=1, min_row=first, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    return chart


PROJECT_COLUMNS = [
    Column("序号", 6),
    Column("街道", 10),
    Column("社区", 12),
    Column("小区", 18),
    Column("项目名称", 28),
    Column("批次", 7),
    Column("类型", 12),
    Column("重点项目", 8),
    Column("改造内容", 36),
    Column("惠及户数", 10, INTEGER, total=True),
    Column("楼栋数", 8, INTEGER, total=True),
    Column("概算投资（元）", 16, YUAN, total=True),
    Column("已下达（元）", 16, YUAN, total=True),
    Column("已拨付（元）", 16, YUAN, total=True),
    Column("拨付率", 9, PERCENT),
    Column("状态", 10),
    Column("形象进度", 9, PERCENT),
    Column("计划开工", 11, DATE),
    Column("计划完工", 11, DATE),
    Column("实际开工", 11, DATE),
    Column("实际完工", 11, DATE),
    Column("是否延期", 8),
    Column("支部书记", 10),
]


def write_projects(workbook, context) -> None:
    month: Month = context["month"]
    sheet = sheet_writer(workbook, context, "项目进度", "项目进度", PROJECT_COLUMNS)
    first = sheet.row + 1
    secretaries = figures_branch_secretaries(month)
    items = figures.project_item_names(month)
    for number, project in enumerate(figures.project_rows(month).iterator(chunk_size=500), 1):
        row = sheet.row + 1
        status = ProjectStatus(project.status_then)
        started = project.actual_start if _on_or_before(project.actual_start, month) else None
        finished = project.actual_finish if _on_or_before(project.actual_finish, month) else None
        delayed = (
            project.planned_finish is not None
            and project.planned_finish < month.last
            and status not in (ProjectStatus.COMPLETED, ProjectStatus.ACCEPTED)
        )
        compound = project.compound
        sheet.write(
            [
                number,
                compound.community.sub_district.name,
                compound.community.name,
                compound.name,
                project.name,
                project.batch_year,
                project.get_kind_display(),
                "是" if project.is_key else "",
                items.get(project.pk, ""),
                project.households_benefited,
                project.buildings_benefited,
                project.budget,
                project.allocated_then,
                project.paid_then,
                Formula(f"=IF(M{row}=0,0,N{row}/M{row})"),
                str(status.label),
                Decimal(project.progress_then) / 100,
                project.planned_start,
                project.planned_finish,
                started,
                finished,
                "延期" if delayed else "",
                secretaries.get(project.pk, ""),
            ]
        )
    sheet.totals("合计", first, extra={15: "=IF(M{row}=0,0,N{row}/M{row})"})


def figures_branch_secretaries(month: Month) -> dict[int, str]:
    """Branch secretary per project at the end of the month, from the party-cells app
    (imported here, not at the top: its sheets import this module)."""
    from partycells.selectors import branch_secretaries_by_project

    return branch_secretaries_by_project(month)


def _on_or_before(day, month: Month) -> bool:
    return day is not None and day <= month.last


def write_funding(workbook, context) -> None:
    month: Month = context["month"]
    sheet = sheet_writer(
        workbook,
        context,
        "资金",
        "资金",
        [
            Column("资金来源 / 项目", 34),
            Column("计划（元）", 18, YUAN, total=True),
            Column("已下达（元）", 18, YUAN, total=True),
            Column("已拨付（元）", 18, YUAN, total=True),
            Column("下达率", 10, PERCENT),
            Column("拨付率", 10, PERCENT),
        ],
    )
    rates = {5: "=IF(B{row}=0,0,C{row}/B{row})", 6: "=IF(C{row}=0,0,D{row}/C{row})"}

    def rate_cells(row: int) -> list[Formula]:
        return [Formula(rates[5].format(row=row)), Formula(rates[6].format(row=row))]

    sheet.note(f"一、{month.year}年资金来源（按渠道）")
    first = sheet.row + 1
    for row in figures.funding_by_kind(month):
        number = sheet.row + 1
        sheet.write(
            [row["kind"], row["planned"], row["allocated"], row["paid"], *rate_cells(number)]
        )
    sheet.totals("小计", first, extra=rates)
    sheet.blank()
    sheet.note(f"二、{month.year}年批次项目（按项目）")
    first = sheet.row + 1
    for project in figures.project_rows(month).filter(batch_year=month.year):
        number = sheet.row + 1
        sheet.write(
            [
                project.name,
                project.budget,
                project.allocated_then,
                project.paid_then,
                *rate_cells(number),
            ]
        )
    sheet.totals("小计", first, extra=rates)


def write_national_statistics(workbook, context) -> None:
    month: Month = context["month"]
    stats = figures.national_statistics(month)
    sheet = sheet_writer(
        workbook,
        context,
        "统计月报",
        "城镇老旧小区改造统计月报",
        [Column("指标", 36), Column("数值", 16, INTEGER), Column("单位", 10)],
    )
    sheet.write(["本月新开工小区", stats["started_month"], "个"])
    sheet.write(["本月新开工小区惠及户数", stats["started_month_households"], "户"])
    started_row = sheet.write(["本年累计新开工小区", stats["started_year"], "个"])
    sheet.write(["本年累计新开工小区惠及户数", stats["started_year_households"], "户"])
    planned_row = sheet.write(["本年计划改造小区", stats["planned_year"], "个"])
    sheet.write(
        ["开工率", Formula(f"=IF(B{planned_row}=0,0,B{started_row}/B{planned_row})"), ""],
        formats={1: PERCENT},
    )
    sheet.write(["本年完工小区", stats["completed_year"], "个"])
    sheet.write(["本年完成投资", wan(stats["invested_year"]), "万元"], formats={1: WAN})
    sheet.blank()
    sheet.note("本年开工项目实物工作量")
    for label, quantity in stats["quantities"]:
        sheet.write([label, Decimal(quantity).quantize(Decimal("0.01")), ""], formats={1: YUAN})


# The sheets in order. Other apps' sheets are named by path: they import this module.
SHEETS: list[Callable | str] = [
    write_summary,
    write_projects,
    write_funding,
    "residents.report.write_requests",
    "partycells.report.write_branches",
    "partycells.report.write_decisions",
    write_national_statistics,
]

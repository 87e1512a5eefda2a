"""Forgiving reading of the Excel workbooks that sub-districts and communities send in.

Shared by the imports (`registry_import`, `progress_import`). Reading is forgiving about
layout, because the sheets come from many offices: title rows above the header, header
variants, numbers stored as text, footnotes and totals under the last row. Problems are
reported as `Issue`s by sheet, Excel row and column, so staff can fix a workbook in one pass.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

import openpyxl
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.utils import get_column_letter

# Staff sheets carry a title and a "填报单位" line above the header, sometimes more.
HEADER_SCAN_ROWS = 10
NOTE_PREFIXES = ("注", "说明", "备注", "填表说明", "填报说明")
TOTAL_WORDS = frozenset({"合计", "总计", "小计"})
# Templates' example rows name 示例社区; skipping them lets staff type below them.
EXAMPLE_PREFIX = "示例"


@dataclass(frozen=True)
class Column:
    field: str
    headers: tuple[str, ...]  # the first one is the template's
    required: bool = False


# --- The result shown to staff -------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """An error or a warning at one place in the workbook."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""  # the Excel column letter
    header: str = ""  # the column's header as written in the sheet

    def as_text(self) -> str:
        params = {"sheet": self.sheet, "row": self.row, "column": self.column}
        params |= {"header": self.header, "message": self.message}
        if self.row is not None and self.column:
            return _("%(sheet)s, row %(row)d, column %(column)s (%(header)s): %(message)s") % params
        if self.row is not None:
            return _("%(sheet)s, row %(row)d: %(message)s") % params
        return _("%(sheet)s: %(message)s") % params if self.sheet else self.message


@dataclass
class ImportResult:
    """What an import found: errors refuse the whole file, warnings do not. Each import
    subclasses it with its counts and says them in `done_summary`."""

    dry_run: bool = False
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            count = len(self.errors)
            return ngettext(
                "Not imported: %(count)d problem found. Nothing was saved.",
                "Not imported: %(count)d problems found. Nothing was saved.",
                count,
            ) % {"count": count}
        return self.done_summary()

    def done_summary(self) -> str:
        raise NotImplementedError

    def as_text_lines(self) -> list[str]:
        lines = [_("Error: %(issue)s") % {"issue": issue.as_text()} for issue in self.errors]
        lines += [_("Warning: %(issue)s") % {"issue": i.as_text()} for i in self.warnings]
        return [*lines, self.summary()]


def issue_order(sheet_titles: Iterable[str]) -> Callable[[Issue], tuple]:
    """A sort key for issues: whole-file issues first, then by sheet, row and column."""
    order = {title: index for index, title in enumerate(sheet_titles)}

    def key(issue: Issue) -> tuple:
        # Column "AA" sorts after "Z".
        return order.get(issue.sheet, -1), issue.row or 0, len(issue.column), issue.column

    return key


# --- Reading the workbook ------------------------------------------------------------------


class NotAWorkbook(Exception):
    """The upload is not an .xlsx workbook that openpyxl can read."""


def not_a_workbook_issue() -> Issue:
    return Issue(
        _(
            "This file is not an Excel workbook (.xlsx). In Excel, choose File › Save As › "
            "Excel Workbook (*.xlsx) and upload that file."
        )
    )


class ShownAsPercent(float):
    """A number from a cell formatted as a percentage: 0.45 that Excel shows as 45%."""

    @property
    def percent(self) -> float:
        return round(float(self) * 100, 9)  # 0.45 * 100 is 45.00000000000001


def read_sheets(
    file: BinaryIO | str, *, mark_percent_cells: bool = False
) -> list[tuple[str, list[tuple]]]:
    """(title, rows of cell values) of every worksheet.

    With `mark_percent_cells`, numbers in cells formatted as a percentage come back as
    `ShownAsPercent`, so 45% typed into such a cell is not read as 0.45.
    Raises NotAWorkbook when openpyxl cannot read the file at all."""
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise NotAWorkbook from exc
    try:
        sheets = []
        for worksheet in workbook.worksheets:
            # Some programs write a wrong <dimension>; without it, every row is read.
            worksheet.reset_dimensions()
            if mark_percent_cells:
                rows = [tuple(map(_cell_value, row)) for row in worksheet.iter_rows()]
            else:
                rows = list(worksheet.iter_rows(values_only=True))
            sheets.append((worksheet.title, rows))
        return sheets
    except Exception as exc:  # read-only sheets are parsed lazily, so bad XML shows up here
        raise NotAWorkbook from exc
    finally:
        workbook.close()


def _cell_value(cell) -> Any:
    value = cell.value
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and "%" in (cell.number_format or "")
    ):
        return ShownAsPercent(value)
    return value


def header_key(value: Any) -> str:
    """A header cell as a lookup key: staff add spaces, line breaks, units and asterisks."""
    text = re.sub(r"[（(][^（(]*[)）]$", "", key(value))  # 户数（户） → 户数
    return text.strip("*＊")


def header_fields(values: tuple, columns: Iterable[Column]) -> dict[str, list[int]]:
    """field → 0-based indexes of the cells in `values` that name it."""
    lookup = {header: column.field for column in columns for header in column.headers}
    found: dict[str, list[int]] = defaultdict(list)
    for index, value in enumerate(values):
        if name := lookup.get(header_key(value)):
            found[name].append(index)
    return found


def has_fields(values: tuple, columns: Iterable[Column], *names: str) -> bool:
    return set(names) <= header_fields(values, columns).keys()


def find_header_row(rows: list[tuple], columns: Iterable[Column], *names: str) -> int | None:
    """The Excel row number of the first row, within the first rows, naming all `names`."""
    for header_row, values in enumerate(rows[:HEADER_SCAN_ROWS], 1):
        if has_fields(values, columns, *names):
            return header_row
    return None


@dataclass
class Sheet:
    title: str
    rows: list[tuple]
    header_row: int  # Excel row number of the header
    columns: dict[str, int]  # field → 0-based column index
    headers: dict[str, str]  # field → header as written
    # Columns a template fills in ahead (序号, or the project a progress row is for): a row
    # with nothing else in it holds no data.
    prefilled: frozenset[str] = frozenset({"sequence"})

    def data_rows(self) -> Iterator[tuple[int, tuple]]:
        """(Excel row number, values) of the rows under the header that hold data."""
        for number, values in enumerate(self.rows[self.header_row :], self.header_row + 1):
            if self._holds_data(values):
                yield number, values

    def value(self, values: tuple, name: str) -> Any:
        index = self.columns.get(name)
        if index is None or index >= len(values):
            return None
        value = values[index]
        return (value.strip() or None) if isinstance(value, str) else value

    def issue(self, row: int, name: str, message: str) -> Issue:
        """An issue at the row's cell of column `name`, or at the row if the sheet lacks it."""
        if name not in self.columns:
            return Issue(message, self.title, row)
        column = get_column_letter(self.columns[name] + 1)
        return Issue(message, self.title, row, column, self.headers[name])

    def _holds_data(self, values: tuple) -> bool:
        if not any(
            self.value(values, name) is not None for name in self.columns.keys() - self.prefilled
        ):
            return False  # blank, or only pre-filled cells
        filled = [text_of(v) for v in values if text_of(v)]
        if len(filled) == 1 and filled[0].startswith(NOTE_PREFIXES):
            return False  # a footnote such as "注：建成年代以房产证为准"
        if key(filled[0]) in TOTAL_WORDS:
            return False
        return not key(self.value(values, "community")).startswith(EXAMPLE_PREFIX)


def build_sheet(
    title: str,
    rows: list[tuple],
    header_row: int,
    columns: Iterable[Column],
    errors: list[Issue],
    **options: Any,
) -> Sheet | None:
    """The sheet's layout, or None (with errors) when a column is missing or doubled."""
    header = rows[header_row - 1]
    found = header_fields(header, columns)
    ok = True
    for indexes in found.values():
        if len(indexes) > 1:
            letters = [get_column_letter(i + 1) for i in indexes]
            message = _("Columns %(first)s and %(second)s are the same column; keep one.") % {
                "first": letters[0],
                "second": letters[1],
            }
            errors.append(
                Issue(message, title, header_row, letters[1], text_of(header[indexes[1]]))
            )
            ok = False
    for column in columns:
        if column.required and column.field not in found:
            errors.append(Issue(missing_column_message(column), title, header_row))
            ok = False
    if not ok:
        return None
    return Sheet(
        title=title,
        rows=rows,
        header_row=header_row,
        columns={name: indexes[0] for name, indexes in found.items()},
        headers={name: text_of(header[indexes[0]]) for name, indexes in found.items()},
        **options,
    )


def missing_column_message(column: Column) -> str:
    header, *aliases = column.headers
    if not aliases:
        return _("Column “%(header)s” is missing.") % {"header": header}
    return _("Column “%(header)s” is missing (also accepted: %(aliases)s).") % {
        "header": header,
        "aliases": "、".join(aliases),
    }


def header_of(columns: Iterable[Column], name: str) -> str:
    """The template's header of the column `name`."""
    return next(column.headers[0] for column in columns if column.field == name)


# --- Cell values ---------------------------------------------------------------------------


class CellError(Exception):
    """A cell value that cannot be used; the message is shown to staff."""


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, ShownAsPercent):
        return f"{value.percent:g}%"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a building number typed as 1 comes back as 1.0 at times
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def key(value: Any) -> str:
    """A name as a matching key: staff type stray spaces inside names too."""
    return re.sub(r"\s+", "", text_of(value))


def community_key(name: Any) -> str:
    return re.sub(r"(居民委员会|居委会)$", "", key(name))


def sub_district_key(name: Any) -> str:
    return re.sub(r"办事处$", "", key(name))


def text(value: Any, *, max_length: int | None = None) -> str:
    result = text_of(value)
    if max_length is not None and len(result) > max_length:
        raise CellError(
            _("Too long: at most %(max_length)d characters, this has %(length)d.")
            % {"max_length": max_length, "length": len(result)}
        )
    return result


def whole_number(value: Any, *, minimum: int, maximum: int | None = None) -> int:
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and (match := re.fullmatch(r"([+-]?\d+)(\.0*)?", key(value))):
        number = int(match[1])  # counts stored as text, such as " 30 "
    params = {"value": text_of(value), "minimum": minimum, "maximum": maximum}
    if maximum is not None and (number is None or not minimum <= number <= maximum):
        message = _("Enter a whole number from %(minimum)d to %(maximum)d; “%(value)s” is not.")
        raise CellError(message % params)
    if number is None or number < minimum:
        raise CellError(
            _("Enter a whole number of %(minimum)d or more; “%(value)s” is not.") % params
        )
    return number


# 2022-06-30, 2022/6/30, 2022.6.30, 2022年6月30日
DATE_TEXT = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def date_of(value: Any) -> date:
    """A date cell, or a date written as text in one of the ways staff write dates."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and (match := DATE_TEXT.fullmatch(key(value))):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass  # such as 2022-02-30
    message = _("“%(value)s” is not a date; write it like 2022-06-30, 2022/6/30 or 2022年6月30日.")
    raise CellError(message % {"value": text_of(value)})


class RowReader:
    """Reads one data row cell by cell, recording each bad cell as an error."""

    def __init__(self, sheet: Sheet, number: int, values: tuple, errors: list[Issue]):
        self.sheet, self.number, self.values, self.errors = sheet, number, values, errors

    def has(self, name: str) -> bool:
        return name in self.sheet.columns

    def error(self, name: str, message: str) -> None:
        self.errors.append(self.sheet.issue(self.number, name, message))

    def read(self, name: str, parse: Callable[[Any], Any], *, required: bool = False) -> Any:
        """The parsed cell, or None when it is blank or bad."""
        value = self.sheet.value(self.values, name)
        if value is None:
            if required:
                self.error(name, _("Required; this cell is empty."))
            return None
        try:
            return parse(value)
        except CellError as exc:
            self.error(name, str(exc))
            return None


def max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length

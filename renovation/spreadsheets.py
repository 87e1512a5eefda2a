"""Text written to a spreadsheet stays text: the one escaper of every export (CSV and .xlsx).

A spreadsheet takes a cell that starts with = + - or @ (or a tab or carriage return before
one) for a formula, and Excel reads the full-width ＝ ＋ － ＠ of a Chinese keyboard the same
way. Names, places and residents' words come from many hands (a compound renamed
`=HYPERLINK("http://…"&A1,"点击")`, a wish left on the public page), and one such formula in
an export could compute, link out or leak the sheet. So every text cell of every export goes
through here:

- in a CSV, such text is written after an apostrophe, which Excel and WPS take as "text";
- in an .xlsx, it is written as a text cell with Excel's quote prefix (the same apostrophe,
  kept as the cell's style: shown without it, and still text when the cell is edited).

The workbook's own formulas are marked `Formula` and are the only formulas written."""

import csv
import unicodedata
from collections.abc import Iterable

from django.utils.functional import Promise

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r")


class Formula(str):
    """A formula the workbook works out. Any other text is written as text, even when it
    starts with "=": names and residents' words (a wish left on the public page) must never
    become a formula in the joint meeting's workbook, where one could compute, link out or
    leak the sheet."""


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would take `text` for a formula (see the module's notes)."""
    if text[:1] in CONTROL_STARTS:
        return True
    # NFKC turns ＝＋－＠ into = + - @, and the ideographic space into a space; spaces
    # before the sign do not stop every spreadsheet from reading a formula.
    return unicodedata.normalize("NFKC", text[:16]).lstrip(" ")[:1] in FORMULA_STARTS


def csv_text(value):
    """A CSV cell's value: text that would start a formula after an apostrophe; other
    values (numbers, dates, None) as they are."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and starts_formula(value):
        return f"'{value}"
    return value


def csv_row(values: Iterable) -> list:
    """A row for csv.writer with every text cell escaped."""
    return [csv_text(value) for value in values]


class _EscapingWriter:
    def __init__(self, file, **kwargs):
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable]):
        for row in rows:
            self.writerow(row)


def csv_writer(file, **kwargs) -> _EscapingWriter:
    """csv.writer whose rows have every text cell escaped (csv_text)."""
    return _EscapingWriter(file, **kwargs)


def inert_cell(cell, value):
    """An openpyxl cell (of a write-only sheet or not) that was given `value`, with its text
    kept text: only a `Formula` is a formula. (The cell's own value is a plain str: openpyxl
    drops the Formula mark.) Returns the cell."""
    if isinstance(value, str) and not isinstance(value, Formula):
        if cell.data_type == "f":
            cell.data_type = "s"
        if starts_formula(value):
            cell.quotePrefix = True
    return cell


def append_row(sheet, values: Iterable) -> None:
    """Append a row to an ordinary (not write-only) openpyxl sheet, its text cells inert."""
    values = [str(value) if isinstance(value, Promise) else value for value in values]
    sheet.append(values)
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        inert_cell(sheet.cell(row, column), value)

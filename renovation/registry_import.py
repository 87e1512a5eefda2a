"""Reading, checking and writing the compound registry workbook that sub-districts keep.

Reading is forgiving about layout (see `workbooks`), because the sheets come from many
offices. Checking is strict about content: one bad row refuses the whole file, and every bad
row is reported by sheet, Excel row and column so staff can fix the workbook in one pass.

Callers use `renovation.services.registry_import`, which runs `read_workbook`, then
`plan_import` and, for a real import, `write_plan` in one transaction.
"""

import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, BinaryIO

import openpyxl
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .models import OLD_COMPOUND_LAST_YEAR, Building, Community, Compound
from .spreadsheets import append_row
from .workbooks import (
    HEADER_SCAN_ROWS,
    CellError,
    Column,
    Issue,
    RowReader,
    Sheet,
    build_sheet,
    community_key,
    has_fields,
    header_of,
    issue_order,
    key,
    max_length,
    read_sheets,
    sub_district_key,
    text,
    text_of,
    whole_number,
)
from .workbooks import ImportResult as WorkbookImportResult
from .workbooks import NotAWorkbook as NotAWorkbook  # re-exported for the service
from .workbooks import not_a_workbook_issue as not_a_workbook_issue  # re-exported

# Rows per bulk statement: a district in a few statements. (Django splits further on SQLite,
# which caps the parameters of one statement.)
BATCH_SIZE = 1000
EARLIEST_BUILD_YEAR = 1900
FLOORS_RANGE = (1, 100)  # as the Building.floors validators
UNITS_RANGE = (1, 50)  # as the Building.units validators

PM = Compound.PropertyManagement
PROPERTY_MANAGEMENT_WORDS = {
    PM.COMPANY: ("专业物业公司", "物业公司", "有物业"),
    PM.SELF_MANAGED: ("自治管理委员会", "自管会", "业主自治"),
    PM.COMMUNITY: ("社区托管",),
    PM.NONE: ("无物业", "无", "空"),
}
ORIGIN_WORDS = {
    Compound.Origin.REGULAR: ("普通小区", "普通住宅小区"),
    Compound.Origin.ENTERPRISE_DORMITORY: ("单栋宿舍", "单栋宿舍楼", "破产企业单栋宿舍"),
    Compound.Origin.WORK_UNIT: ("单位宿舍", "单位职工住房"),
    Compound.Origin.OTHER: ("其他",),
}
# Sheets without a 小区类型 column mark a bankrupt enterprise's dormitory in 备注.
DORMITORY_NOTE = "单栋宿舍"
YES_WORDS, NO_WORDS = ("是",), ("否",)

COMPOUND_COLUMNS = (
    Column("sequence", ("序号",)),
    Column("sub_district", ("街道", "所属街道")),
    Column("community", ("社区", "所属社区"), required=True),
    Column("name", ("小区名称", "小区名"), required=True),
    Column("code", ("小区编码", "编码")),
    Column("address", ("地址", "小区地址")),
    Column("build_year", ("建成年份", "建成年代", "建成时间"), required=True),
    Column("building_count", ("楼栋数", "栋数")),
    Column("households", ("户数", "住户数", "总户数"), required=True),
    Column("original_owner_unit", ("原产权单位",)),
    Column("property_management", ("物业管理方式", "物业类型", "物业")),
    Column("origin", ("小区类型", "来源")),
    Column("notes", ("备注",)),
    Column("longitude", ("经度",)),
    Column("latitude", ("纬度",)),
    Column("is_old", ("是否老旧小区",)),
)
BUILDING_COLUMNS = (
    Column("sequence", ("序号",)),
    Column("sub_district", ("街道", "所属街道")),
    Column("community", ("社区", "所属社区")),
    Column("compound", ("小区名称", "小区名"), required=True),
    Column("number", ("楼栋号", "楼号", "栋号"), required=True),
    Column("floors", ("层数", "楼层数", "总层数"), required=True),
    Column("units", ("单元数",)),
    Column("households", ("户数", "住户数", "总户数"), required=True),
)
SHEET_COLUMNS = {"compounds": COMPOUND_COLUMNS, "buildings": BUILDING_COLUMNS}
TEMPLATE_COMPOUND_FIELDS = (
    "sub_district", "community", "name", "code", "address", "build_year", "building_count",
    "households", "original_owner_unit", "property_management", "origin", "notes",
)  # fmt: skip
TEMPLATE_BUILDING_FIELDS = ("community", "compound", "number", "floors", "units", "households")
TEMPLATE_BUILDING_SHEET = "楼栋明细"
TEMPLATE_EXAMPLE = {
    "sub_district": "示例街道", "community": "示例社区", "name": "示例小区", "compound": "示例小区",
    "address": "示例路1号", "build_year": 1985, "building_count": 2, "households": 48,
    "original_owner_unit": "示例厂", "property_management": "无物业",
    "number": "1栋", "floors": 6, "units": 2,
}  # fmt: skip


# --- The result shown to staff -------------------------------------------------------------


@dataclass
class ImportResult(WorkbookImportResult):
    compounds_created: int = 0
    compounds_updated: int = 0
    buildings_created: int = 0
    buildings_updated: int = 0

    def done_summary(self) -> str:
        counts = {
            "compounds_created": self.compounds_created,
            "compounds_updated": self.compounds_updated,
            "buildings_created": self.buildings_created,
            "buildings_updated": self.buildings_updated,
        }
        if self.dry_run:
            return (
                _(
                    "Check only, nothing was saved. Compounds: %(compounds_created)d to create, "
                    "%(compounds_updated)d to update. Buildings: %(buildings_created)d to create, "
                    "%(buildings_updated)d to update."
                )
                % counts
            )
        return (
            _(
                "Imported. Compounds: %(compounds_created)d created, %(compounds_updated)d "
                "updated. Buildings: %(buildings_created)d created, %(buildings_updated)d updated."
            )
            % counts
        )


# --- Reading the workbook ------------------------------------------------------------------


@dataclass
class RegistryWorkbook:
    compounds: Sheet | None
    buildings: Sheet | None
    errors: list[Issue]


def read_workbook(file: BinaryIO | str) -> RegistryWorkbook:
    """Find the compound sheet and the optional building sheet by their header rows.

    Raises NotAWorkbook when openpyxl cannot read the file at all."""
    errors: list[Issue] = []
    found: dict[str, Sheet | None] = {}  # None: found, but a column is missing or doubled
    for title, rows in read_sheets(file):
        header = _find_header(rows)
        if header is not None and header[1] not in found:
            header_row, kind = header
            found[kind] = build_sheet(title, rows, header_row, SHEET_COLUMNS[kind], errors)
    if "compounds" not in found:
        message = _(
            "No compound sheet found. Its header must be within the first %(rows)d rows and "
            "have the columns 社区 and 小区名称."
        ) % {"rows": HEADER_SCAN_ROWS}
        errors.append(Issue(message))
    return RegistryWorkbook(found.get("compounds"), found.get("buildings"), errors)


def _find_header(rows: list[tuple]) -> tuple[int, str] | None:
    """(Excel row number, "compounds" or "buildings") of the sheet's header row."""
    for header_row, values in enumerate(rows[:HEADER_SCAN_ROWS], 1):
        # A building header also names 社区 and 小区名称, so it is recognised first.
        if has_fields(values, BUILDING_COLUMNS, "compound", "number"):
            return header_row, "buildings"
        if has_fields(values, COMPOUND_COLUMNS, "community", "name"):
            return header_row, "compounds"
    return None


# --- Cell values ---------------------------------------------------------------------------


def _build_year(value: Any, *, this_year: int) -> int:
    if isinstance(value, datetime | date):
        year = value.year  # a 建成时间 column formatted as a date
    elif isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, float) and value.is_integer():
        year = int(value)
    elif isinstance(value, str) and (match := re.fullmatch(r"(\d{4})年?", key(value))):
        year = int(match[1])
    else:
        message = _("“%(value)s” is not a year; write it like 1985 or 1985年.")
        raise CellError(message % {"value": text_of(value)})
    if year < EARLIEST_BUILD_YEAR:
        message = _("Build year %(year)d is before %(earliest)d.")
        raise CellError(message % {"year": year, "earliest": EARLIEST_BUILD_YEAR})
    if year > this_year:
        message = _("Build year %(year)d is later than this year (%(this_year)d).")
        raise CellError(message % {"year": year, "this_year": this_year})
    return year


def _choice(value: Any, *, words: dict[str, tuple[str, ...]], message: str) -> str:
    word = key(value)
    for choice, choice_words in words.items():
        if word in choice_words:
            return choice
    accepted = "；".join("、".join(choice_words) for choice_words in words.values())
    raise CellError(message % {"value": text_of(value), "accepted": accepted})


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if key(value) in YES_WORDS + NO_WORDS:
        return key(value) in YES_WORDS
    raise CellError(_("Write 是 or 否, not “%(value)s”.") % {"value": text_of(value)})


def _coordinate(value: Any, *, limit: int) -> Decimal:
    try:
        number = Decimal(key(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not -limit <= number <= limit:
        message = _("Enter a number from %(minimum)d to %(maximum)d; “%(value)s” is not.")
        raise CellError(message % {"minimum": -limit, "maximum": limit, "value": text_of(value)})
    return number.quantize(Decimal("0.000001"))  # the model keeps six decimal places


# --- Checking the rows against the registry ------------------------------------------------


@dataclass(eq=False)
class CompoundRow:
    sheet: Sheet
    number: int
    name: str | None
    community: Community | None
    community_key: str  # as written, to match the building sheet even when unknown
    sub_district_key: str
    code: str
    values: dict[str, Any]  # Compound fields; only those whose column the sheet has
    compound: Compound | None = None  # the existing compound, or the new one once planned
    listed_buildings: int = 0
    listed_households: int = 0


@dataclass(eq=False)
class BuildingRow:
    compound_row: CompoundRow
    number: str
    values: dict[str, Any]


@dataclass
class ImportPlan:
    result: ImportResult
    new_compounds: list[Compound] = field(default_factory=list)
    changed_compounds: list[Compound] = field(default_factory=list)
    new_buildings: list[Building] = field(default_factory=list)
    changed_buildings: list[Building] = field(default_factory=list)
    # Only fields some row changes are written: bulk_update's cost grows with rows × fields.
    changed_compound_fields: set[str] = field(default_factory=set)
    changed_building_fields: set[str] = field(default_factory=set)


class Places:
    """The communities the importing user may import into, found by the names in a sheet."""

    def __init__(self, communities: Iterable[Community]):
        self.by_name: dict[str, list[Community]] = defaultdict(list)
        for community in communities:
            self.by_name[community_key(community.name)].append(community)

    def find(self, community_name: str, sub_district_name: str | None) -> Community:
        found = self.by_name.get(community_key(community_name), [])
        if sub_district_name:
            wanted = sub_district_key(sub_district_name)
            found = [c for c in found if sub_district_key(c.sub_district.name) == wanted]
        if len(found) == 1:
            return found[0]
        params = {"community": community_name, "sub_district": sub_district_name}
        if found:
            params["sub_districts"] = "、".join(c.sub_district.name for c in found)
            message = _(
                "Communities named “%(community)s” exist in %(sub_districts)s; fill in the "
                "街道 column to say which."
            )
        elif sub_district_name:
            message = _(
                "No community “%(community)s” in “%(sub_district)s” that you may import into. "
                "Communities are added by the programme office, not by the import."
            )
        else:
            message = _(
                "No community “%(community)s” that you may import into. Communities are added "
                "by the programme office, not by the import."
            )
        raise CellError(message % params)


def plan_import(
    workbook: RegistryWorkbook, *, communities: QuerySet[Community], lock: bool = False
) -> ImportPlan:
    """Check every row against the registry and work out what to create and update.

    `communities` are those the user may import into; a row naming any other community is
    reported as unknown. With `lock`, the communities the file touches are locked so that two
    imports cannot both create the same compound. Runs a fixed number of queries."""
    result = ImportResult(errors=list(workbook.errors))
    plan = ImportPlan(result)
    if workbook.compounds is None:
        return plan
    places = Places(communities.select_related("sub_district"))
    this_year = timezone.localdate().year
    compound_rows = [
        _compound_row(
            RowReader(workbook.compounds, number, values, result.errors), places, this_year
        )
        for number, values in workbook.compounds.data_rows()
    ]
    if not compound_rows and not result.errors:
        message = _("The compound sheet has no rows under its header.")
        result.errors.append(Issue(message, workbook.compounds.title))
    community_ids = {row.community.pk for row in compound_rows if row.community}
    if lock:
        list(Community.objects.select_for_update().filter(pk__in=community_ids).values("pk"))
    compounds = list(Compound.objects.filter(community_id__in=community_ids))
    _match_existing_compounds(compound_rows, compounds, result.errors)
    building_rows = _building_rows(workbook.buildings, compound_rows, result.errors)
    result.warnings = _count_warnings(compound_rows, workbook.buildings)
    sheets = [s.title for s in (workbook.compounds, workbook.buildings) if s is not None]
    result.errors.sort(key=issue_order(sheets))
    if result.ok:
        buildings = list(Building.objects.filter(compound__community_id__in=community_ids))
        _fill_plan(plan, compound_rows, building_rows, (compounds, buildings))
    return plan


def _compound_row(reader: RowReader, places: Places, this_year: int) -> CompoundRow:
    name = reader.read(
        "name", partial(text, max_length=max_length(Compound, "name")), required=True
    )
    community_name = reader.read("community", text, required=True)
    sub_district_name = reader.read("sub_district", text)
    community = None
    if community_name:
        try:
            community = places.find(community_name, sub_district_name)
        except CellError as exc:
            reader.error("community", str(exc))
    code = reader.read("code", partial(text, max_length=max_length(Compound, "code")))
    values = _compound_values(reader, name, this_year)
    return CompoundRow(
        sheet=reader.sheet,
        number=reader.number,
        name=name,
        community=community,
        community_key=community_key(community_name),
        sub_district_key=sub_district_key(sub_district_name),
        code=code or "",
        values=values,
    )


def _compound_values(reader: RowReader, name: str | None, this_year: int) -> dict[str, Any]:
    year = reader.read("build_year", partial(_build_year, this_year=this_year), required=True)
    values = {
        "name": name,
        "build_year": year,
        "households": reader.read("households", partial(whole_number, minimum=0), required=True),
    }
    for text_field in ("address", "original_owner_unit", "notes"):
        if reader.has(text_field):
            longest = max_length(Compound, text_field)
            values[text_field] = reader.read(text_field, partial(text, max_length=longest)) or ""
    if reader.has("building_count"):
        count = reader.read("building_count", partial(whole_number, minimum=0))
        values["declared_building_count"] = count
    if reader.has("property_management"):
        message = _("“%(value)s” is not a property management mode. Accepted: %(accepted)s.")
        parse = partial(_choice, words=PROPERTY_MANAGEMENT_WORDS, message=message)
        values["property_management"] = reader.read("property_management", parse) or PM.NONE
    for coordinate, limit in (("latitude", 90), ("longitude", 180)):
        if reader.has(coordinate):
            values[coordinate] = reader.read(coordinate, partial(_coordinate, limit=limit))
    values["origin"] = _origin(reader, values.get("notes", ""))
    values["is_old"] = _is_old(reader, year)
    return values


def _origin(reader: RowReader, notes: str) -> str:
    message = _("“%(value)s” is not a compound type. Accepted: %(accepted)s.")
    origin = reader.read("origin", partial(_choice, words=ORIGIN_WORDS, message=message))
    if origin:
        return origin
    if DORMITORY_NOTE in notes:
        return Compound.Origin.ENTERPRISE_DORMITORY
    return Compound.Origin.REGULAR


def _is_old(reader: RowReader, year: int | None) -> bool:
    is_old = reader.read("is_old", _yes_no)
    if is_old is None:
        return year is not None and year <= OLD_COMPOUND_LAST_YEAR
    if is_old and year is not None and year > OLD_COMPOUND_LAST_YEAR:
        message = _(
            "Marked as an old compound but built in %(year)d; old compounds were built by the "
            "end of %(last_year)d."
        )
        reader.error("is_old", message % {"year": year, "last_year": OLD_COMPOUND_LAST_YEAR})
    return is_old


def _match_existing_compounds(
    rows: list[CompoundRow], existing: list[Compound], errors: list[Issue]
) -> None:
    """Find each row's compound in the registry: by (community, code) when the row has a
    code, else by (community, name). Report rows that repeat a compound or a code."""
    by_code = {(c.community_id, c.code): c for c in existing}
    by_name = {(c.community_id, key(c.name)): c for c in existing}
    first_by_name: dict[tuple, CompoundRow] = {}
    first_by_code: dict[tuple, CompoundRow] = {}
    first_by_compound: dict[int, CompoundRow] = {}
    for row in rows:
        if row.community is None or not row.name:
            continue
        params = {"name": row.name, "code": row.code, "community": row.community.name}
        name_key, code_key = (row.community.pk, key(row.name)), (row.community.pk, row.code)
        if (earlier := first_by_name.setdefault(name_key, row)) is not row:
            message = _(
                "Compound “%(name)s” of %(community)s is listed twice: also on row %(row)d."
            )
            _row_error(row, "name", message % (params | {"row": earlier.number}), errors)
            continue
        if row.code and (earlier := first_by_code.setdefault(code_key, row)) is not row:
            message = _("Code “%(code)s” of %(community)s is used twice: also on row %(row)d.")
            _row_error(row, "code", message % (params | {"row": earlier.number}), errors)
            continue
        row.compound = _existing_compound(row, by_code.get(code_key), by_name.get(name_key), errors)
        if (
            row.compound
            and (earlier := first_by_compound.setdefault(row.compound.pk, row)) is not row
        ):
            message = _(
                "This row and row %(row)d are the same compound “%(name)s” (code “%(code)s”)."
            )
            params |= {"row": earlier.number, "name": row.compound.name, "code": row.compound.code}
            _row_error(row, "name", message % params, errors)


def _existing_compound(
    row: CompoundRow, with_code: Compound | None, with_name: Compound | None, errors: list[Issue]
) -> Compound | None:
    if not row.code:
        return with_name
    params = {"name": row.name, "code": row.code, "community": row.community.name}
    if with_code is not None and with_name is not None and with_code != with_name:
        message = _("Code “%(code)s” already belongs to compound “%(other)s” of %(community)s.")
        _row_error(row, "code", message % (params | {"other": with_code.name}), errors)
        return None
    if with_code is None and with_name is not None:
        message = _(
            "%(community)s already has a compound “%(name)s”, with code “%(other)s”; use that "
            "code or leave the code blank."
        )
        _row_error(row, "code", message % (params | {"other": with_name.code}), errors)
        return None
    return with_code  # a known code with a new name renames the compound


def _row_error(row: CompoundRow, name: str, message: str, errors: list[Issue]) -> None:
    errors.append(row.sheet.issue(row.number, name, message))


def _building_rows(
    sheet: Sheet | None, compound_rows: list[CompoundRow], errors: list[Issue]
) -> list[BuildingRow]:
    if sheet is None:
        return []
    by_name: dict[str, list[CompoundRow]] = defaultdict(list)
    for compound_row in compound_rows:
        if compound_row.name:
            by_name[key(compound_row.name)].append(compound_row)
    rows: list[BuildingRow] = []
    first: dict[tuple, int] = {}
    for number, values in sheet.data_rows():
        reader = RowReader(sheet, number, values, errors)
        row = _building_row(reader, by_name)
        if row is None:
            continue
        if (earlier := first.setdefault((row.compound_row, key(row.number)), number)) != number:
            message = _("Building “%(number)s” of “%(name)s” is listed twice: also on row %(row)d.")
            params = {"number": row.number, "name": row.compound_row.name, "row": earlier}
            reader.error("number", message % params)
            continue
        row.compound_row.listed_buildings += 1
        row.compound_row.listed_households += row.values["households"] or 0
        rows.append(row)
    return rows


def _building_row(reader: RowReader, by_name: dict[str, list[CompoundRow]]) -> BuildingRow | None:
    name = reader.read("compound", text, required=True)
    longest = max_length(Building, "number")
    number = reader.read("number", partial(text, max_length=longest), required=True)
    floors = partial(whole_number, minimum=FLOORS_RANGE[0], maximum=FLOORS_RANGE[1])
    values = {
        "floors": reader.read("floors", floors, required=True),
        "households": reader.read("households", partial(whole_number, minimum=1), required=True),
    }
    units = partial(whole_number, minimum=UNITS_RANGE[0], maximum=UNITS_RANGE[1])
    # Left blank, a new building gets the model default and a known one keeps its own.
    if (unit_count := reader.read("units", units)) is not None:
        values["units"] = unit_count
    compound_row = None
    if name:
        try:
            compound_row = _find_compound_row(reader, by_name, name)
        except CellError as exc:
            reader.error("compound", str(exc))
    if compound_row is None or not number:
        return None
    return BuildingRow(compound_row, number, values)


def _find_compound_row(
    reader: RowReader, by_name: dict[str, list[CompoundRow]], name: str
) -> CompoundRow:
    """The compound-sheet row a building row names, narrowed by its 社区 and 街道 if given."""
    found = by_name.get(key(name), [])
    if community := reader.read("community", text):
        found = [row for row in found if row.community_key == community_key(community)]
    if sub_district := reader.read("sub_district", text):
        wanted = sub_district_key(sub_district)
        found = [row for row in found if row.sub_district_key in ("", wanted)]
    if len(found) == 1:
        return found[0]
    if found:
        message = _(
            "Compound “%(name)s” is listed for several communities (%(communities)s); fill in "
            "the 社区 column to say which."
        )
        communities = "、".join(row.community_key for row in found)
        raise CellError(message % {"name": name, "communities": communities})
    message = _("Compound “%(name)s” is not listed on the compound sheet.")
    raise CellError(message % {"name": name})


def _count_warnings(rows: list[CompoundRow], building_sheet: Sheet | None) -> list[Issue]:
    """Figures on the compound sheet that disagree with the building sheet. A compound the
    building sheet does not list at all is not compared: its buildings are simply not listed
    yet."""
    if building_sheet is None:
        return []
    warnings = []
    for row in rows:
        if not row.listed_buildings:
            continue
        declared = row.values.get("declared_building_count")
        households = row.values.get("households")
        params = {"sheet": building_sheet.title, "declared": declared, "households": households}
        params |= {"listed": row.listed_buildings, "total": row.listed_households}
        if declared is not None and declared != row.listed_buildings:
            message = _(
                "Buildings declared: %(declared)d, but the sheet “%(sheet)s” lists %(listed)d "
                "for this compound."
            )
            warnings.append(row.sheet.issue(row.number, "building_count", message % params))
        if households is not None and households != row.listed_households:
            message = _(
                "Households declared: %(households)d, but the buildings on the sheet "
                "“%(sheet)s” add up to %(total)d."
            )
            warnings.append(row.sheet.issue(row.number, "households", message % params))
    return warnings


class CodeAssigner:
    """Codes for new compounds without one: `<community code>-NNN`, after the highest such
    code in the registry or the file, so they never clash with either."""

    def __init__(self, taken: Iterable[tuple[int, str]]):
        self.taken: dict[int, set[str]] = defaultdict(set)
        for community_id, code in taken:
            self.taken[community_id].add(code)
        self.last: dict[int, int] = {}

    def __call__(self, community: Community) -> str:
        if community.pk not in self.last:
            pattern = re.compile(rf"{re.escape(community.code)}-(\d+)")
            numbers = (pattern.fullmatch(code) for code in self.taken[community.pk])
            self.last[community.pk] = max((int(m[1]) for m in numbers if m), default=0)
        self.last[community.pk] += 1
        return f"{community.code}-{self.last[community.pk]:03d}"


def _fill_plan(
    plan: ImportPlan,
    compound_rows: list[CompoundRow],
    building_rows: list[BuildingRow],
    existing: tuple[list[Compound], list[Building]],
) -> None:
    compounds, buildings = existing
    taken = [(c.community_id, c.code) for c in compounds]
    assign_code = CodeAssigner(taken + [(r.community.pk, r.code) for r in compound_rows if r.code])
    for row in compound_rows:
        if row.compound is None:
            code = row.code or assign_code(row.community)
            row.compound = Compound(community=row.community, code=code, **row.values)
            plan.new_compounds.append(row.compound)
        elif changed := _assign(row.compound, row.values):
            plan.changed_compounds.append(row.compound)
            plan.changed_compound_fields |= changed
    by_number = {(b.compound_id, key(b.number)): b for b in buildings}
    for row in building_rows:
        compound = row.compound_row.compound
        building = by_number.get((compound.pk, key(row.number)))
        if building is None:
            plan.new_buildings.append(Building(compound=compound, number=row.number, **row.values))
        elif changed := _assign(building, row.values):
            plan.changed_buildings.append(building)
            plan.changed_building_fields |= changed
    result = plan.result
    result.compounds_created = len(plan.new_compounds)
    result.compounds_updated = len(compound_rows) - result.compounds_created
    result.buildings_created = len(plan.new_buildings)
    result.buildings_updated = len(building_rows) - result.buildings_created


def _assign(obj: Compound | Building, values: dict[str, Any]) -> set[str]:
    """Set `values` on `obj`; the names of the fields that changed."""
    changed = {name for name, value in values.items() if getattr(obj, name) != value}
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def write_plan(plan: ImportPlan) -> None:
    """Save a checked plan in a few statements. The caller holds the transaction.

    Rows whose values did not change are not written again, so re-importing an unchanged
    file writes nothing."""
    Compound.objects.bulk_create(plan.new_compounds, batch_size=BATCH_SIZE)
    if plan.changed_compounds:
        now = timezone.now()
        for compound in plan.changed_compounds:
            compound.updated_at = now  # bulk_update skips auto_now
        fields = [*sorted(plan.changed_compound_fields), "updated_at"]
        Compound.objects.bulk_update(plan.changed_compounds, fields, batch_size=BATCH_SIZE)
    # New buildings of new compounds pick up the compound ids bulk_create has just set.
    Building.objects.bulk_create(plan.new_buildings, batch_size=BATCH_SIZE)
    if plan.changed_buildings:
        fields = sorted(plan.changed_building_fields)
        Building.objects.bulk_update(plan.changed_buildings, fields, batch_size=BATCH_SIZE)


# --- The template staff download -----------------------------------------------------------


def template_workbook_bytes() -> bytes:
    """An empty registry workbook with the canonical headers, notes and one example row."""
    workbook = openpyxl.Workbook()
    compounds = workbook.active
    compounds.title = "小区台账"
    _write_template_sheet(
        compounds,
        [header_of(COMPOUND_COLUMNS, name) for name in TEMPLATE_COMPOUND_FIELDS],
        [TEMPLATE_EXAMPLE.get(name, "") for name in TEMPLATE_COMPOUND_FIELDS],
        notes=_template_notes(),
    )
    buildings = workbook.create_sheet(TEMPLATE_BUILDING_SHEET)
    _write_template_sheet(
        buildings,
        [header_of(BUILDING_COLUMNS, name) for name in TEMPLATE_BUILDING_FIELDS],
        [TEMPLATE_EXAMPLE[name] for name in TEMPLATE_BUILDING_FIELDS],
    )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _write_template_sheet(sheet, headers: list[str], example: list, notes: str = "") -> None:
    if notes:
        # Notes go above the header, where the import looks past title rows anyway.
        append_row(sheet, [notes])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet.cell(1, 1).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[1].height = 15 * (notes.count("\n") + 2)
    append_row(sheet, headers)
    append_row(sheet, example)
    for cell in sheet[sheet.max_row - 1]:
        cell.font = Font(bold=True)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(italic=True, color="808080")
    for index in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 16


def _template_notes() -> str:
    def words(choices: dict[str, tuple[str, ...]]) -> str:
        return "；".join("、".join(choice_words) for choice_words in choices.values())

    return "\n".join(
        [
            _("One compound per row, under the header. Required: 社区, 小区名称, 建成年份, 户数."),
            _("建成年份: a year from 1900 to this year, such as 1985 or 1985年."),
            _("楼栋数 and 户数: whole numbers."),
            _("小区编码: may be left blank; the registry then assigns one."),
            _("物业管理方式: %(words)s.") % {"words": words(PROPERTY_MANAGEMENT_WORDS)},
            _(
                "小区类型: %(words)s. Left blank, it is 单栋宿舍 when 备注 mentions 单栋宿舍, "
                "otherwise 普通小区."
            )
            % {"words": words(ORIGIN_WORDS)},
            _(
                "Rows for 示例社区 are examples and are not imported. List buildings on the "
                "sheet %(sheet)s; importing the same file again updates, never duplicates."
            )
            % {"sheet": TEMPLATE_BUILDING_SHEET},
        ]
    )

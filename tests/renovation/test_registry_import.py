"""The compound registry import: reading staff workbooks, refusing bad files, writing."""

import io
import math
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from renovation import services
from renovation.models import Building, Compound, Role
from renovation.registry_import import BATCH_SIZE, ImportResult
from tests.factories import BuildingFactory, CommunityFactory, CompoundFactory

SAMPLE = Path(__file__).parent / "data" / "registry-as-kept.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in their English source form, whatever the .po file says later.
    with translation.override("en"):
        yield


def compound(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row of the compound sheet, keyed by header."""
    row = {
        "街道": "雅儒街道",
        "社区": "广跃社区",
        "小区名称": "胜利小区",
        "地址": "柳北区雅儒路172号",
        "建成年份": 1985,
        "楼栋数": 2,
        "户数": 48,
        "物业管理方式": "无物业",
        "备注": "",
    }
    return row | (changes or {})


def building(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row of the building sheet, keyed by header."""
    row = {"小区名称": "胜利小区", "楼栋号": "1栋", "层数": 6, "单元数": 2, "户数": 24}
    return row | (changes or {})


def without(row: dict[str, Any], header: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != header}


def append_table(sheet, rows: list[dict[str, Any]]) -> None:
    headers = list(dict.fromkeys(header for row in rows for header in row))
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in headers])


@pytest.fixture
def xlsx(tmp_path):
    """Writes a registry workbook: the compound sheet, and a building sheet if given."""

    def make(compounds, buildings=None, *, above=(), name="registry.xlsx") -> Path:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "小区台账"
        for row in above:
            sheet.append(row)
        append_table(sheet, compounds)
        if buildings is not None:
            append_table(workbook.create_sheet("楼栋明细"), buildings)
        workbook.save(tmp_path / name)
        return tmp_path / name

    return make


def run(file, *, user=None, dry_run: bool = False) -> ImportResult:
    return services.registry_import(file=file, user=user, dry_run=dry_run)


def snapshot() -> tuple[list, list]:
    return list(Compound.objects.order_by("pk").values()), list(
        Building.objects.order_by("pk").values()
    )


def places(result: ImportResult) -> list[tuple]:
    return [(issue.sheet, issue.row, issue.column, issue.header) for issue in result.errors]


def refused(path: Path, **kwargs) -> ImportResult:
    """Import a bad file and check that it wrote nothing."""
    before = snapshot()
    result = run(path, **kwargs)
    assert not result.ok
    assert snapshot() == before
    assert result.compounds_created == result.buildings_created == 0
    return result


@pytest.fixture
def sample_registry(registry):
    """The registry plus 雅儒社区, the third community the sample workbook names."""
    CommunityFactory(sub_district=registry["sub_a"], name="雅儒社区", code="YRS")
    return registry


# --- The workbook as staff keep it ---------------------------------------------------------


def test_sample_workbook_imports_every_compound_and_building(sample_registry):
    result = run(SAMPLE)

    assert result.ok, result.as_text_lines()
    assert (result.compounds_created, result.compounds_updated) == (20, 0)
    assert (result.buildings_created, result.buildings_updated) == (14, 0)
    dormitory = Compound.objects.get(name="棉纺厂宿舍")
    assert dormitory.community == sample_registry["a2"]
    assert dormitory.households == 30  # stored as text "30"
    assert dormitory.build_year == 1992
    assert dormitory.is_old is True
    assert dormitory.origin == Compound.Origin.ENTERPRISE_DORMITORY  # 备注: 单栋宿舍楼
    assert dormitory.property_management == Compound.PropertyManagement.NONE
    assert dormitory.original_owner_unit == "柳州市皮革厂（已破产）"
    assert dormitory.notes == "单栋宿舍楼"
    assert dormitory.declared_building_count == 1
    assert dormitory.buildings.count() == 2
    assert Compound.objects.get(name="机械厂宿舍").build_year == 1999  # "1999年"
    assert Compound.objects.get(name="雅儒路12号院").build_year == 1995  # "1995"
    assert Compound.objects.get(name="工人新村").property_management == "community"  # 社区托管
    assert Compound.objects.get(name="北雀路小区").origin == Compound.Origin.REGULAR


def test_sample_compound_built_after_2000_is_registered_but_not_old(sample_registry):
    run(SAMPLE)

    printing_works = Compound.objects.get(name="印刷厂宿舍楼")
    assert printing_works.build_year == 2003
    assert printing_works.is_old is False


def test_sample_building_counts_that_disagree_are_warnings_not_errors(sample_registry):
    result = run(SAMPLE)

    assert result.ok
    warnings = {(w.row, w.column, w.header): w.message for w in result.warnings}
    assert warnings[(4, "G", "楼栋数")] == (
        "Buildings declared: 1, but the sheet “楼栋明细” lists 2 for this compound."
    )
    assert warnings[(4, "H", "住户数")] == (
        "Households declared: 30, but the buildings on the sheet “楼栋明细” add up to 36."
    )
    assert (7, "G", "楼栋数") not in warnings  # 北雀路小区: 3 declared, 3 listed
    assert all(w.sheet == "小区台账" for w in result.warnings)


def test_compounds_the_building_sheet_does_not_list_get_no_warning(registry, xlsx):
    path = xlsx([compound(), compound({"小区名称": "工人新村", "楼栋数": 5})], [building()])

    result = run(path)

    assert [w.row for w in result.warnings] == [2, 2]  # 胜利小区 only


def test_header_is_found_under_title_rows_with_variant_words_and_stray_spaces(registry, xlsx):
    row = {
        "序号": 1,
        " 所属街道": "雅儒街道",
        "所属社区\n": "广跃社区",
        "小区\n名称": " 胜利小区 ",
        "建成时间": "1985 年",
        "栋数": " 2 ",
        "总户数（户）": " 48 ",
        "物业": "专业物业公司",
    }
    path = xlsx([row], above=[["柳北区老旧小区摸底表"], ["填报单位：雅儒街道办事处"]])

    result = run(path)

    assert result.ok, result.as_text_lines()
    created = Compound.objects.get(name="胜利小区")
    assert (created.build_year, created.households, created.declared_building_count) == (
        1985,
        48,
        2,
    )
    assert created.property_management == Compound.PropertyManagement.COMPANY


def test_merged_title_cells_above_the_header_are_read(registry, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["柳北区城镇老旧小区基本情况摸底表"])
    sheet.merge_cells("A1:F1")
    append_table(sheet, [without(compound(), "备注")])
    workbook.save(tmp_path / "merged.xlsx")

    assert run(tmp_path / "merged.xlsx").compounds_created == 1


def test_blank_rows_footnotes_totals_and_numbered_empty_rows_are_skipped(registry, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    append_table(sheet, [{"序号": 1, **compound()}])
    sheet.append([])
    sheet.append(["合计", None, None, None, None, None, 2, 48])
    sheet.append([2])  # numbered in advance, never filled in
    sheet.append(["注：建成年代以房产证或原产权单位档案为准。"])
    sheet.append([None, "说明：本表由街道填报"])
    workbook.save(tmp_path / "footnote.xlsx")

    result = run(tmp_path / "footnote.xlsx")

    assert result.ok, result.as_text_lines()
    assert result.compounds_created == 1


def test_workbook_without_building_sheet_imports_compounds_only(registry, xlsx):
    result = run(xlsx([compound()]))

    assert (result.compounds_created, result.buildings_created, result.warnings) == (1, 0, [])


def test_compound_sheet_is_found_when_it_is_not_the_first(registry, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["本工作簿由雅儒街道填报"])
    append_table(workbook.create_sheet("小区台账"), [compound()])
    workbook.save(tmp_path / "second.xlsx")

    assert run(tmp_path / "second.xlsx").compounds_created == 1


def test_community_is_found_by_name_alone_without_a_sub_district_column(registry, xlsx):
    result = run(xlsx([without(compound(), "街道")]))

    assert result.ok
    assert Compound.objects.get(name="胜利小区").community == registry["a1"]


@pytest.mark.parametrize(
    ("word", "mode"),
    [
        ("专业物业公司", "company"),
        ("物业公司", "company"),
        ("有物业", "company"),
        ("自治管理委员会", "self_managed"),
        ("自管会", "self_managed"),
        ("业主自治", "self_managed"),
        ("社区托管", "community"),
        ("无物业", "none"),
        ("无", "none"),
        ("空", "none"),
        (None, "none"),
    ],
)
def test_property_management_words_map_to_modes(registry, xlsx, word, mode):
    run(xlsx([compound({"物业管理方式": word})]))

    assert Compound.objects.get(name="胜利小区").property_management == mode


@pytest.mark.parametrize(
    ("origin", "notes", "expected"),
    [
        ("单位宿舍", "单栋宿舍楼", Compound.Origin.WORK_UNIT),
        ("其他", "", Compound.Origin.OTHER),
        (None, "单栋宿舍楼", Compound.Origin.ENTERPRISE_DORMITORY),
        (None, "", Compound.Origin.REGULAR),
    ],
)
def test_origin_comes_from_its_column_else_from_a_dormitory_note(
    registry, xlsx, origin, notes, expected
):
    run(xlsx([compound({"小区类型": origin, "备注": notes})]))

    assert Compound.objects.get(name="胜利小区").origin == expected


def test_old_compound_column_overrides_the_build_year_rule(registry, xlsx):
    run(xlsx([compound({"建成年份": 1990, "是否老旧小区": "否"})]))

    assert Compound.objects.get(name="胜利小区").is_old is False


def test_coordinates_are_kept_to_six_places(registry, xlsx):
    run(xlsx([compound({"经度": 109.4123456, "纬度": "24.33"})]))

    created = Compound.objects.get(name="胜利小区")
    assert (created.longitude, created.latitude) == (Decimal("109.412346"), Decimal("24.33"))


# --- Identity and re-importing -------------------------------------------------------------


def test_compounds_without_a_code_get_one_after_the_highest_in_their_community(registry, xlsx):
    CompoundFactory(community=registry["a1"], name="旧院", code="GY-007")
    rows = [compound({"小区名称": "甲院"}), compound({"小区名称": "乙院"})]

    run(xlsx(rows))

    codes = Compound.objects.filter(name__in=["甲院", "乙院"]).order_by("name")
    assert sorted(codes.values_list("code", flat=True)) == ["GY-008", "GY-009"]


def test_assigned_codes_skip_codes_given_in_the_same_file(registry, xlsx):
    rows = [compound({"小区名称": "甲院", "小区编码": "GY-001"}), compound({"小区名称": "乙院"})]

    run(xlsx(rows))

    assert Compound.objects.get(name="乙院").code == "GY-002"


def test_reimporting_the_same_file_updates_and_never_duplicates(sample_registry):
    run(SAMPLE)
    counts = Compound.objects.count(), Building.objects.count()

    result = run(SAMPLE)

    assert (Compound.objects.count(), Building.objects.count()) == counts
    assert (result.compounds_created, result.compounds_updated) == (0, 20)
    assert (result.buildings_created, result.buildings_updated) == (0, 14)


def test_reimport_updates_values_and_leaves_buildings_not_in_the_file_alone(registry, xlsx):
    run(xlsx([compound()], [building(), building({"楼栋号": "2栋"})]))
    kept = BuildingFactory(compound=Compound.objects.get(name="胜利小区"), number="3栋")

    result = run(xlsx([compound({"户数": 50})], [building({"层数": 7})], name="again.xlsx"))

    assert (result.compounds_updated, result.buildings_updated) == (1, 1)
    changed = Compound.objects.get(name="胜利小区")
    assert changed.households == 50
    assert changed.buildings.get(number="1栋").floors == 7
    assert set(changed.buildings.values_list("number", flat=True)) == {"1栋", "2栋", "3栋"}
    assert Building.objects.filter(pk=kept.pk).exists()


def test_reimporting_an_unchanged_file_writes_nothing(sample_registry):
    run(SAMPLE)

    statements = statement_counts(SAMPLE)

    assert statements["INSERT"] == statements["UPDATE"] == 0


def test_reimport_marks_changed_compounds_as_updated_now(registry, xlsx):
    run(xlsx([compound(), compound({"小区名称": "工人新村"})]))
    Compound.objects.update(updated_at=timezone.now() - timedelta(days=1))

    run(xlsx([compound({"户数": 50}), compound({"小区名称": "工人新村"})], name="again.xlsx"))

    an_hour_ago = timezone.now() - timedelta(hours=1)
    assert Compound.objects.get(name="胜利小区").updated_at > an_hour_ago
    assert Compound.objects.get(name="工人新村").updated_at < an_hour_ago


def test_a_code_in_the_file_finds_the_compound_and_renames_it(registry, xlsx):
    existing = registry["compounds"]["GY"]

    result = run(xlsx([compound({"小区名称": "新名字", "小区编码": existing.code})]))

    assert result.compounds_updated == 1
    existing.refresh_from_db()
    assert existing.name == "新名字"


def test_a_code_absent_from_the_sheet_leaves_known_codes_alone(registry, xlsx):
    existing = registry["compounds"]["GY"]

    run(xlsx([compound({"小区名称": existing.name})]))

    assert Compound.objects.get(pk=existing.pk).code == existing.code


def test_dry_run_counts_what_would_change_and_writes_nothing(registry, xlsx):
    existing = registry["compounds"]["GY"]
    path = xlsx(
        [compound(), compound({"小区名称": existing.name, "户数": 99})],
        [building(), building({"小区名称": existing.name, "楼栋号": "新楼"})],
    )
    before = snapshot()

    result = run(path, dry_run=True)

    assert result.ok and result.dry_run
    assert (result.compounds_created, result.compounds_updated) == (1, 1)
    assert (result.buildings_created, result.buildings_updated) == (2, 0)
    assert snapshot() == before
    assert "nothing was saved" in result.summary()


# --- Bad files: every bad row is reported and nothing is written ---------------------------


def test_unknown_community_is_an_error(registry, xlsx):
    result = refused(xlsx([compound({"社区": "不存在社区"})]))

    assert places(result) == [("小区台账", 2, "B", "社区")]
    assert result.errors[0].message.startswith(
        "No community “不存在社区” in “雅儒街道” that you may import into."
    )


def test_community_in_another_sub_district_is_an_error(registry, xlsx):
    result = refused(xlsx([compound({"街道": "解放街道", "社区": "广跃社区"})]))

    assert "No community “广跃社区” in “解放街道”" in result.errors[0].message


def test_community_name_in_two_sub_districts_needs_the_sub_district(registry, xlsx):
    CommunityFactory(sub_district=registry["sub_b"], name="广跃社区", code="GY2")

    result = refused(xlsx([without(compound(), "街道")]))

    message = result.errors[0].message
    assert "Communities named “广跃社区” exist in" in message
    assert "解放街道" in message and "雅儒街道" in message


def test_same_compound_twice_in_the_file_is_an_error(registry, xlsx):
    result = refused(xlsx([compound(), compound({"户数": 50})]))

    assert places(result) == [("小区台账", 3, "C", "小区名称")]
    assert result.errors[0].message == (
        "Compound “胜利小区” of 广跃社区 is listed twice: also on row 2."
    )


def test_same_code_twice_in_the_file_is_an_error(registry, xlsx):
    rows = [
        compound({"小区编码": "GY-100"}),
        compound({"小区名称": "工人新村", "小区编码": "GY-100"}),
    ]

    result = refused(xlsx(rows))

    assert places(result) == [("小区台账", 3, "J", "小区编码")]
    assert result.errors[0].message == "Code “GY-100” of 广跃社区 is used twice: also on row 2."


def test_code_of_another_compound_in_the_registry_is_an_error(registry, xlsx):
    CompoundFactory(community=registry["a1"], name="甲院", code="GY-001")
    CompoundFactory(community=registry["a1"], name="乙院", code="GY-002")

    result = refused(xlsx([compound({"小区名称": "甲院", "小区编码": "GY-002"})]))

    assert places(result) == [("小区台账", 2, "J", "小区编码")]
    assert (
        result.errors[0].message == "Code “GY-002” already belongs to compound “乙院” of 广跃社区."
    )


def test_new_code_for_a_compound_the_registry_knows_by_name_is_an_error(registry, xlsx):
    existing = registry["compounds"]["GY"]

    result = refused(xlsx([compound({"小区名称": existing.name, "小区编码": "GY-NEW"})]))

    assert f"with code “{existing.code}”; use that code" in result.errors[0].message


def test_two_rows_for_one_registered_compound_are_an_error(registry, xlsx):
    existing = registry["compounds"]["GY"]
    rows = [
        compound({"小区名称": existing.name}),
        compound({"小区名称": "改名", "小区编码": existing.code}),
    ]

    result = refused(xlsx(rows))

    assert result.errors[0].message.startswith("This row and row 2 are the same compound")


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (timezone.localdate().year + 1, "is later than this year"),
        (1899, "Build year 1899 is before 1900."),
        ("八十年代", "“八十年代” is not a year; write it like 1985 or 1985年."),
        (85, "Build year 85 is before 1900."),
    ],
)
def test_bad_build_year_is_an_error(registry, xlsx, year, message):
    result = refused(xlsx([compound({"建成年份": year})]))

    assert places(result) == [("小区台账", 2, "E", "建成年份")]
    assert message in result.errors[0].message


@pytest.mark.parametrize("households", [-3, "-3", "三十", "30.5"])
def test_households_that_are_negative_or_not_a_number_are_an_error(registry, xlsx, households):
    result = refused(xlsx([compound({"户数": households})]))

    assert places(result) == [("小区台账", 2, "G", "户数")]
    assert result.errors[0].message == (
        f"Enter a whole number of 0 or more; “{households}” is not."
    )


@pytest.mark.parametrize(
    ("header", "column"), [("社区", "B"), ("小区名称", "C"), ("建成年份", "E"), ("户数", "G")]
)
def test_empty_required_cell_is_an_error(registry, xlsx, header, column):
    result = refused(xlsx([compound({header: "  "})]))

    assert places(result) == [("小区台账", 2, column, header)]
    assert result.errors[0].message == "Required; this cell is empty."


def test_missing_required_column_is_an_error(registry, xlsx):
    result = refused(xlsx([without(compound(), "建成年份")]))

    assert result.errors[0].message == (
        "Column “建成年份” is missing (also accepted: 建成年代、建成时间)."
    )
    assert (result.errors[0].sheet, result.errors[0].row) == ("小区台账", 1)


def test_unknown_property_management_word_lists_the_accepted_words(registry, xlsx):
    result = refused(xlsx([compound({"物业管理方式": "物管"})]))

    message = result.errors[0].message
    assert message.startswith("“物管” is not a property management mode. Accepted: 专业物业公司")
    assert "社区托管" in message


def test_old_compound_built_after_2000_is_an_error(registry, xlsx):
    result = refused(xlsx([compound({"建成年份": 2003, "是否老旧小区": "是"})]))

    assert result.errors[0].header == "是否老旧小区"
    assert "built in 2003" in result.errors[0].message


def test_every_bad_row_is_reported_in_sheet_order(registry, xlsx):
    rows = [
        compound({"户数": -1}),
        compound({"小区名称": "工人新村"}),
        compound({"小区名称": "红星宿舍", "社区": "不存在社区", "建成年份": "很久以前"}),
    ]
    buildings = [building({"层数": 0}), building({"小区名称": "没有这个小区"})]

    result = refused(xlsx(rows, buildings))

    assert places(result) == [
        ("小区台账", 2, "G", "户数"),
        ("小区台账", 4, "B", "社区"),
        ("小区台账", 4, "E", "建成年份"),
        ("楼栋明细", 2, "C", "层数"),
        ("楼栋明细", 3, "A", "小区名称"),
    ]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ("社区,小区名称\n广跃社区,胜利小区\n".encode(), "registry.csv"),
        (b"this is not a workbook", "renamed.xlsx"),
        (b"PK\x03\x04 a broken zip", "broken.xlsx"),
    ],
)
def test_a_file_that_is_not_an_xlsx_workbook_gets_a_clear_error(registry, tmp_path, content, name):
    (tmp_path / name).write_bytes(content)

    result = refused(tmp_path / name)

    assert result.errors[0].message.startswith("This file is not an Excel workbook (.xlsx).")


def test_a_workbook_without_a_compound_header_is_an_error(registry, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["名称", "年份"])
    workbook.save(tmp_path / "other.xlsx")

    result = refused(tmp_path / "other.xlsx")

    assert result.errors[0].message.startswith("No compound sheet found.")


def test_building_row_naming_an_unknown_compound_is_an_error(registry, xlsx):
    result = refused(xlsx([compound()], [building({"小区名称": "机械厂宿舍"})]))

    assert places(result) == [("楼栋明细", 2, "A", "小区名称")]
    assert result.errors[0].message == "Compound “机械厂宿舍” is not listed on the compound sheet."


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("层数", 0, "Enter a whole number from 1 to 100; “0” is not."),
        ("层数", 101, "Enter a whole number from 1 to 100; “101” is not."),
        ("单元数", "两", "Enter a whole number from 1 to 50; “两” is not."),
        ("户数", -4, "Enter a whole number of 1 or more; “-4” is not."),
        ("户数", 0, "Enter a whole number of 1 or more; “0” is not."),
        ("户数", 12.5, "Enter a whole number of 1 or more; “12.5” is not."),
        ("楼栋号", None, "Required; this cell is empty."),
    ],
)
def test_bad_building_figures_are_an_error(registry, xlsx, header, value, message):
    result = refused(xlsx([compound()], [building({header: value})]))

    assert [(e.sheet, e.row, e.header, e.message) for e in result.errors] == [
        ("楼栋明细", 2, header, message)
    ]


def test_same_building_twice_is_an_error(registry, xlsx):
    result = refused(xlsx([compound()], [building(), building()]))

    assert (
        result.errors[0].message == "Building “1栋” of “胜利小区” is listed twice: also on row 2."
    )


def test_building_sheet_names_the_community_when_compound_names_repeat(registry, xlsx):
    rows = [compound(), compound({"社区": "北雀社区"})]

    result = refused(xlsx(rows, [building()], name="ambiguous.xlsx"))
    assert result.errors[0].message == (
        "Compound “胜利小区” is listed for several communities (广跃社区、北雀社区); "
        "fill in the 社区 column to say which."
    )

    ok = run(xlsx(rows, [building({"社区": "北雀社区"})], name="named.xlsx"))
    assert ok.ok
    assert (
        Building.objects.get(number="1栋", compound__name="胜利小区").compound.community
        == (registry["a2"])
    )


# --- Who may import what -------------------------------------------------------------------


def test_sub_district_staff_may_only_import_their_own_sub_district(registry, make_user, xlsx):
    jiefang_staff = make_user(Role.SUB_DISTRICT_STAFF, sub_district=registry["sub_b"])
    path = xlsx([compound(), compound({"街道": "解放街道", "社区": "解放南社区"})])

    result = refused(path, user=jiefang_staff)

    assert places(result) == [("小区台账", 2, "B", "社区")]
    assert "that you may import into" in result.errors[0].message


def test_programme_office_imports_any_sub_district(users, xlsx):
    path = xlsx([compound(), compound({"街道": "解放街道", "社区": "解放南社区"})])

    assert run(path, user=users["programme_office"]).compounds_created == 2


def test_service_refuses_a_user_who_may_not_add_compounds(users, xlsx):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(xlsx([compound()]), user=users["leader"])


# --- Speed ---------------------------------------------------------------------------------


def generated_rows(compounds: int, buildings_each: int) -> tuple[list[dict], list[dict]]:
    """Rows for new compounds, spread over two communities, named after the size."""
    communities = ["广跃社区", "北雀社区"]
    names = [f"{compounds}号批次小区{i}" for i in range(compounds)]
    compound_rows = [
        compound({"社区": communities[i % 2], "小区名称": names[i], "楼栋数": buildings_each})
        for i in range(compounds)
    ]
    building_rows = [
        building({"社区": communities[i % 2], "小区名称": names[i], "楼栋号": f"{n}栋"})
        for i in range(compounds)
        for n in range(1, buildings_each + 1)
    ]
    return compound_rows, building_rows


def statement_counts(path: Path) -> Counter:
    with CaptureQueriesContext(connection) as queries:
        assert run(path).ok
    return Counter(query["sql"].split()[0].upper() for query in queries.captured_queries)


def batches(model, count: int, *, update_fields: int = 0) -> int:
    """Statements Django needs for a bulk write of `count` rows on this database."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if update_fields:
        fields = fields[: update_fields + 2]  # bulk_update sends pk twice per row
    size = min(BATCH_SIZE, connection.ops.bulk_batch_size(fields, [None] * count))
    return math.ceil(count / size)


def test_query_count_does_not_grow_with_the_rows(registry, xlsx):
    small = statement_counts(xlsx(*generated_rows(20, 5), name="small.xlsx"))
    big = statement_counts(xlsx(*generated_rows(200, 5), name="big.xlsx"))

    # Reads are the same; inserts differ only by the batches the database needs (SQLite caps
    # the parameters of one statement, PostgreSQL does not).
    assert small["INSERT"] == batches(Compound, 20) + batches(Building, 100)
    assert big == small | {"INSERT": batches(Compound, 200) + batches(Building, 1000)}


def test_query_count_of_a_reimport_does_not_grow_with_the_rows(registry, xlsx):
    counts = []
    for size in (20, 200):
        compound_rows, building_rows = generated_rows(size, 5)
        run(xlsx(compound_rows, building_rows, name=f"first{size}.xlsx"))
        changed = [row | {"户数": 49} for row in compound_rows]
        counts.append(
            statement_counts(
                xlsx(changed, [row | {"层数": 7} for row in building_rows], name=f"{size}.xlsx")
            )
        )
    small, big = counts

    # As for inserts: the same reads, and updates only in the batches the database needs.
    assert small["INSERT"] == big["INSERT"] == 0
    compound_fields, building_fields = 2, 1  # the changed ones: 户数 and updated_at; 层数
    assert small["UPDATE"] == batches(Compound, 20, update_fields=compound_fields) + batches(
        Building, 100, update_fields=building_fields
    )
    expected_updates = batches(Compound, 200, update_fields=compound_fields) + batches(
        Building, 1000, update_fields=building_fields
    )
    assert big == small | {"UPDATE": expected_updates}


# --- The template --------------------------------------------------------------------------


def test_downloaded_template_filled_in_with_a_row_imports(client, users, tmp_path):
    client.force_login(users["programme_office"])
    response = client.get(reverse("registry-template"))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    # 街道 社区 小区名称 小区编码 地址 建成年份 楼栋数 户数 原产权单位 物业管理方式 小区类型 备注
    row = ["雅儒街道", "广跃社区", "胜利小区", "", "雅儒路172号", "1985年", 1, 24]
    workbook["小区台账"].append([*row, "机械厂", "物业公司", "", "单栋宿舍楼"])
    workbook["楼栋明细"].append(["广跃社区", "胜利小区", "1栋", 6, 2, 24])
    workbook.save(tmp_path / "filled.xlsx")

    result = run(tmp_path / "filled.xlsx", user=users["programme_office"])

    assert result.ok, result.as_text_lines()
    assert (result.compounds_created, result.buildings_created, result.warnings) == (1, 1, [])
    created = Compound.objects.get(name="胜利小区")
    assert created.origin == Compound.Origin.ENTERPRISE_DORMITORY
    assert created.code == "GY-001"


def test_template_example_rows_are_not_imported(registry, tmp_path):
    from renovation.registry_import import template_workbook_bytes

    (tmp_path / "template.xlsx").write_bytes(template_workbook_bytes())

    result = refused(tmp_path / "template.xlsx")

    assert result.errors[0].message == "The compound sheet has no rows under its header."


def test_template_download_is_forbidden_without_add_permission(client, users):
    client.force_login(users["leader"])

    assert client.get(reverse("registry-template")).status_code == 403


# --- The admin page ------------------------------------------------------------------------


@pytest.fixture
def admin_client_as(client):
    def login(user):
        client.force_login(user)
        # As a person who chose English with the language switch.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return login


IMPORT_URL = "admin:renovation_compound_import"


def upload(path: Path, *, dry_run: bool = False) -> dict:
    file = SimpleUploadedFile(path.name, path.read_bytes(), content_type=XLSX)
    return {"file": file, "dry_run": "on"} if dry_run else {"file": file}


@pytest.mark.parametrize("role", ["leader", "community_staff", "finance", "no_role"])
def test_admin_import_page_is_forbidden_without_add_permission(users, admin_client_as, role):
    client = admin_client_as(users[role])

    assert client.get(reverse(IMPORT_URL)).status_code == 403


def test_admin_import_page_shows_the_upload_form(users, admin_client_as):
    response = admin_client_as(users["programme_office"]).get(reverse(IMPORT_URL))

    assert response.status_code == 200
    assert b'enctype="multipart/form-data"' in response.content
    assert reverse("registry-template").encode() in response.content


def test_admin_import_saves_and_redirects_with_the_counts(users, admin_client_as, xlsx):
    client = admin_client_as(users["programme_office"])

    response = client.post(reverse(IMPORT_URL), upload(xlsx([compound()])), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:renovation_compound_changelist")
    assert "Compounds: 1 created, 0 updated" in response.content.decode()
    assert Compound.objects.filter(name="胜利小区").exists()


def test_admin_import_with_warnings_saves_and_shows_them(sample_registry, users, admin_client_as):
    client = admin_client_as(users["programme_office"])

    response = client.post(reverse(IMPORT_URL), upload(SAMPLE))

    assert response.status_code == 200
    assert Compound.objects.filter(name="棉纺厂宿舍").exists()
    content = response.content.decode()
    assert 'id="import-warnings"' in content
    assert "Buildings declared: 1, but the sheet “楼栋明细” lists 2" in content


def test_admin_import_with_bad_rows_shows_every_error_and_saves_nothing(
    users, admin_client_as, xlsx
):
    client = admin_client_as(users["programme_office"])
    path = xlsx([compound({"户数": -1}), compound({"小区名称": "工人新村", "社区": "无名社区"})])
    before = snapshot()

    response = client.post(reverse(IMPORT_URL), upload(path))

    assert response.status_code == 200
    assert snapshot() == before
    assert len(response.context["result"].errors) == 2
    content = response.content.decode()
    assert 'id="import-errors"' in content
    assert "Not imported: 2 problems found. Nothing was saved." in content
    assert "Enter a whole number of 0 or more; “-1” is not." in content
    assert "No community “无名社区”" in content


def test_admin_dry_run_shows_the_counts_and_saves_nothing(users, admin_client_as, xlsx):
    client = admin_client_as(users["programme_office"])
    before = snapshot()

    response = client.post(reverse(IMPORT_URL), upload(xlsx([compound()]), dry_run=True))

    assert response.status_code == 200
    assert snapshot() == before
    assert "Compounds: 1 to create, 0 to update" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("registry.csv", b"a,b\n", "Upload an Excel workbook ending in .xlsx"),
        ("renamed.xlsx", b"plain text", "This file is not an Excel workbook (.xlsx)."),
    ],
)
def test_admin_refuses_a_file_that_is_not_a_workbook(
    users, admin_client_as, name, content, message
):
    client = admin_client_as(users["programme_office"])
    file = SimpleUploadedFile(name, content, content_type="text/plain")

    response = client.post(reverse(IMPORT_URL), {"file": file})

    assert response.status_code == 200
    assert message in response.content.decode()


def test_admin_refuses_a_file_over_the_size_limit(users, admin_client_as, xlsx, settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 1000
    client = admin_client_as(users["programme_office"])

    response = client.post(reverse(IMPORT_URL), upload(xlsx([compound()])))

    assert "the largest accepted is 1000" in response.content.decode()
    assert not Compound.objects.filter(name="胜利小区").exists()


def test_admin_sub_district_staff_cannot_import_another_sub_district(
    registry, make_user, admin_client_as, xlsx
):
    jiefang_staff = make_user(Role.SUB_DISTRICT_STAFF, sub_district=registry["sub_b"])
    client = admin_client_as(jiefang_staff)

    response = client.post(reverse(IMPORT_URL), upload(xlsx([compound()])))

    assert "No community “广跃社区” in “雅儒街道” that you may import into." in (
        response.content.decode()
    )
    assert not Compound.objects.filter(name="胜利小区").exists()


def test_admin_sub_district_staff_imports_their_own_sub_district(users, admin_client_as, xlsx):
    client = admin_client_as(users["sub_district_staff"])

    response = client.post(reverse(IMPORT_URL), upload(xlsx([compound()])))

    assert response.status_code == 302
    assert Compound.objects.filter(name="胜利小区").exists()


def test_compound_list_offers_import_and_template_only_with_add_permission(users, admin_client_as):
    changelist = reverse("admin:renovation_compound_changelist")
    import_link = reverse(IMPORT_URL).encode()

    office = admin_client_as(users["programme_office"]).get(changelist)
    assert import_link in office.content
    assert reverse("registry-template").encode() in office.content

    leader = admin_client_as(users["leader"]).get(changelist)
    assert leader.status_code == 200
    assert import_link not in leader.content

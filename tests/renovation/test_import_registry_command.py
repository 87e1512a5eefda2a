"""`manage.py import_registry`: the registry import from the command line."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from renovation.models import Building, Compound, Role
from tests.factories import CommunityFactory

SAMPLE = Path(__file__).parent / "data" / "registry-as-kept.xlsx"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def sample_registry(registry):
    CommunityFactory(sub_district=registry["sub_a"], name="雅儒社区", code="YRS")
    return registry


def import_registry(*args: str) -> str:
    out = StringIO()
    call_command("import_registry", *args, stdout=out)
    return out.getvalue()


def test_it_imports_the_sample_and_prints_counts_and_warnings(sample_registry):
    output = import_registry(str(SAMPLE))

    assert "Imported. Compounds: 20 created, 0 updated. Buildings: 14 created" in output
    assert "Warning: 小区台账, row 4, column G (楼栋数): Buildings declared: 1" in output
    assert Compound.objects.filter(name="棉纺厂宿舍").exists()


def test_dry_run_prints_what_would_change_and_saves_nothing(sample_registry):
    output = import_registry(str(SAMPLE), "--dry-run")

    assert "Compounds: 20 to create, 0 to update" in output
    assert not Compound.objects.filter(name="棉纺厂宿舍").exists()


def test_bad_file_prints_every_error_and_fails(registry):
    # The sample names 雅儒社区, which this registry lacks: seven rows are refused.
    out = StringIO()
    with pytest.raises(CommandError, match="Not imported: 7 problems found"):
        call_command("import_registry", str(SAMPLE), stdout=out)

    errors = [line for line in out.getvalue().splitlines() if line.startswith("Error:")]
    assert len(errors) == 7
    assert errors[0].startswith("Error: 小区台账, row 7, column C (社区): No community “雅儒社区”")
    assert not Building.objects.filter(compound__name="棉纺厂宿舍").exists()


def test_user_option_limits_the_import_to_their_sub_district(sample_registry, make_user):
    make_user(Role.SUB_DISTRICT_STAFF, sub_district=sample_registry["sub_b"], username="jf")

    with pytest.raises(CommandError, match="Not imported: 20 problems found"):
        import_registry(str(SAMPLE), "--user", "jf")


def test_user_option_with_sub_district_staff_of_the_file(sample_registry, users):
    output = import_registry(str(SAMPLE), "--user", "subdistrict")

    assert "Compounds: 20 created" in output


def test_unknown_user_is_refused(registry):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        import_registry(str(SAMPLE), "--user", "nobody")


def test_user_who_may_not_add_compounds_is_refused(users):
    with pytest.raises(CommandError, match="may not add compounds"):
        import_registry(str(SAMPLE), "--user", "leader")


def test_missing_file_is_refused(registry, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        import_registry(str(tmp_path / "absent.xlsx"))


def test_text_file_named_xlsx_is_refused_with_a_clear_error(registry, tmp_path):
    (tmp_path / "notes.xlsx").write_text("not a workbook")

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_registry", str(tmp_path / "notes.xlsx"), stdout=out)

    assert "This file is not an Excel workbook (.xlsx)." in out.getvalue()

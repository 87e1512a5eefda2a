import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import OuterRef, Subquery, Sum
from django.test import override_settings
from django.urls import reverse

from renovation.access import scope_queryset
from renovation.demo import DEMO_USERS, demo_load, demo_reset
from renovation.models import (
    Building,
    Compound,
    Disbursement,
    FundingAllocation,
    FundingSource,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
    Role,
)
from renovation.selectors.report import Month, summary_with_change

FINISHED = [ProjectStatus.COMPLETED, ProjectStatus.ACCEPTED]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once for this module (it takes seconds) and removed afterwards."""
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast:
        demo_load()
        yield
        demo_reset()


def status_on(day: datetime.date):
    """Each project's status as it stood at the end of `day`, from its transitions."""
    last = (
        ProjectTransition.objects.filter(project=OuterRef("pk"), effective_on__lte=day)
        .order_by("-effective_on", "-created_at", "-pk")
        .values("to_status")[:1]
    )
    return RenovationProject.objects.annotate(status_then=Subquery(last))


def test_demo_reproduces_the_articles_registry(demo, db):
    assert Compound.objects.count() == 482
    assert Compound.objects.filter(is_old=True).count() == 310
    assert Building.objects.count() >= 482


def test_demo_old_compounds_follow_the_national_rule(demo, db):
    assert not Compound.objects.filter(is_old=True, build_year__gt=2000).exists()


def test_demo_renovated_107_old_compounds_in_2018_to_2021_for_386_million(demo, db):
    history = RenovationProject.objects.filter(batch_year__range=(2018, 2021))
    assert history.filter(status__in=FINISHED, compound__is_old=True).count() == 107
    assert history.aggregate(total=Sum("budget"))["total"] == Decimal("386000000")
    allocated = FundingAllocation.objects.filter(project__in=history).aggregate(t=Sum("amount"))
    assert allocated["t"] == Decimal("386000000")
    kinds = set(
        FundingAllocation.objects.filter(project__in=history).values_list("source__kind", flat=True)
    )
    assert kinds == {
        FundingSource.Kind.CENTRAL_FISCAL,
        FundingSource.Kind.CENTRAL_BUDGET,
        FundingSource.Kind.SOE_TRANSFER,
        FundingSource.Kind.DISTRICT_MATCHING,
        FundingSource.Kind.UTILITY,
    }


def test_demo_2021_completed_15_regular_and_all_21_soe_transfers(demo, db):
    done_2021 = RenovationProject.objects.filter(batch_year=2021, actual_finish__year=2021)
    assert done_2021.filter(kind=RenovationProject.Kind.REGULAR).count() == 15
    soe = RenovationProject.objects.filter(kind=RenovationProject.Kind.SOE_TRANSFER)
    assert soe.count() == 21 and done_2021.filter(kind="soe_transfer").count() == 21


def test_demo_2022_batch_as_of_june_2022(demo, db):
    batch = status_on(datetime.date(2022, 6, 30)).filter(batch_year=2022)
    assert batch.count() == 23
    assert batch.aggregate(h=Sum("households_benefited"))["h"] == 4032
    assert batch.filter(status_then=ProjectStatus.UNDER_CONSTRUCTION).count() == 13
    preparing = [ProjectStatus.PIPELINE, ProjectStatus.FEASIBILITY, ProjectStatus.PLAN_APPROVED]
    assert batch.filter(status_then__in=preparing).count() == 10


def test_demo_2022_batch_moves_on_later_in_2022(demo, db):
    june = status_on(datetime.date(2022, 6, 30)).filter(batch_year=2022)
    december = status_on(datetime.date(2022, 12, 31)).filter(batch_year=2022)
    assert december.filter(status_then__in=FINISHED).count() > 0
    assert sorted(june.values_list("status_then", flat=True)) != sorted(
        december.values_list("status_then", flat=True)
    )


def test_demo_progress_differs_month_by_month(demo, db):
    from renovation.selectors import latest_progress_subquery

    batch = RenovationProject.objects.filter(batch_year=2022)
    may = batch.annotate(p=latest_progress_subquery(datetime.date(2022, 5, 31)))
    june = batch.annotate(p=latest_progress_subquery(datetime.date(2022, 6, 30)))
    assert sum(p.p for p in june) > sum(p.p for p in may)


def test_demo_money_obeys_its_rules(demo, db):
    for source in FundingSource.objects.all():
        allocated = source.allocations.aggregate(t=Sum("amount"))["t"] or 0
        assert allocated <= source.amount
    for allocation in FundingAllocation.objects.all():
        paid = allocation.disbursements.aggregate(t=Sum("amount"))["t"] or 0
        assert paid <= allocation.amount
    assert Disbursement.objects.exists()


def test_load_demo_twice_changes_nothing(demo, db):
    before = (Compound.objects.count(), Building.objects.count(), RenovationProject.objects.count())
    demo_load()
    after = (Compound.objects.count(), Building.objects.count(), RenovationProject.objects.count())
    assert after == before


def test_load_demo_reset_starts_over(demo, db, settings, client, make_user):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; load_demo is for local use only
    Compound.objects.filter(is_old=False).first().delete()
    # The dashboard keeps its figures in the cache: the reset and the load show at once.
    client.force_login(make_user(Role.PROGRAMME_OFFICE, username="cache-office"))
    june = {"month": "2022-06"}
    assert client.get(reverse("dashboard"), june).context["figures"]["now"]["compounds"] == 481
    call_command("load_demo", "--reset", stdout=open("/dev/null", "w"))
    assert Compound.objects.count() == 482
    assert RenovationProject.objects.count() == 130
    shown = client.get(reverse("dashboard"), june).context["figures"]
    assert shown == summary_with_change(Month.parse("2022-06"))
    assert shown["now"]["compounds"] == 482


@override_settings(DEBUG=False)
def test_load_demo_refuses_in_production(demo, db):
    Compound.objects.filter(is_old=False).first().delete()
    with pytest.raises(CommandError, match="DJANGO_DEBUG=0"):
        call_command("load_demo")
    assert Compound.objects.count() == 481


def test_each_demo_user_sees_exactly_its_scope(demo, db, django_user_model):
    everyone = Compound.objects.count()
    yaru = Compound.objects.filter(community__sub_district__code="YR").count()
    guangyue = Compound.objects.filter(community__code="GY").count()
    expected = {"yaru": yaru, "guangyue": guangyue, "grid": guangyue}
    for spec in DEMO_USERS:
        user = django_user_model.objects.get(username=spec.username)
        seen = scope_queryset(user, Compound.objects.all())
        assert seen.count() == expected.get(spec.username, everyone), spec.username
        assert user.check_password("xinsheng-demo")
    assert 0 < guangyue < yaru < everyone


@pytest.mark.parametrize(
    ("query", "count", "extra"),
    [
        ({"batch_to": "2021", "stage": "finished"}, 107, {"budget": Decimal("386000000")}),
        ({"batch_year__exact": "2022"}, 23, {"households": 4032}),
        (
            {"batch_year__exact": "2022", "as_of": "2022-06-30", "stage": "under_construction"},
            13,
            {},
        ),
        ({"batch_year__exact": "2022", "as_of": "2022-06-30", "stage": "preparation"}, 10, {}),
        ({"batch_year__exact": "2021", "kind__exact": "soe_transfer", "stage": "finished"}, 21, {}),
    ],
)
def test_articles_figures_read_off_the_admin_filters(
    demo, client, django_user_model, query, count, extra
):
    client.force_login(django_user_model.objects.get(username="office"))
    response = client.get(reverse("admin:renovation_renovationproject_changelist"), query)
    assert response.status_code == 200
    totals = response.context_data["totals"]
    assert totals["count"] == count
    for key, value in extra.items():
        assert totals[key] == value


def _summary(path) -> dict:
    import openpyxl

    sheet = openpyxl.load_workbook(path)["总览"]
    return {row[0]: row[1] for row in sheet.iter_rows(min_row=4, values_only=True) if row[0]}


def test_june_2022_report_shows_the_articles_figures(demo, db, tmp_path):
    target = tmp_path / "r.xlsx"
    call_command(
        "monthly_report", "2022-06", "--output", str(target), stdout=open("/dev/null", "w")
    )
    values = _summary(target)
    assert values["居民小区总数"] == 482
    assert values["其中：老旧小区"] == 310
    assert values["老旧小区占比"] == pytest.approx(0.6432)
    assert values["2018—2021年已改造老旧小区"] == 107
    assert values["2018—2021年改造总投资"] == pytest.approx(3.86)  # 亿元: 386,000,000 yuan
    assert values["2022年计划改造小区"] == "=SUM(B11:B14)"
    batch = [
        values[k]
        for k in ("其中：前期推进中", "其中：已进场施工", "其中：已完工", "其中：已竣工验收")
    ]
    assert sum(batch) == 23
    assert values["其中：已进场施工"] == 13
    assert values["其中：前期推进中"] == 10
    assert values["惠及居民"] == 4032


def test_december_2022_report_shows_the_later_state(demo, db, tmp_path):
    target = tmp_path / "r.xlsx"
    call_command(
        "monthly_report", "2022-12", "--output", str(target), stdout=open("/dev/null", "w")
    )
    values = _summary(target)
    assert values["其中：前期推进中"] == 0
    assert values["其中：已完工"] + values["其中：已竣工验收"] == 10
    assert values["累计已改造老旧小区（含本年已完工）"] == 117
    assert values["延期项目（计划完工已过仍未完工）"] == 3

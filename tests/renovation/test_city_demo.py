"""The city-scale demo (`load_demo --scale city`) at a small fraction: its shape and the
data rules it must keep, on PostgreSQL (it loads with COPY; CI runs PostgreSQL)."""

import datetime
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partycells.models import Activity, BranchMember, MemberRole, TemporaryBranch
from renovation.demo.city import (
    BATCH_YEARS,
    CITY_TODAY,
    PROGRESS_MONTHS,
    CityScale,
    city_counts,
    city_districts,
    city_load,
    city_reset,
)
from renovation.models import (
    Building,
    Compound,
    Disbursement,
    FundingAllocation,
    FundingSource,
    ProgressUpdate,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
    Role,
)
from renovation.models.projects import LIFECYCLE
from renovation.report_workbook import build_workbook
from renovation.selectors.report import Month, summary_with_change
from residents.models import TRANSITIONS, RequestLog, RequestStatus, ResidentRequest

FRACTION = 0.002
SCALE = CityScale(FRACTION)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the city loads with COPY: PostgreSQL (CI runs it)"
)


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """The city at a small fraction, loaded once for this module and removed afterwards."""
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast:
        city_reset()
        figures = city_load(fraction=FRACTION)
        yield figures
        city_reset()


def test_city_has_the_shape_of_its_scale(city, db):
    assert city["districts"] == 5
    assert city["sub_districts"] == SCALE.sub_districts
    assert city["communities"] == SCALE.communities
    assert city["compounds"] == SCALE.compounds
    assert city["buildings"] == SCALE.buildings
    assert city["projects"] == SCALE.projects
    assert city["progress_updates"] == SCALE.projects * PROGRESS_MONTHS
    assert city["allocations"] == SCALE.projects * 5
    assert city["requests"] == SCALE.requests
    assert city["request_logs"] >= SCALE.requests
    assert city["branches"] == SCALE.branches
    assert city["members"] == SCALE.members
    assert city["activities"] == SCALE.activities
    assert set(RenovationProject.objects.values_list("batch_year", flat=True)) <= set(BATCH_YEARS)


def test_full_scale_is_the_city_the_issue_asks_for():
    full = CityScale(1)
    assert (full.compounds, full.buildings, full.projects) == (2500, 25000, 2000)
    assert (full.requests, full.branches, full.members, full.activities) == (
        1_000_000,
        200,
        5000,
        10000,
    )


def test_projects_move_through_the_lifecycle_with_dates_that_agree(city, db):
    steps = defaultdict(list)
    for project_id, from_status, to_status, on in ProjectTransition.objects.order_by(
        "project", "effective_on", "pk"
    ).values_list("project", "from_status", "to_status", "effective_on"):
        steps[project_id].append((from_status, to_status, on))
    for project in RenovationProject.objects.all():
        path = steps[project.pk]
        assert [to for _from, to, _on in path] == LIFECYCLE[: len(path)]
        assert [f for f, _to, _on in path] == ["", *LIFECYCLE[: len(path) - 1]]
        assert project.status == path[-1][1]
        dates = {to: on for _from, to, on in path}
        assert project.actual_start == dates[ProjectStatus.UNDER_CONSTRUCTION]
        assert project.actual_finish == dates.get(ProjectStatus.COMPLETED)
        assert project.accepted_on == dates.get(ProjectStatus.ACCEPTED)
        assert all(on <= CITY_TODAY for _f, _t, on in path)


def test_each_project_has_24_monthly_progress_figures_that_never_fall(city, db):
    for project in RenovationProject.objects.prefetch_related("progress_updates"):
        updates = sorted(project.progress_updates.all(), key=lambda u: u.recorded_on)
        assert len(updates) == PROGRESS_MONTHS
        percents = [u.percent for u in updates]
        assert percents == sorted(percents)
        assert updates[0].recorded_on >= project.actual_start
        assert updates[-1].recorded_on <= CITY_TODAY
        finished = project.status in (ProjectStatus.COMPLETED, ProjectStatus.ACCEPTED)
        assert (percents[-1] == 100) == finished
        assert len({u.recorded_on.month for u in updates[:12]}) == 12  # one a month


def test_money_never_exceeds_its_source_or_its_allocation(city, db):
    projects = RenovationProject.objects.filter(
        compound__community__sub_district__district__in=city_districts()
    )
    sources = FundingSource.objects.filter(allocations__project__in=projects).distinct()
    for source in sources.annotate(allocated=Sum("allocations__amount")):
        assert source.allocated <= source.amount
    for allocation in FundingAllocation.objects.annotate(paid=Sum("disbursements__amount")):
        assert (allocation.paid or 0) <= allocation.amount
    for payment in Disbursement.objects.select_related("allocation"):
        assert payment.project_id == payment.allocation.project_id
        assert payment.paid_on >= payment.allocation.allocated_on
    for project in projects.annotate(allocated=Sum("allocations__amount")):
        assert project.allocated == project.budget


def test_requests_follow_the_workflow_in_their_logs(city, db):
    logs = defaultdict(list)
    for request_id, from_status, to_status, at in RequestLog.objects.order_by(
        "request", "at", "pk"
    ).values_list("request", "from_status", "to_status", "at"):
        logs[request_id].append((from_status, to_status, at))
    requests = ResidentRequest.objects.all()
    assert requests.count() == SCALE.requests
    for request in requests:
        path = logs[request.pk]
        assert path[0][:2] == ("", RequestStatus.NEW)
        assert path[0][2] == request.logged_at
        for (_f, before, _a), (after_from, after, _b) in pairwise(path):
            assert after_from == before
            assert after in TRANSITIONS[before]
        assert request.status == path[-1][1]
        if request.status == RequestStatus.DECLINED:
            assert request.answer
        if request.project_id:
            assert request.project.compound_id == request.compound_id
        if request.building_id:
            assert request.building.compound_id == request.compound_id
            assert 1 <= request.unit_number <= request.building.units
    kinds = Counter(requests.values_list("kind", flat=True))
    assert len(kinds) == 4


def test_branches_have_their_members_and_activities_in_their_lifetime(city, db):
    for branch in TemporaryBranch.objects.annotate(n=Count("projects")):
        assert branch.n >= 1
        members = BranchMember.objects.filter(branch=branch)
        assert members.filter(role=MemberRole.SECRETARY, left_on=None).count() <= 1
        held = Activity.objects.filter(branch=branch).values_list("held_on", flat=True)
        assert all(branch.founded_on <= day <= CITY_TODAY for day in held)
        if branch.dissolved_on:
            assert all(day <= branch.dissolved_on for day in held)


def test_loading_again_changes_nothing(city, db):
    before = city_counts()
    assert city_load(fraction=FRACTION) == before


def test_the_report_runs_the_same_queries_for_more_rows(city, db):
    """The workbook's query count does not grow with its rows (bench/report.py shows it at
    district and at city scale)."""
    branch = TemporaryBranch.objects.order_by("founded_on").first()
    early, later = (
        Month.of(branch.founded_on + datetime.timedelta(days=days)) for days in (40, 400)
    )
    assert not branch.dissolved_on or branch.dissolved_on > later.last
    with CaptureQueriesContext(connection) as fewer:
        build_workbook(early)
    with CaptureQueriesContext(connection) as more:
        build_workbook(later)
    assert ResidentRequest.objects.filter(logged_at__date__lte=early.last).count() < (
        ResidentRequest.objects.filter(logged_at__date__lte=later.last).count()
    )
    assert len(more) == len(fewer)


def test_reset_removes_the_city_and_nothing_else(db, registry, django_db_blocker):
    city_load(fraction=0.001)
    assert city_districts().count() == 5
    city_reset()
    assert not city_districts().exists()
    assert (
        Compound.objects.filter(pk__in=[c.pk for c in registry["compounds"].values()]).count() == 3
    )
    assert Building.objects.filter(compound__community=registry["a1"]).count() == 2
    assert not ProgressUpdate.objects.exists()


def test_load_demo_refuses_the_city_without_postgresql(db, monkeypatch, settings):
    settings.DEBUG = True
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("load_demo", "--scale", "city")


def test_load_demo_refuses_a_fraction_out_of_range(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="fraction"):
        call_command("load_demo", "--scale", "city", "--fraction", "2")


def test_dashboard_shows_the_city_removed_and_loaded_again(city, db, client, make_user):
    """The city is loaded with bulk_create and COPY, and removed with raw DELETEs."""
    client.force_login(make_user(Role.PROGRAMME_OFFICE, username="cache-office"))
    month = Month.of(CITY_TODAY).previous()

    def shown() -> dict:
        return client.get(reverse("dashboard"), {"month": str(month)}).context["figures"]

    loaded = shown()
    city_reset()
    assert shown() == summary_with_change(month) != loaded
    city_load(fraction=FRACTION)
    assert shown() == summary_with_change(month) != summary_with_change(month.previous())

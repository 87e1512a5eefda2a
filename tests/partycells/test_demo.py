"""The party-cell part of the demo: a branch for each 2022 project with members from
several units, a group for each building, activities every month, monthly joint meetings
with decisions carried over (some overdue), councils settling objections."""

import datetime

import pytest
from django.db.models import Count
from django.test import override_settings

from partycells.demo import partycells_load
from partycells.models import (
    Activity,
    ActivityRequest,
    BranchMember,
    BuildingGroup,
    Decision,
    DecisionReport,
    Meeting,
    MeetingKind,
    MemberRole,
    ObjectionSettlement,
    TemporaryBranch,
)
from renovation.demo import demo_load, demo_reset
from renovation.models import Building, District, RenovationProject
from residents.models import RequestKind, RequestStatus, ResidentRequest

D = datetime.date


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast:
        demo_load()
        yield
        demo_reset()


def test_every_2022_project_has_a_branch_with_members_from_several_units(demo, db):
    projects = RenovationProject.objects.filter(batch_year=2022)
    assert projects.count() == 23
    for project in projects.prefetch_related("party_branches__members"):
        (branch,) = project.party_branches.all()
        units = {m.unit_kind for m in branch.members.all()}
        assert {"sub_district", "community", "lead_unit", "builder", "supervisor"} <= units
        roles = [m.role for m in branch.members.all()]
        assert roles.count(MemberRole.SECRETARY) == 1
        assert roles.count(MemberRole.FIRST_SECRETARY) == (1 if project.is_key else 0)
        assert any(m.is_trainee for m in branch.members.all())


def test_branches_of_accepted_projects_are_dissolved_on_acceptance(demo, db):
    for branch in TemporaryBranch.objects.prefetch_related("projects"):
        (project,) = branch.projects.all()
        if project.status == "accepted":
            assert branch.dissolved_on == project.accepted_on
        else:
            assert branch.dissolved_on is None


def test_each_building_has_a_group(demo, db):
    compounds = RenovationProject.objects.filter(party_branches__isnull=False).values("compound")
    buildings = Building.objects.filter(compound__in=compounds)
    assert BuildingGroup.objects.count() == buildings.count() > 0
    assert not buildings.exclude(party_groups__isnull=False).exists()


def test_activities_every_month_of_2022_with_requests_counted(demo, db):
    months = {a.held_on.month for a in Activity.objects.filter(held_on__year=2022)}
    assert months == set(range(1, 13))
    assert ActivityRequest.objects.count() > 0
    for link in ActivityRequest.objects.select_related("activity", "request")[:200]:
        logged = link.request.logged_at.date()
        assert link.activity.held_on <= logged <= link.activity.held_on + datetime.timedelta(days=7)


def test_monthly_joint_meetings_from_2021_with_decisions_carried_and_overdue(demo, db):
    joint = Meeting.objects.filter(kind=MeetingKind.JOINT)
    months = {(m.held_on.year, m.held_on.month) for m in joint}
    assert months == {(y, m) for y in (2021, 2022) for m in range(1, 13)}
    decisions = Decision.objects.filter(meeting__kind=MeetingKind.JOINT)
    assert decisions.filter(status="done").count() > decisions.count() // 2
    assert Decision.objects.overdue().filter(meeting__kind=MeetingKind.JOINT).exists()
    # Done late: closed after the due date, and carried over in between.
    late = decisions.filter(status="done", closed_on__gt=models_f("due_on"))
    assert late.exists()
    assert DecisionReport.objects.filter(decision__in=late).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


def test_carried_decisions_were_open_when_each_meeting_met(demo, db):
    for report in DecisionReport.objects.select_related("meeting", "decision__meeting"):
        decision = report.decision
        assert decision.meeting.held_on < report.meeting.held_on
        assert decision.closed_on is None or decision.closed_on >= report.meeting.held_on


def test_settled_objections_were_settled_at_a_consultation_council(demo, db):
    settled = ObjectionSettlement.objects.select_related("meeting", "request")
    assert settled.exists()
    for link in settled:
        assert link.meeting.kind == MeetingKind.CONSULTATION
        assert link.request.settled_on == link.meeting.held_on
    covered = RenovationProject.objects.filter(party_branches__isnull=False).values("compound")
    unlinked = ResidentRequest.objects.filter(
        kind=RequestKind.OBJECTION,
        status=RequestStatus.RESOLVED,
        compound__in=covered,
        party_settlement__isnull=True,
    )
    assert not unlinked.exists()


def test_loading_twice_changes_nothing(demo, db):
    counts = [
        M.objects.count() for M in (TemporaryBranch, BranchMember, Meeting, Decision, Activity)
    ]
    partycells_load(District.objects.get(code="LB"))
    assert counts == [
        M.objects.count() for M in (TemporaryBranch, BranchMember, Meeting, Decision, Activity)
    ]


def test_no_branch_has_two_serving_secretaries(demo, db):
    doubled = (
        BranchMember.objects.filter(role="secretary", left_on__isnull=True)
        .values("branch")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not doubled.exists()


@pytest.mark.parametrize("username", ["office", "organisation", "guangyue", "yaru", "leader"])
def test_the_party_pages_open_on_the_demo(demo, db, client, username):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    client.force_login(get_user_model().objects.get(username=username))
    pages = [
        reverse(name)
        for name in ("party-branch-list", "party-meeting-list", "party-decision-board")
    ]
    pages.append(reverse("party-decision-board") + "?overdue=true")
    pages.append(reverse("party-coverage") + "?all=1")
    branch = TemporaryBranch.objects.filter(community__code="GY").first()
    pages.append(reverse("party-branch-detail", args=[branch.pk]))
    for kind in (MeetingKind.CONSULTATION, MeetingKind.BRANCH_COMMITTEE):
        meeting = Meeting.objects.filter(kind=kind, community__code="GY").first()
        if meeting:
            pages.append(reverse("party-meeting-detail", args=[meeting.pk]))
    for page in pages:
        assert client.get(page).status_code == 200, page
    joint = Meeting.objects.filter(kind=MeetingKind.JOINT).order_by("-held_on").first()
    status = client.get(reverse("party-meeting-detail", args=[joint.pk])).status_code
    assert status == (404 if username in ("guangyue", "yaru") else 200)

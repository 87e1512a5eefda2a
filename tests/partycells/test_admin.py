"""The party-cell admin: every model listed, scoped to the user's area, with the services'
checks on its forms and no query per row."""

import datetime

import pytest
from django.urls import reverse

from partycells import models
from partycells.models import BranchMember, MeetingKind, TemporaryBranch, UnitKind
from partycells.services import decision_create, meeting_create, member_add

from .conftest import FOUNDED

D = datetime.date
MODELS = [
    models.Department,
    models.TemporaryBranch,
    models.BranchMember,
    models.BuildingGroup,
    models.VolunteerTeam,
    models.VolunteerMember,
    models.Activity,
    models.ActivityRequest,
    models.Meeting,
    models.MeetingVote,
    models.Decision,
    models.DecisionReport,
    models.Escalation,
    models.ObjectionSettlement,
]


def changelist(model):
    return reverse(f"admin:partycells_{model._meta.model_name}_changelist")


def change(obj):
    return reverse(f"admin:partycells_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_has_an_admin_list(client, users, branches, model):
    client.force_login(users["organisation"])
    assert client.get(changelist(model)).status_code == 200


def test_branch_admin_is_scoped(client, users, branches):
    client.force_login(users["community_staff"])
    response = client.get(changelist(TemporaryBranch))
    assert [b.pk for b in response.context["cl"].result_list] == [branches["GY"].pk]
    assert client.get(change(branches["JN"])).status_code == 404
    member = BranchMember.objects.filter(branch=branches["JN"]).first()
    assert client.get(change(member)).status_code == 404


def test_only_the_organisation_department_and_office_add_branches(client, users):
    client.force_login(users["community_staff"])
    assert client.get(reverse("admin:partycells_temporarybranch_add")).status_code == 403
    client.force_login(users["organisation"])
    assert client.get(reverse("admin:partycells_temporarybranch_add")).status_code == 200


def test_the_branch_form_runs_the_services_checks(client, users, projects):
    client.force_login(users["organisation"])
    data = {
        "name": "跨社区支部",
        "community": projects["GY"].compound.community_id,
        "projects": [projects["GY"].pk, projects["JN"].pk],
        "founded_on": "2022-03-01",
        "members-TOTAL_FORMS": 0,
        "members-INITIAL_FORMS": 0,
        "building_groups-TOTAL_FORMS": 0,
        "building_groups-INITIAL_FORMS": 0,
    }
    response = client.post(reverse("admin:partycells_temporarybranch_add"), data)
    assert response.status_code == 200
    assert "属于其他社区" in str(response.context["adminform"].form.errors)
    assert not TemporaryBranch.objects.exists()


def test_the_member_form_refuses_a_second_secretary(client, users, branches):
    client.force_login(users["organisation"])
    data = {
        "branch": branches["GY"].pk,
        "name": "另一位书记",
        "unit_kind": UnitKind.LEAD_UNIT,
        "unit_name": "区住建局",
        "role": "secretary",
        "joined_on": "2022-03-01",
    }
    response = client.post(reverse("admin:partycells_branchmember_add"), data)
    assert response.status_code == 200
    assert "支部已有支部书记：GY书记" in str(response.context["adminform"].form.errors)
    assert not BranchMember.objects.filter(name="另一位书记").exists()


def test_meetings_and_decisions_are_written_on_the_pages(client, users, office):
    meeting = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 3, 10), user=office)
    decision = decision_create(
        meeting=meeting, text="事项", due_on=D(2022, 4, 1), responsible_unit="街道", user=office
    )
    client.force_login(users["programme_office"])
    assert client.get(reverse("admin:partycells_meeting_add")).status_code == 403
    assert client.get(reverse("admin:partycells_decision_add")).status_code == 403
    assert client.get(change(decision)).status_code == 200
    response = client.post(
        change(meeting),
        {
            "title": meeting.title,
            "agenda": "新议程",
            "attendance": 12,
            "minutes": "纪要",
            "votes-TOTAL_FORMS": 0,
            "votes-INITIAL_FORMS": 0,
            "decisions-TOTAL_FORMS": 0,
            "decisions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.agenda == "新议程"


def test_the_organisation_department_cannot_change_a_joint_meeting(client, users, office):
    meeting = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 3, 10), user=office)
    client.force_login(users["organisation"])
    assert client.get(change(meeting)).status_code == 200
    assert client.post(change(meeting), {"title": "改", "attendance": 1}).status_code == 403


LISTED = [
    models.TemporaryBranch,
    models.BranchMember,
    models.BuildingGroup,
    models.Activity,
    models.Meeting,
    models.Decision,
    models.DecisionReport,
    models.Escalation,
]


def _add_branch_with_work(branches, office, n: int) -> None:
    from partycells.services import (
        activity_record,
        branch_create,
        escalation_raise,
        group_create,
    )
    from tests.factories import BuildingFactory, CompoundFactory, ProjectFactory

    from .conftest import advance

    compound = CompoundFactory(community=branches["JN"].community)
    building = BuildingFactory(compound=compound)
    project = advance(ProjectFactory(compound=compound), office)
    branch = branch_create(projects=[project], founded_on=FOUNDED, user=office, name=f"支部{n}")
    member = member_add(
        branch=branch,
        name=f"党员{n}",
        unit_kind=UnitKind.BUILDER,
        unit_name="施工单位",
        joined_on=FOUNDED,
        user=office,
    )
    group_create(branch=branch, building=building, leader=member, founded_on=FOUNDED, user=office)
    activity_record(
        branch=branch,
        kind="opinion",
        held_on=D(2022, 4, 1),
        place="广场",
        participants=3,
        user=office,
    )
    escalation_raise(branch=branch, matter=f"问题{n}", user=office)
    joint = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 3, 1 + n), user=office)
    decision_create(
        meeting=joint, text=f"事项{n}", due_on=D(2022, 4, 1), responsible_unit="街道", user=office
    )


@pytest.mark.parametrize("model", LISTED, ids=lambda m: m.__name__)
def test_admin_lists_run_a_fixed_number_of_queries(
    client, users, branches, office, model, django_assert_max_num_queries
):
    _add_branch_with_work(branches, office, 0)
    client.force_login(users["programme_office"])
    with django_assert_max_num_queries(25) as few:
        client.get(changelist(model))
    for n in range(1, 7):
        _add_branch_with_work(branches, office, n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(changelist(model))
    assert len(response.context["cl"].result_list) >= 6


def test_branch_and_decision_changes_keep_their_history(client, users, branches):
    from django.urls import reverse

    branch = branches["GY"]
    branch.name = branch.name + "（调整）"
    branch.save()
    assert branch.history.count() >= 1
    client.force_login(users["organisation"])
    url = reverse("admin:partycells_temporarybranch_history", args=[branch.pk])
    assert client.get(url).status_code == 200
    client.force_login(users["community_staff"])
    other = branches["JN"]
    url = reverse("admin:partycells_temporarybranch_history", args=[other.pk])
    assert client.get(url).status_code == 404


def test_every_autocomplete_pages_an_ordered_list(rf, users):
    """The admin's autocomplete (for every admin with search fields) pages the admin's own
    queryset, which must be ordered: a grouped query drops the model's ordering, and an
    unordered list pages unstably (Django warns)."""
    from django.contrib import admin as django_admin

    request = rf.get("/")
    request.user = users["programme_office"]
    for model, model_admin in django_admin.site._registry.items():
        if model._meta.app_label == "partycells" and model_admin.search_fields:
            assert model_admin.get_queryset(request).ordered, model.__name__

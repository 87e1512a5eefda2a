"""Branches, their members, building groups and volunteer teams: the rules of each, and a
branch dissolved when its projects are accepted."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from partycells.models import (
    BranchMember,
    BuildingGroup,
    MemberRole,
    TemporaryBranch,
    UnitKind,
    VolunteerMember,
    VolunteerTeam,
)
from partycells.services import (
    branch_create,
    branch_dissolve,
    branches_follow_project,
    group_create,
    member_add,
    member_change_role,
    member_leave,
    team_create,
    volunteer_add,
)
from renovation.models import ProjectStatus
from renovation.services import project_transition
from tests.factories import BuildingFactory, CompoundFactory, ProjectFactory

from .conftest import FOUNDED, advance

D = datetime.date
FINISHED_ON, ACCEPTED_ON = D(2022, 10, 10), D(2022, 12, 20)


def accept(project, user, finished=FINISHED_ON, accepted=ACCEPTED_ON):
    project_transition(project=project, to_status=ProjectStatus.COMPLETED, user=user, on=finished)
    project_transition(project=project, to_status=ProjectStatus.ACCEPTED, user=user, on=accepted)
    project.refresh_from_db()


def member(branch, user, **extra):
    data = {
        "name": "李建国",
        "unit_kind": UnitKind.BUILDER,
        "unit_name": "柳州市建筑工程集团有限公司",
        "joined_on": FOUNDED,
        "user": user,
        **extra,
    }
    return member_add(branch=branch, **data)


# ---------------------------------------------------------------------------------------
# Setting up a branch


def test_branch_is_set_up_under_its_projects_community(projects, office):
    branch = branch_create(projects=[projects["BQ"]], founded_on=FOUNDED, user=office)
    assert branch.community == projects["BQ"].compound.community
    assert branch.name == f"{projects['BQ'].compound.name}项目临时党支部"
    assert list(branch.projects.all()) == [projects["BQ"]]
    assert branch.dissolved_on is None


def test_branch_can_cover_a_group_of_projects_of_one_community(registry, projects, office):
    second = advance(ProjectFactory(compound=CompoundFactory(community=registry["a1"])), office)
    branch = branch_create(
        projects=[projects["GY"], second], founded_on=FOUNDED, user=office, name="广跃片区一线支部"
    )
    assert set(branch.projects.all()) == {projects["GY"], second}


def test_branch_of_projects_in_two_communities_is_refused(projects, office, english):
    with pytest.raises(ValidationError) as error:
        branch_create(
            projects=[projects["GY"], projects["BQ"]], founded_on=FOUNDED, user=office, name="x"
        )
    assert "another community" in str(error.value.message_dict["projects"])
    assert not TemporaryBranch.objects.exists()


def test_a_project_has_one_serving_branch(branches, projects, office, english):
    with pytest.raises(ValidationError) as error:
        branch_create(projects=[projects["GY"]], founded_on=FOUNDED, user=office, name="second")
    assert "already has a branch" in str(error.value.message_dict["projects"])
    assert TemporaryBranch.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"projects": []}, "projects", "at least one project"),
        ({"founded_on": D(2099, 1, 1)}, "founded_on", "later than today"),
    ],
)
def test_branch_bad_input_is_refused_with_a_clear_error(
    projects, office, english, data, field, words
):
    arguments = {"projects": [projects["BQ"]], "founded_on": FOUNDED, "user": office, **data}
    with pytest.raises(ValidationError) as error:
        branch_create(**arguments)
    assert words in str(error.value.message_dict[field])
    assert not TemporaryBranch.objects.exists()


def test_branch_of_an_accepted_project_is_refused(projects, office, english):
    accept(projects["BQ"], office)
    with pytest.raises(ValidationError) as error:
        branch_create(projects=[projects["BQ"]], founded_on=FOUNDED, user=office)
    assert "has been accepted" in str(error.value.message_dict["projects"])


def test_branch_name_is_unique_in_its_community(projects, office, english):
    branch_create(projects=[projects["BQ"]], founded_on=FOUNDED, user=office, name="一线支部")
    other = advance(
        ProjectFactory(compound=CompoundFactory(community=projects["BQ"].compound.community)),
        office,
    )
    with pytest.raises(ValidationError) as error:
        branch_create(projects=[other], founded_on=FOUNDED, user=office, name="一线支部")
    assert "already has a branch called" in str(error.value.message_dict["name"])


# ---------------------------------------------------------------------------------------
# Dissolved when the projects are accepted


def test_branch_of_an_accepted_project_is_dissolved_on_the_acceptance_date(
    branches, projects, office
):
    accept(projects["GY"], office, accepted=D(2022, 12, 20))
    branch = TemporaryBranch.objects.get(pk=branches["GY"].pk)
    assert branch.dissolved_on == D(2022, 12, 20)
    assert branch.dissolved_because == TemporaryBranch.DissolvedBecause.ACCEPTED
    assert not branch.is_active
    assert TemporaryBranch.objects.get(pk=branches["JN"].pk).dissolved_on is None


def test_completion_alone_does_not_dissolve_the_branch(branches, projects, office):
    project_transition(
        project=projects["GY"], to_status=ProjectStatus.COMPLETED, user=office, on=D(2022, 10, 1)
    )
    assert TemporaryBranch.objects.get(pk=branches["GY"].pk).dissolved_on is None


def test_branch_of_several_projects_is_dissolved_when_the_last_is_accepted(
    registry, projects, office
):
    second = advance(ProjectFactory(compound=CompoundFactory(community=registry["a2"])), office)
    branch = branch_create(
        projects=[projects["BQ"], second], founded_on=FOUNDED, user=office, name="北雀片区支部"
    )
    accept(projects["BQ"], office, accepted=D(2022, 11, 1))
    branch.refresh_from_db()
    assert branch.dissolved_on is None
    accept(second, office, accepted=D(2022, 12, 5))
    branch.refresh_from_db()
    assert branch.dissolved_on == D(2022, 12, 5)


def test_undoing_an_acceptance_reopens_the_branch(branches, projects, office):
    accept(projects["GY"], office)
    project_transition(
        project=projects["GY"],
        to_status=ProjectStatus.COMPLETED,
        user=office,
        on=D(2022, 12, 21),
        reason="验收资料不全，退回补充。",
    )
    branch = TemporaryBranch.objects.get(pk=branches["GY"].pk)
    assert (branch.dissolved_on, branch.dissolved_because) == (None, "")


def test_a_branch_dissolved_for_another_reason_stays_dissolved(branches, projects, office):
    branch_dissolve(branch=branches["GY"], on=D(2022, 6, 1), user=office)
    accept(projects["GY"], office)
    project_transition(
        project=projects["GY"],
        to_status=ProjectStatus.COMPLETED,
        user=office,
        on=D(2022, 12, 21),
        reason="退回",
    )
    branch = TemporaryBranch.objects.get(pk=branches["GY"].pk)
    assert branch.dissolved_on == D(2022, 6, 1)
    assert branch.dissolved_because == TemporaryBranch.DissolvedBecause.OTHER


def test_follow_project_changes_nothing_for_a_project_without_branch(projects):
    assert branches_follow_project(project=projects["BQ"]) == 0


def test_dissolving_twice_or_before_founding_is_refused(branches, office, english):
    with pytest.raises(ValidationError) as error:
        branch_dissolve(branch=branches["GY"], on=D(2022, 1, 1), user=office)
    assert "cannot be before" in str(error.value.message_dict["on"])
    branch_dissolve(branch=branches["GY"], on=D(2022, 6, 1), user=office)
    with pytest.raises(ValidationError) as error:
        branch_dissolve(branch=branches["GY"], on=D(2022, 7, 1), user=office)
    assert "already dissolved" in str(error.value.message_dict["on"])


# ---------------------------------------------------------------------------------------
# Members


def test_members_come_from_every_unit_whatever_their_party_membership(branches, office):
    added = member(
        branches["JN"],
        office,
        unit_kind=UnitKind.SUPERVISOR,
        unit_name="监理公司",
        membership_held_at="柳州市建设工程监理有限公司党支部",
    )
    assert added.role == MemberRole.MEMBER
    assert added.membership_held_at == "柳州市建设工程监理有限公司党支部"


def test_first_secretary_only_for_a_key_project(branches, office, english):
    with pytest.raises(ValidationError) as error:
        member(branches["JN"], office, role=MemberRole.FIRST_SECRETARY, name="区领导")
    assert "key project" in str(error.value.message_dict["role"])
    assert not BranchMember.objects.filter(name="区领导").exists()


def test_a_branch_has_one_serving_secretary(branches, office, english):
    with pytest.raises(ValidationError) as error:
        member(branches["GY"], office, role=MemberRole.SECRETARY, name="新书记")
    assert "already has a secretary: GY书记" in str(error.value.message_dict["role"])


def test_a_new_secretary_after_the_old_one_left(branches, office):
    old = BranchMember.objects.get(branch=branches["GY"], role=MemberRole.SECRETARY)
    member_leave(member=old, on=D(2022, 6, 30), user=office)
    new = member(
        branches["GY"], office, role=MemberRole.SECRETARY, name="新书记", joined_on=D(2022, 7, 1)
    )
    assert (
        BranchMember.objects.current(D(2022, 6, 15))
        .get(branch=branches["GY"], role="secretary")
        .name
        == "GY书记"
    )
    assert (
        BranchMember.objects.current(D(2022, 7, 15)).get(branch=branches["GY"], role="secretary")
        == new
    )


def test_changing_a_role_keeps_the_earlier_one_on_record(branches, office):
    deputy = member(branches["JN"], office, role=MemberRole.DEPUTY)
    promoted = member_change_role(
        member=deputy, role=MemberRole.COMMITTEE_MEMBER, on=D(2022, 5, 1), user=office
    )
    deputy.refresh_from_db()
    assert deputy.left_on == D(2022, 5, 1)
    assert (promoted.role, promoted.joined_on, promoted.left_on) == (
        "committee_member",
        D(2022, 5, 1),
        None,
    )


def test_a_trainee_is_a_dispatched_cadre(branches, office, english):
    with pytest.raises(ValidationError) as error:
        member(branches["JN"], office, is_trainee=True)
    assert "dispatched cadre" in str(error.value.message_dict["is_trainee"])
    trainee = member(
        branches["JN"],
        office,
        is_trainee=True,
        unit_kind=UnitKind.DISPATCHED_CADRE,
        unit_name="区财政局",
    )
    assert trainee.is_trainee


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"name": " "}, "name", "Enter the member's name"),
        ({"unit_name": ""}, "unit_name", "Enter the unit"),
        ({"unit_kind": "nowhere"}, "unit_kind", "Choose one"),
        ({"role": "boss"}, "role", "Choose one"),
        ({"joined_on": D(2022, 1, 1)}, "joined_on", "founded on 2022-02-15"),
        ({"joined_on": D(2099, 1, 1)}, "joined_on", "later than today"),
    ],
)
def test_member_bad_input_is_refused_with_a_clear_error(
    branches, office, english, data, field, words
):
    before = BranchMember.objects.count()
    with pytest.raises(ValidationError) as error:
        member(branches["JN"], office, **data)
    assert words in str(error.value.message_dict[field])
    assert BranchMember.objects.count() == before


def test_the_same_person_is_not_added_twice(branches, office, english):
    member(branches["JN"], office)
    with pytest.raises(ValidationError) as error:
        member(branches["JN"], office)
    assert "already a member" in str(error.value.message_dict["name"])


def test_leaving_before_joining_or_twice_is_refused(branches, office, english):
    person = member(branches["JN"], office, joined_on=D(2022, 3, 1))
    with pytest.raises(ValidationError) as error:
        member_leave(member=person, on=D(2022, 2, 20), user=office)
    assert "cannot be before" in str(error.value.message_dict["on"])
    member_leave(member=person, on=D(2022, 4, 1), user=office)
    with pytest.raises(ValidationError) as error:
        member_leave(member=person, on=D(2022, 5, 1), user=office)
    assert "already left" in str(error.value.message_dict["on"])


# ---------------------------------------------------------------------------------------
# Building groups and volunteer teams


def test_a_group_for_a_building_of_the_project_compound(branches, projects, office):
    building = projects["GY"].compound.buildings.order_by("number").first()
    leader = member(branches["GY"], office, unit_kind=UnitKind.COMMUNITY, unit_name="广跃社区党委")
    other = member(branches["GY"], office, name="张敏")
    group = group_create(
        branch=branches["GY"],
        building=building,
        leader=leader,
        members=[other],
        founded_on=FOUNDED,
        user=office,
    )
    assert set(group.members.all()) == {leader, other}


def test_a_group_for_another_compounds_building_is_refused(branches, projects, office, english):
    elsewhere = projects["JN"].compound.buildings.first()
    with pytest.raises(ValidationError) as error:
        group_create(branch=branches["GY"], building=elsewhere, founded_on=FOUNDED, user=office)
    assert "not in a compound of this branch" in str(error.value.message_dict["building"])
    assert not BuildingGroup.objects.exists()


def test_one_group_per_building(branches, projects, office, english):
    building = projects["GY"].compound.buildings.first()
    group_create(branch=branches["GY"], building=building, founded_on=FOUNDED, user=office)
    with pytest.raises(ValidationError) as error:
        group_create(branch=branches["GY"], building=building, founded_on=FOUNDED, user=office)
    assert "already has a party group" in str(error.value.message_dict["building"])


def test_a_group_is_made_of_serving_members_of_its_branch(branches, projects, office, english):
    outsider = member(branches["JN"], office)
    building = projects["GY"].compound.buildings.first()
    with pytest.raises(ValidationError) as error:
        group_create(
            branch=branches["GY"],
            building=building,
            leader=outsider,
            founded_on=FOUNDED,
            user=office,
        )
    assert "serving members of its branch" in str(error.value.message_dict["members"])


def test_volunteer_teams_and_their_members(branches, projects, office, english):
    team = team_create(
        branch=branches["GY"], kind=VolunteerTeam.Kind.MEDIATION, founded_on=FOUNDED, user=office
    )
    assert team.name == "mediation team"
    building = projects["GY"].compound.buildings.first()
    volunteer_add(
        team=team,
        name="王大爷",
        kind=VolunteerMember.Kind.BUILDING_HEAD,
        building=building,
        is_leader=True,
        user=office,
    )
    with pytest.raises(ValidationError) as error:
        volunteer_add(
            team=team,
            name="李阿姨",
            kind=VolunteerMember.Kind.RESIDENT,
            is_leader=True,
            user=office,
        )
    assert "already has a leader" in str(error.value.message_dict["is_leader"])
    with pytest.raises(ValidationError) as error:
        volunteer_add(
            team=team,
            name="李阿姨",
            kind=VolunteerMember.Kind.RESIDENT,
            building=BuildingFactory(),
            user=office,
        )
    assert "not in a compound" in str(error.value.message_dict["building"])
    with pytest.raises(ValidationError) as error:
        team_create(branch=branches["GY"], kind="choir", founded_on=FOUNDED, user=office)
    assert "Choose one" in str(error.value.message_dict["kind"])
    assert VolunteerMember.objects.count() == 1
    assert VolunteerTeam.objects.count() == 1

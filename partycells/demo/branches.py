"""The demo's branches, members, building groups, volunteer teams, activities and
escalations."""

import datetime
from collections import defaultdict

from django.conf import settings
from django.utils import timezone

from renovation.models import Building, ProjectStatus, RenovationProject
from residents.models import ResidentRequest

from ..models import (
    Activity,
    ActivityRequest,
    BranchMember,
    BuildingGroup,
    Escalation,
    MemberRole,
    TemporaryBranch,
    UnitKind,
    VolunteerMember,
    VolunteerTeam,
)
from ..services import (
    ACTIVITY_REQUEST_WINDOW_DAYS,
)
from .common import (
    ACTIVITY_KINDS,
    ACTIVITY_YEAR,
    ANSWERS,
    DISPATCHING_UNITS,
    ESCALATIONS,
    TEAMS,
    date,
    moment,
    person_name,
)


def load_branches(projects) -> list[tuple[TemporaryBranch, RenovationProject]]:
    today = timezone.localdate()
    rows = []
    for project in projects:
        founded = project.plan_approved_on + datetime.timedelta(days=3)
        accepted = project.status == ProjectStatus.ACCEPTED and project.accepted_on <= today
        rows.append(
            TemporaryBranch(
                name=f"{project.compound.name}改造项目临时党支部",
                community=project.compound.community,
                founded_on=founded,
                dissolved_on=project.accepted_on if accepted else None,
                dissolved_because=TemporaryBranch.DissolvedBecause.ACCEPTED if accepted else "",
                notes="社区党委管总、临时党支部抓细、楼栋党小组兜底。",
            )
        )
    TemporaryBranch.objects.bulk_create(rows)
    links = [
        TemporaryBranch.projects.through(temporarybranch_id=branch.pk, renovationproject_id=p.pk)
        for branch, p in zip(rows, projects, strict=True)
    ]
    TemporaryBranch.projects.through.objects.bulk_create(links)
    return list(zip(rows, projects, strict=True))


def member_row(branch, rng, unit_kind, unit, role, position, held_at="", trainee=False):
    return BranchMember(
        branch=branch,
        name=person_name(rng),
        unit_kind=unit_kind,
        unit_name=unit,
        position=position,
        membership_held_at=held_at or f"{unit}党委",
        role=role,
        is_trainee=trainee,
        joined_on=branch.founded_on,
    )


def load_members(rng, branches) -> dict[int, list[BranchMember]]:
    """Members from every unit on the project, whatever their party membership."""
    rows: list[BranchMember] = []
    for branch, project in branches:
        community = project.compound.community
        sub_district = community.sub_district.name
        M, U = MemberRole, UnitKind
        if project.is_key:
            rows.append(
                member_row(
                    branch,
                    rng,
                    U.DISTRICT_LEADERSHIP,
                    "柳北区人民政府",
                    M.FIRST_SECRETARY,
                    "副区长",
                    "柳北区人民政府党组",
                )
            )
        rows += [
            member_row(
                branch, rng, U.SUB_DISTRICT, f"{sub_district}党工委", M.SECRETARY, "党工委书记"
            ),
            member_row(branch, rng, U.COMMUNITY, f"{community.name}党委", M.DEPUTY, "党委书记"),
            member_row(
                branch, rng, U.LEAD_UNIT, project.lead_unit, M.COMMITTEE_MEMBER, "项目负责人"
            ),
            member_row(branch, rng, U.BUILDER, project.builder, M.COMMITTEE_MEMBER, "项目经理"),
            member_row(branch, rng, U.SUPERVISOR, project.supervisor, M.MEMBER, "总监理工程师"),
            member_row(branch, rng, U.BUILDER, project.builder, M.MEMBER, "施工员"),
        ]
        if project.batch_year == ACTIVITY_YEAR:
            rows.append(
                member_row(
                    branch,
                    rng,
                    U.DISPATCHED_CADRE,
                    rng.choice(DISPATCHING_UNITS),
                    M.MEMBER,
                    "科员",
                    trainee=True,
                )
            )
    BranchMember.objects.bulk_create(rows)
    by_branch: dict[int, list[BranchMember]] = defaultdict(list)
    for member in rows:
        by_branch[member.branch_id].append(member)
    return by_branch


def load_groups(rng, branches, members) -> None:
    """A party group for each building, led by a party-member household living there."""
    buildings: dict[int, list[Building]] = defaultdict(list)
    compounds = [p.compound_id for _b, p in branches]
    for building in Building.objects.filter(compound__in=compounds).order_by("number"):
        buildings[building.compound_id].append(building)
    leaders, plans = [], []
    for branch, project in branches:
        community = project.compound.community.name
        for building in buildings[project.compound_id]:
            leader = member_row(
                branch,
                rng,
                UnitKind.COMMUNITY,
                f"{community}党委",
                MemberRole.MEMBER,
                f"{building.number}党员中心户",
            )
            leaders.append(leader)
            plans.append((branch, building, leader))
    BranchMember.objects.bulk_create(leaders)
    groups = [
        BuildingGroup(branch=branch, building=building, leader=leader, founded_on=branch.founded_on)
        for branch, building, leader in plans
    ]
    BuildingGroup.objects.bulk_create(groups)
    through = BuildingGroup.members.through
    links = []
    for group, (branch, _building, leader) in zip(groups, plans, strict=True):
        links.append(through(buildinggroup_id=group.pk, branchmember_id=leader.pk))
        # A committee member from the community or the builder joins each group.
        helper = rng.choice(members[branch.pk][1:4])
        links.append(through(buildinggroup_id=group.pk, branchmember_id=helper.pk))
    through.objects.bulk_create(links)


def load_teams(rng, branches) -> None:
    buildings: dict[int, list[Building]] = defaultdict(list)
    compounds = [p.compound_id for _b, p in branches if p.batch_year == ACTIVITY_YEAR]
    for building in Building.objects.filter(compound__in=compounds).order_by("number"):
        buildings[building.compound_id].append(building)
    teams, people = [], []
    for branch, project in branches:
        if project.batch_year != ACTIVITY_YEAR:
            continue
        for kind, name in TEAMS:
            team = VolunteerTeam(branch=branch, kind=kind, name=name, founded_on=branch.founded_on)
            teams.append(team)
            kinds = [
                VolunteerMember.Kind.PARTY_MEMBER,
                VolunteerMember.Kind.RESIDENT,
                VolunteerMember.Kind.BUILDING_HEAD,
                VolunteerMember.Kind.GRID_WORKER,
            ]
            if kind == VolunteerTeam.Kind.SELF_GOVERNANCE:
                kinds = [VolunteerMember.Kind.RESIDENT_REPRESENTATIVE] * 3 + kinds[2:]
            for index, who in enumerate(kinds):
                home = buildings[project.compound_id]
                people.append(
                    (
                        team,
                        VolunteerMember(
                            name=person_name(rng),
                            kind=who,
                            building=rng.choice(home) if home and who != "grid_worker" else None,
                            is_leader=index == 0,
                        ),
                    )
                )
    VolunteerTeam.objects.bulk_create(teams)
    for team, person in people:
        person.team = team
    VolunteerMember.objects.bulk_create([person for _team, person in people])


def load_activities(rng, branches) -> None:
    """One or two themed party days a month through 2022 while each branch served (the
    2021 branches until their projects were accepted); the requests logged in the week
    after one are linked to it."""
    logged: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for pk, compound_id, at in (
        ResidentRequest.objects.filter(
            compound__in=[p.compound_id for _b, p in branches], logged_at__year=ACTIVITY_YEAR
        )
        .order_by("logged_at", "pk")
        .values_list("pk", "compound_id", "logged_at")
    ):
        logged[compound_id].append((timezone.localdate(at), pk))
    activities, links, taken = [], [], set()
    for branch, project in branches:
        households = project.compound.households
        for month in range(1, 13):
            first = max(date(ACTIVITY_YEAR, month, 1), branch.founded_on)
            last = date(ACTIVITY_YEAR, month, 28)
            if branch.dissolved_on and branch.dissolved_on < last:
                last = branch.dissolved_on
            if last < first:
                continue
            for number in range(rng.randint(1, 2)):
                kind, summary = ACTIVITY_KINDS[(month + number) % len(ACTIVITY_KINDS)]
                day = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
                door_to_door = kind == Activity.Kind.MOBILISATION_DAY
                activity = Activity(
                    branch=branch,
                    kind=kind,
                    held_on=day,
                    place=f"{project.compound.name}{'各楼栋' if door_to_door else '党群服务站'}",
                    participants=rng.randint(6, 20),
                    households_visited=(
                        rng.randint(min(10, households), min(households, 80)) if door_to_door else 0
                    ),
                    summary=summary,
                )
                activities.append(activity)
                if kind in (Activity.Kind.OPINION_DAY, Activity.Kind.MOBILISATION_DAY):
                    window = day + datetime.timedelta(days=ACTIVITY_REQUEST_WINDOW_DAYS)
                    found = [
                        pk
                        for on, pk in logged[project.compound_id]
                        if day <= on <= window and pk not in taken
                    ][:6]
                    taken.update(found)
                    links += [(activity, pk) for pk in found]
    Activity.objects.bulk_create(activities)
    ActivityRequest.objects.bulk_create(
        [ActivityRequest(activity=activity, request_id=pk) for activity, pk in links]
    )


def load_escalations(rng, branches, users) -> None:
    """A matter escalated by some 2022 branches: most answered in time, some late."""
    rows = []
    hours = settings.PARTYCELLS_ESCALATION_ANSWER_HOURS
    for index, (branch, project) in enumerate(branches):
        if project.batch_year != ACTIVITY_YEAR or not project.actual_start or index % 3:
            continue
        raised = moment(project.actual_start + datetime.timedelta(days=rng.randint(5, 40)), rng)
        answered = raised + datetime.timedelta(hours=rng.choice([4, 20, 30, 70]))
        rows.append(
            Escalation(
                branch=branch,
                matter=rng.choice(ESCALATIONS),
                raised_at=raised,
                respond_by=raised + datetime.timedelta(hours=hours),
                community_answered_at=raised + datetime.timedelta(hours=3),
                community_answer=ANSWERS[0],
                community_answered_by=users.get("guangyue")
                if project.compound.community.code == "GY"
                else None,
                sub_district_answered_at=answered,
                sub_district_answer=ANSWERS[1],
                sub_district_answered_by=users.get("yaru")
                if project.compound.community.sub_district.code == "YR"
                else None,
                resolved_on=timezone.localdate(answered) + datetime.timedelta(days=5),
                resolution="相关方现场协调后已解决。",
            )
        )
    Escalation.objects.bulk_create(rows)

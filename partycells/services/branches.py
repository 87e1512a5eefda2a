"""Writes of branches, their members, building groups and volunteer teams."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from renovation.models import Building, Community, ProjectStatus, RenovationProject

from ..models import (
    BranchMember,
    BuildingGroup,
    MemberRole,
    TemporaryBranch,
    UnitKind,
    VolunteerMember,
    VolunteerTeam,
)
from .common import (
    branch_compound_ids,
    check_branch_open,
    check_choice,
    check_length,
    check_not_future,
    clean_text,
    fresh_branch,
    raise_if_any,
)

# ---------------------------------------------------------------------------------------
# Branches


def check_branch(
    *,
    name: str,
    community: Community | None,
    projects: list[RenovationProject],
    founded_on: datetime.date | None,
    exclude: TemporaryBranch | None = None,
) -> None:
    """The rules of a branch's set-up, shared by the page and the admin form."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the branch a name.")
    check_length(name, "name", 100, errors)
    if not projects:
        errors["projects"] = _("A branch is set up for at least one project.")
    if founded_on is None:
        errors["founded_on"] = _("Enter the date the branch was founded.")
    check_not_future(founded_on, "founded_on", errors)
    if community is not None:
        for project in projects:
            if project.compound.community_id != community.pk:
                errors.setdefault(
                    "projects",
                    _(
                        "%(project)s is in another community: a branch sits under the party "
                        "committee of its projects' community."
                    )
                    % {"project": project.name},
                )
        names = TemporaryBranch.objects.filter(community=community, name=name)
        if exclude is not None:
            names = names.exclude(pk=exclude.pk)
        if name and names.exists():
            errors["name"] = _("The community already has a branch called “%(name)s”.") % {
                "name": name
            }
    for project in projects:
        if project.status == ProjectStatus.ACCEPTED:
            errors.setdefault(
                "projects",
                _("%(project)s has been accepted: its branch's work is done.")
                % {"project": project.name},
            )
    others = TemporaryBranch.objects.filter(
        projects__in=[p.pk for p in projects], dissolved_on__isnull=True
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    other = others.prefetch_related("projects").first()
    if other is not None:
        taken = next(p for p in projects if p in other.projects.all())
        errors.setdefault(
            "projects",
            _("%(project)s already has a branch: %(branch)s.")
            % {"project": taken.name, "branch": other.name},
        )
    raise_if_any(errors)


@transaction.atomic
def branch_create(
    *,
    projects: Iterable[RenovationProject],
    founded_on: datetime.date,
    user,
    name: str = "",
    community: Community | None = None,
    notes: str = "",
) -> TemporaryBranch:
    """Set up the temporary branch of a project or a group of projects, under the party
    committee of their community."""
    projects = list(
        RenovationProject.objects.select_for_update()
        .select_related("compound")
        .filter(pk__in=[p.pk for p in projects])
        .order_by("pk")
    )
    if community is None and projects:
        community = projects[0].compound.community
    name = clean_text(name)
    if not name and len(projects) == 1:
        name = _("%(compound)s project temporary party branch") % {
            "compound": projects[0].compound.name
        }
    check_branch(name=name, community=community, projects=projects, founded_on=founded_on)
    branch = TemporaryBranch.objects.create(
        name=name, community=community, founded_on=founded_on, notes=clean_text(notes)
    )
    branch.projects.set(projects)
    return branch


@transaction.atomic
def branch_dissolve(*, branch: TemporaryBranch, on: datetime.date, user) -> TemporaryBranch:
    """Dissolve a branch before its projects are accepted (merged, project cancelled)."""
    branch = TemporaryBranch.objects.select_for_update().get(pk=branch.pk)
    errors: dict[str, str] = {}
    if branch.dissolved_on is not None:
        errors["on"] = _("The branch was already dissolved on %(date)s.") % {
            "date": branch.dissolved_on.isoformat()
        }
    elif on < branch.founded_on:
        errors["on"] = _("The branch was founded on %(date)s; the date cannot be before that.") % {
            "date": branch.founded_on.isoformat()
        }
    check_not_future(on, "on", errors)
    raise_if_any(errors)
    branch.dissolved_on = on
    branch.dissolved_because = TemporaryBranch.DissolvedBecause.OTHER
    branch.save(update_fields=["dissolved_on", "dissolved_because"])
    return branch


@transaction.atomic
def branches_follow_project(*, project: RenovationProject) -> int:
    """Keep branches in step with a project's status; the lifecycle service calls this on
    every status change. When the project is accepted, each of its branches whose projects
    are now all accepted is dissolved on the last acceptance date. When an acceptance is
    undone, branches dissolved because of it are open again. Returns the branches changed."""
    changed = 0
    if project.status == ProjectStatus.ACCEPTED:
        branches = TemporaryBranch.objects.select_for_update().filter(
            projects=project, dissolved_on__isnull=True
        )
        for branch in branches:
            figures = branch.projects.aggregate(
                open=Count("pk", filter=~Q(status=ProjectStatus.ACCEPTED)),
                last=Max("accepted_on"),
            )
            if figures["open"]:
                continue
            branch.dissolved_on = max(figures["last"], branch.founded_on)
            branch.dissolved_because = TemporaryBranch.DissolvedBecause.ACCEPTED
            branch.save(update_fields=["dissolved_on", "dissolved_because"])
            changed += 1
    else:
        changed = TemporaryBranch.objects.filter(
            projects=project, dissolved_because=TemporaryBranch.DissolvedBecause.ACCEPTED
        ).update(dissolved_on=None, dissolved_because="")
    return changed


# ---------------------------------------------------------------------------------------
# Members


def check_member(
    *,
    branch: TemporaryBranch,
    name: str,
    unit_kind: str,
    unit_name: str,
    role: str,
    is_trainee: bool,
    joined_on: datetime.date | None,
    exclude: BranchMember | None = None,
) -> None:
    """The rules of a branch member, shared by the page and the admin form."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the member's name.")
    check_length(name, "name", 30, errors)
    if not unit_name:
        errors["unit_name"] = _("Enter the unit the member comes from.")
    check_length(unit_name, "unit_name", 100, errors)
    check_choice(unit_kind, UnitKind, "unit_kind", errors)
    check_choice(role, MemberRole, "role", errors)
    if joined_on is None:
        errors["joined_on"] = _("Enter the date the member joined the branch.")
    else:
        check_not_future(joined_on, "joined_on", errors)
        check_branch_open(branch, joined_on, "joined_on", errors)
    if is_trainee and unit_kind != UnitKind.DISPATCHED_CADRE:
        errors["is_trainee"] = _(
            "Only a dispatched cadre is placed in a branch for training; choose “dispatched "
            "cadre” as the unit kind."
        )
    current = BranchMember.objects.filter(branch=branch, left_on__isnull=True)
    if exclude is not None:
        current = current.exclude(pk=exclude.pk)
    if role == MemberRole.FIRST_SECRETARY:
        if not branch.projects.filter(is_key=True).exists():
            errors["role"] = _(
                "Only the branch of a key project has a first secretary (a district leader)."
            )
    if role in (MemberRole.FIRST_SECRETARY, MemberRole.SECRETARY):
        holder = current.filter(role=role).first()
        if holder is not None:
            errors.setdefault(
                "role",
                _("The branch already has a %(role)s: %(name)s. Record that they left first.")
                % {"role": MemberRole(role).label, "name": holder.name},
            )
    if name and current.filter(name=name, unit_name=unit_name).exists():
        errors["name"] = _("%(name)s of %(unit)s is already a member of this branch.") % {
            "name": name,
            "unit": unit_name,
        }
    raise_if_any(errors)


@transaction.atomic
def member_add(
    *,
    branch: TemporaryBranch,
    name: str,
    unit_kind: str,
    unit_name: str,
    joined_on: datetime.date,
    user,
    role: str = MemberRole.MEMBER,
    is_trainee: bool = False,
    position: str = "",
    membership_held_at: str = "",
) -> BranchMember:
    """Add a party member to a branch, whatever unit they come from and wherever their
    party membership is registered."""
    branch = TemporaryBranch.objects.select_for_update().get(pk=branch.pk)
    name, unit_name = clean_text(name), clean_text(unit_name)
    check_member(
        branch=branch,
        name=name,
        unit_kind=unit_kind,
        unit_name=unit_name,
        role=role,
        is_trainee=is_trainee,
        joined_on=joined_on,
    )
    return BranchMember.objects.create(
        branch=branch,
        name=name,
        unit_kind=unit_kind,
        unit_name=unit_name,
        role=role,
        is_trainee=is_trainee,
        joined_on=joined_on,
        position=clean_text(position)[:60],
        membership_held_at=clean_text(membership_held_at)[:100],
    )


@transaction.atomic
def member_leave(*, member: BranchMember, on: datetime.date, user) -> BranchMember:
    member = BranchMember.objects.select_for_update().get(pk=member.pk)
    errors: dict[str, str] = {}
    if member.left_on is not None:
        errors["on"] = _("%(name)s already left the branch on %(date)s.") % {
            "name": member.name,
            "date": member.left_on.isoformat(),
        }
    elif on < member.joined_on:
        errors["on"] = _("%(name)s joined on %(date)s; the date cannot be before that.") % {
            "name": member.name,
            "date": member.joined_on.isoformat(),
        }
    check_not_future(on, "on", errors)
    raise_if_any(errors)
    member.left_on = on
    member.save(update_fields=["left_on"])
    return member


@transaction.atomic
def member_change_role(*, member: BranchMember, role: str, on: datetime.date, user) -> BranchMember:
    """A new role from a date: the old membership closes and a new one opens, so the branch
    can still be reported as it stood before."""
    if role == member.role:
        raise ValidationError(
            {
                "role": _("%(name)s is already %(role)s.")
                % {"name": member.name, "role": member.get_role_display()}
            }
        )
    member_leave(member=member, on=on, user=user)
    return member_add(
        branch=member.branch,
        name=member.name,
        unit_kind=member.unit_kind,
        unit_name=member.unit_name,
        role=role,
        is_trainee=member.is_trainee,
        joined_on=on,
        position=member.position,
        membership_held_at=member.membership_held_at,
        user=user,
    )


# ---------------------------------------------------------------------------------------
# Building groups and volunteer teams


def check_group(
    *,
    branch: TemporaryBranch,
    building: Building | None,
    leader: BranchMember | None,
    members: list[BranchMember],
    founded_on: datetime.date | None,
    exclude: BuildingGroup | None = None,
) -> None:
    errors: dict[str, str] = {}
    if building is None:
        errors["building"] = _("Choose the building.")
    elif building.compound_id not in branch_compound_ids(branch):
        errors["building"] = _("%(building)s is not in a compound of this branch's projects.") % {
            "building": str(building)
        }
    else:
        groups = BuildingGroup.objects.filter(building=building).filter(
            Q(branch=branch) | Q(branch__dissolved_on__isnull=True)
        )
        if exclude is not None:
            groups = groups.exclude(pk=exclude.pk)
        if groups.exists():
            errors["building"] = _("%(building)s already has a party group.") % {
                "building": str(building)
            }
    if founded_on is None:
        errors["founded_on"] = _("Enter the date the group was founded.")
    else:
        check_not_future(founded_on, "founded_on", errors)
        check_branch_open(branch, founded_on, "founded_on", errors)
    people = [m for m in [leader, *members] if m is not None]
    if any(m.branch_id != branch.pk or m.left_on is not None for m in people):
        errors["members"] = _("A building group is made of serving members of its branch.")
    raise_if_any(errors)


@transaction.atomic
def group_create(
    *,
    branch: TemporaryBranch,
    building: Building,
    founded_on: datetime.date,
    user,
    leader: BranchMember | None = None,
    members: Iterable[BranchMember] = (),
) -> BuildingGroup:
    """Found the party group of one building of the branch's compounds."""
    branch = TemporaryBranch.objects.select_for_update().get(pk=branch.pk)
    members = list(members)
    check_group(
        branch=branch, building=building, leader=leader, members=members, founded_on=founded_on
    )
    group = BuildingGroup.objects.create(
        branch=branch, building=building, leader=leader, founded_on=founded_on
    )
    group.members.set({m.pk for m in members} | ({leader.pk} if leader else set()))
    return group


@transaction.atomic
def team_create(
    *, branch: TemporaryBranch, kind: str, founded_on: datetime.date, user, name: str = ""
) -> VolunteerTeam:
    """Form a volunteer team: a steward team, mediation team, supervision team,
    neighbourhood watch, or the residents' self-governance group."""
    branch = fresh_branch(branch)
    errors: dict[str, str] = {}
    check_choice(kind, VolunteerTeam.Kind, "kind", errors)
    name = clean_text(name) or (VolunteerTeam.Kind(kind).label if not errors else "")
    check_length(name, "name", 60, errors)
    if founded_on is None:
        errors["founded_on"] = _("Enter the date the team was founded.")
    else:
        check_not_future(founded_on, "founded_on", errors)
        check_branch_open(branch, founded_on, "founded_on", errors)
    if name and VolunteerTeam.objects.filter(branch=branch, name=name).exists():
        errors["name"] = _("The branch already has a team called “%(name)s”.") % {"name": name}
    raise_if_any(errors)
    return VolunteerTeam.objects.create(branch=branch, kind=kind, name=name, founded_on=founded_on)


@transaction.atomic
def volunteer_add(
    *,
    team: VolunteerTeam,
    name: str,
    kind: str,
    user,
    building: Building | None = None,
    is_leader: bool = False,
) -> VolunteerMember:
    """Add a resident, grid worker, building head or party member to a team."""
    team = VolunteerTeam.objects.select_for_update().select_related("branch").get(pk=team.pk)
    name = clean_text(name)
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the volunteer's name.")
    check_length(name, "name", 30, errors)
    check_choice(kind, VolunteerMember.Kind, "kind", errors)
    if building is not None and building.compound_id not in branch_compound_ids(team.branch):
        errors["building"] = _("%(building)s is not in a compound of this branch's projects.") % {
            "building": str(building)
        }
    if is_leader and team.members.filter(is_leader=True).exists():
        errors["is_leader"] = _("The team already has a leader.")
    raise_if_any(errors)
    return VolunteerMember.objects.create(
        team=team, name=name, kind=kind, building=building, is_leader=is_leader
    )

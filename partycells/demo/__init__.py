"""Fictional party-cell data for the demo district, from fixed seeds:

- a temporary branch for each project built in 2021–2022, founded when its plan was
  approved and dissolved when it was accepted; members from every unit on the project (key
  projects with a district leader as first secretary, a trainee cadre in each 2022 branch),
  a party group for each building, led by a party-member household;
- volunteer teams, activities every month of 2022 (linking the resident requests logged in
  the week after them), a few escalations, some answered late;
- the monthly district joint meeting from January 2021 to December 2022, each with its
  decisions: most closed on time, some late, a few still open and overdue, carried over;
- branch committee meetings, an assembly vote for each key project, and a consultation
  council for each day objections were settled, linked to the objections it settled.

Loading twice changes nothing: the part is skipped once the branches exist."""

import random

from django.contrib.auth import get_user_model
from django.db.models import Q

from renovation.models import District

from ..models import (
    BuildingGroup,
    Decision,
    DecisionReport,
    Meeting,
    MeetingKind,
    MeetingVote,
    ObjectionSettlement,
    TemporaryBranch,
)
from .branches import (
    load_activities,
    load_branches,
    load_escalations,
    load_groups,
    load_members,
    load_teams,
)
from .common import projects_built
from .meetings import load_branch_meetings, load_consultations, load_joint_meetings

__all__ = ["partycells_load", "partycells_reset"]


def partycells_load(district: District) -> None:
    if TemporaryBranch.objects.filter(community__sub_district__district=district).exists():
        return
    rng = random.Random(2022_07)
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["office", "guangyue", "yaru"])
    }
    office = users.get("office")
    projects = projects_built(district)
    branches = load_branches(projects)
    members = load_members(rng, branches)
    load_groups(rng, branches, members)
    load_teams(rng, branches)
    load_activities(rng, branches)
    load_escalations(rng, branches, users)
    load_branch_meetings(rng, branches, members, office)
    load_consultations(branches, office)
    load_joint_meetings(rng, office)


def partycells_reset(district: District) -> None:
    local = Q(community__sub_district__district=district)
    demo_joint = Q(kind=MeetingKind.JOINT, recorded_by__username="office")
    meetings = Meeting.objects.filter(local | demo_joint)
    ObjectionSettlement.objects.filter(meeting__in=meetings).delete()
    DecisionReport.objects.filter(meeting__in=meetings).delete()
    Decision.objects.filter(meeting__in=meetings).delete()
    MeetingVote.objects.filter(meeting__in=meetings).delete()
    meetings.delete()
    branches = TemporaryBranch.objects.filter(community__sub_district__district=district)
    BuildingGroup.objects.filter(branch__in=branches).delete()
    branches.delete()  # members, teams, activities and escalations go with their branch

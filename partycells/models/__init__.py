"""Party cells and meetings: temporary ("frontline") party branches with their members,
building party groups and volunteer teams; their activities; meetings of every kind with
their votes and decisions; escalations from a branch to the community and sub-district;
and the consultation councils where residents' objections are settled."""

from .branches import (
    BRANCH_SCOPE,
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
from .meetings import (
    BRANCH_KINDS,
    VOTING_KINDS,
    Decision,
    DecisionReport,
    DecisionStatus,
    Department,
    Meeting,
    MeetingKind,
    MeetingVote,
    ObjectionSettlement,
)

__all__ = [
    "BRANCH_KINDS",
    "BRANCH_SCOPE",
    "VOTING_KINDS",
    "Activity",
    "ActivityRequest",
    "BranchMember",
    "BuildingGroup",
    "Decision",
    "DecisionReport",
    "DecisionStatus",
    "Department",
    "Escalation",
    "Meeting",
    "MeetingKind",
    "MeetingVote",
    "MemberRole",
    "ObjectionSettlement",
    "TemporaryBranch",
    "UnitKind",
    "VolunteerMember",
    "VolunteerTeam",
]

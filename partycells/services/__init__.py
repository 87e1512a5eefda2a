"""Writes of party cells and meetings. Each service is atomic, checks its rules and raises
ValidationError keyed by field, with a message the organisation department or a community
worker can act on."""

from .activities import (
    Level,
    activity_record,
    escalation_answer,
    escalation_raise,
    escalation_resolve,
)
from .branches import (
    branch_create,
    branch_dissolve,
    branches_follow_project,
    check_branch,
    check_group,
    check_member,
    group_create,
    member_add,
    member_change_role,
    member_leave,
    team_create,
    volunteer_add,
)
from .common import ACTIVITY_REQUEST_WINDOW_DAYS, branch_compound_ids
from .meetings import (
    decision_create,
    decision_update,
    decisions_carry_over,
    meeting_create,
    meeting_update,
    objection_settle,
    vote_record,
)

__all__ = [
    "ACTIVITY_REQUEST_WINDOW_DAYS",
    "Level",
    "activity_record",
    "branch_compound_ids",
    "branch_create",
    "branch_dissolve",
    "branches_follow_project",
    "check_branch",
    "check_group",
    "check_member",
    "decision_create",
    "decision_update",
    "decisions_carry_over",
    "escalation_answer",
    "escalation_raise",
    "escalation_resolve",
    "group_create",
    "meeting_create",
    "meeting_update",
    "member_add",
    "member_change_role",
    "member_leave",
    "objection_settle",
    "team_create",
    "volunteer_add",
    "vote_record",
]

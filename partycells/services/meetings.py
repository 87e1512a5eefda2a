"""Writes of meetings, their votes and decisions (carried over to the next meeting of their
series), and of objections settled at a consultation council."""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renovation.models import Community
from residents import services as residents_services
from residents.models import RequestKind, ResidentRequest

from ..models import (
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
    TemporaryBranch,
)
from .common import (
    LONG_TEXT_MAX,
    TEXT_MAX,
    branch_compound_ids,
    check_branch_open,
    check_choice,
    check_length,
    check_not_future,
    clean_text,
    fresh_branch,
    raise_if_any,
    today,
)

# ---------------------------------------------------------------------------------------
# Meetings, votes and decisions


@transaction.atomic
def meeting_create(
    *,
    kind: str,
    held_on: datetime.date,
    user,
    branch: TemporaryBranch | None = None,
    community: Community | None = None,
    title: str = "",
    place: str = "",
    chair: str = "",
    agenda: str = "",
    attendees: str = "",
    attendance: int = 0,
    departments: Iterable[Department] = (),
    minutes: str = "",
) -> Meeting:
    """Record a meeting (ahead, with its agenda, or after, with its minutes). The open
    decisions of earlier meetings of the same series are carried over to it as items to
    report on."""
    title, place, chair = clean_text(title), clean_text(place), clean_text(chair)
    agenda, attendees, minutes = clean_text(agenda), clean_text(attendees), clean_text(minutes)
    errors: dict[str, str] = {}
    check_choice(kind, MeetingKind, "kind", errors)
    if held_on is None:
        errors["held_on"] = _("Enter the date of the meeting.")
    if kind == MeetingKind.JOINT and (branch is not None or community is not None):
        errors["kind"] = _("The district joint meeting belongs to no branch or community.")
    if kind in BRANCH_KINDS and branch is None:
        errors["branch"] = _("A %(kind)s is held by a branch: choose the branch.") % {
            "kind": MeetingKind(kind).label
        }
    if branch is not None:
        branch = fresh_branch(branch)
        if community is not None and community.pk != branch.community_id:
            errors["community"] = _("The branch sits under another community.")
        community = branch.community
        if held_on is not None:
            check_branch_open(branch, held_on, "held_on", errors)
    if minutes and held_on is not None and held_on > today():
        errors["minutes"] = _("Minutes are recorded once the meeting has been held.")
    if attendance is None or attendance < 0:
        errors["attendance"] = _("The number of people present cannot be negative.")
    check_length(title, "title", 150, errors)
    check_length(place, "place", 100, errors)
    check_length(chair, "chair", 60, errors)
    for field, value in (("agenda", agenda), ("attendees", attendees), ("minutes", minutes)):
        check_length(value, field, LONG_TEXT_MAX, errors)
    raise_if_any(errors)
    if not title:
        where = branch.name if branch else (community.name if community else "")
        title = f"{held_on:%Y-%m-%d} {where}{MeetingKind(kind).label}".replace("  ", " ")
    meeting = Meeting.objects.create(
        kind=kind,
        branch=branch,
        community=community,
        title=title,
        held_on=held_on,
        place=place,
        chair=chair,
        agenda=agenda,
        attendees=attendees,
        attendance=attendance or 0,
        minutes=minutes,
        recorded_by=user,
    )
    meeting.departments.set(departments)
    decisions_carry_over(meeting=meeting)
    return meeting


@transaction.atomic
def meeting_update(
    *,
    meeting: Meeting,
    user,
    agenda: str,
    minutes: str,
    attendees: str = "",
    attendance: int = 0,
    place: str = "",
    chair: str = "",
) -> Meeting:
    """Record the agenda, attendance and minutes of a meeting."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    agenda, minutes, attendees = clean_text(agenda), clean_text(minutes), clean_text(attendees)
    errors: dict[str, str] = {}
    if minutes and meeting.held_on > today():
        errors["minutes"] = _("Minutes are recorded once the meeting has been held.")
    if attendance is None or attendance < 0:
        errors["attendance"] = _("The number of people present cannot be negative.")
    for field, value in (("agenda", agenda), ("attendees", attendees), ("minutes", minutes)):
        check_length(value, field, LONG_TEXT_MAX, errors)
    check_length(clean_text(place), "place", 100, errors)
    check_length(clean_text(chair), "chair", 60, errors)
    raise_if_any(errors)
    meeting.agenda, meeting.minutes, meeting.attendees = agenda, minutes, attendees
    meeting.attendance = attendance or 0
    meeting.place, meeting.chair = clean_text(place), clean_text(chair)
    meeting.save()
    return meeting


def decisions_carry_over(*, meeting: Meeting) -> int:
    """Carry to `meeting` every decision of an earlier meeting of its series that was still
    open when it met; returns how many were carried."""
    earlier = Meeting.objects.filter(meeting.series_filter(), held_on__lt=meeting.held_on)
    decisions = (
        Decision.objects.filter(meeting__in=earlier)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=meeting.held_on))
        .exclude(reports__meeting=meeting)
        .values_list("pk", flat=True)
    )
    reports = [DecisionReport(meeting=meeting, decision_id=pk) for pk in decisions]
    DecisionReport.objects.bulk_create(reports)
    return len(reports)


def _check_held(meeting: Meeting, field: str, errors: dict) -> None:
    if meeting.held_on > today():
        errors.setdefault(
            field,
            _("The meeting is on %(date)s and has not been held yet.")
            % {"date": meeting.held_on.isoformat()},
        )


@transaction.atomic
def vote_record(
    *,
    meeting: Meeting,
    matter: str,
    entitled: int,
    votes_for: int,
    user,
    votes_against: int = 0,
    abstentions: int = 0,
) -> MeetingVote:
    """Record a vote on a major matter, at an expanded committee or a members' assembly."""
    matter = clean_text(matter)
    errors: dict[str, str] = {}
    if meeting.kind not in VOTING_KINDS:
        errors["matter"] = _(
            "Major matters are voted at an expanded branch committee or a party members' "
            "assembly, not at a %(kind)s."
        ) % {"kind": meeting.get_kind_display()}
    _check_held(meeting, "matter", errors)
    if not matter:
        errors.setdefault("matter", _("Write the matter voted on."))
    check_length(matter, "matter", 300, errors)
    counts = {
        "entitled": entitled,
        "votes_for": votes_for,
        "votes_against": votes_against,
        "abstentions": abstentions,
    }
    for field, value in counts.items():
        if value is None or value < 0:
            errors[field] = _("Enter a number of people, zero or more.")
    if "entitled" not in errors and not entitled:
        errors["entitled"] = _("Enter how many members were entitled to vote.")
    if not any(f in errors for f in counts) and votes_for + votes_against + abstentions > entitled:
        errors["votes_for"] = _(
            "%(cast)s votes were cast but only %(entitled)s members are entitled to vote."
        ) % {"cast": votes_for + votes_against + abstentions, "entitled": entitled}
    raise_if_any(errors)
    return MeetingVote.objects.create(
        meeting=meeting,
        matter=matter,
        entitled=entitled,
        votes_for=votes_for,
        votes_against=votes_against,
        abstentions=abstentions,
    )


@transaction.atomic
def decision_create(
    *,
    meeting: Meeting,
    text: str,
    due_on: datetime.date,
    user,
    responsible_department: Department | None = None,
    responsible_unit: str = "",
) -> Decision:
    """Record a decision of a meeting: what, who answers for it, by when. If later meetings
    of the series are already recorded, it is carried to them too."""
    text, responsible_unit = clean_text(text), clean_text(responsible_unit)
    errors: dict[str, str] = {}
    _check_held(meeting, "text", errors)
    if not text:
        errors.setdefault("text", _("Write what was decided."))
    check_length(text, "text", TEXT_MAX, errors)
    if responsible_department is None and not responsible_unit:
        errors["responsible_department"] = _(
            "Name the department or unit responsible for the decision."
        )
    check_length(responsible_unit, "responsible_unit", 100, errors)
    if due_on is None:
        errors["due_on"] = _("Enter the date the decision is due.")
    elif due_on < meeting.held_on:
        errors["due_on"] = _("The due date cannot be before the meeting (%(date)s).") % {
            "date": meeting.held_on.isoformat()
        }
    raise_if_any(errors)
    decision = Decision.objects.create(
        meeting=meeting,
        text=text,
        due_on=due_on,
        responsible_department=responsible_department,
        responsible_unit=responsible_unit,
    )
    later = Meeting.objects.filter(meeting.series_filter(), held_on__gt=meeting.held_on)
    DecisionReport.objects.bulk_create(
        [DecisionReport(meeting=m, decision=decision) for m in later]
    )
    return decision


@transaction.atomic
def decision_update(
    *,
    decision: Decision,
    status: str,
    user,
    note: str = "",
    on: datetime.date | None = None,
    meeting: Meeting | None = None,
) -> Decision:
    """Report progress on a decision, or close it as done or dropped (dropping needs a
    reason). Given the meeting it was reported at, the note is kept there too."""
    decision = Decision.objects.select_for_update().select_related("meeting").get(pk=decision.pk)
    note = clean_text(note)
    on = on or today()
    errors: dict[str, str] = {}
    check_choice(status, DecisionStatus, "status", errors)
    if decision.status != DecisionStatus.OPEN:
        errors["status"] = _("The decision is “%(status)s” and closed.") % {
            "status": decision.get_status_display()
        }
    if status == DecisionStatus.DROPPED and not note:
        errors["note"] = _("Dropping a decision needs a reason.")
    if status == DecisionStatus.OPEN and not note:
        errors["note"] = _("Write what has been done so far.")
    check_length(note, "note", TEXT_MAX, errors)
    check_not_future(on, "on", errors)
    if on < decision.meeting.held_on:
        errors.setdefault(
            "on",
            _("The date cannot be before the meeting (%(date)s).")
            % {"date": decision.meeting.held_on.isoformat()},
        )
    report = None
    if meeting is not None:
        report = DecisionReport.objects.filter(meeting=meeting, decision=decision).first()
        if report is None:
            errors["meeting"] = _("The decision is not among that meeting's items to report on.")
    raise_if_any(errors)
    if note:
        decision.progress_note = note
    if status != DecisionStatus.OPEN:
        decision.status = status
        decision.closed_on = on
        decision.closed_by = user
    decision.save()
    if report is not None:
        report.note = note
        report.save(update_fields=["note"])
    return decision


# ---------------------------------------------------------------------------------------
# Objections


@transaction.atomic
def objection_settle(
    *, meeting: Meeting, request: ResidentRequest, outcome: str, user
) -> ObjectionSettlement:
    """Settle a resident's objection at a consultation council (协商议事会) of the branch
    covering its compound: the link is kept here, and the residents app records the outcome
    on the objection and resolves it. This is the only way an objection is settled."""
    errors: dict[str, str] = {}
    if meeting.kind != MeetingKind.CONSULTATION:
        errors["meeting"] = _(
            "Objections are settled at a consultation council; this meeting is a %(kind)s."
        ) % {"kind": meeting.get_kind_display()}
    else:
        _check_held(meeting, "meeting", errors)
    if request.kind != RequestKind.OBJECTION:
        errors["request"] = _("Only objections are settled at a consultation council.")
    elif meeting.branch_id and request.compound_id not in branch_compound_ids(meeting.branch):
        errors["request"] = _(
            "The objection comes from a compound the council's branch does not cover."
        )
    elif timezone.localdate(request.logged_at) > meeting.held_on:
        errors["request"] = _("The objection was raised after this council met.")
    settled = ObjectionSettlement.objects.filter(request=request).select_related("meeting").first()
    if settled is not None:
        errors["request"] = _("The objection was already settled at %(meeting)s.") % {
            "meeting": settled.meeting.title
        }
    raise_if_any(errors)
    residents_services.objection_settle(
        request=request, outcome=outcome, user=user, on=meeting.held_on, meeting=meeting
    )
    return ObjectionSettlement.objects.create(meeting=meeting, request=request, settled_by=user)

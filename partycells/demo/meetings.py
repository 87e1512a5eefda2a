"""The demo's branch meetings, consultation councils and monthly joint meetings."""

import datetime

from django.utils import timezone

from residents.models import RequestKind, RequestStatus, ResidentRequest

from ..models import (
    Decision,
    DecisionStatus,
    Department,
    Meeting,
    MeetingKind,
    MeetingVote,
    ObjectionSettlement,
)
from ..services import (
    decision_create,
    decision_update,
    meeting_create,
)
from .common import (
    ACTIVITY_YEAR,
    COMMITTEE_MATTERS,
    FIRST_MONTH,
    JOINT_MATTERS,
    LAST_MONTH,
    date,
)


def load_branch_meetings(rng, branches, members, office) -> None:
    """A branch committee meeting every other month of construction, each decision closed
    before the next one; for a key project, the assembly's vote on its plan."""
    meetings, decisions, votes = [], [], []
    for branch, project in branches:
        if project.batch_year != ACTIVITY_YEAR or not project.actual_start:
            continue
        end = branch.dissolved_on or project.actual_finish or date(ACTIVITY_YEAR, 12, 31)
        day = project.actual_start + datetime.timedelta(days=7)
        while day < end and day.year == ACTIVITY_YEAR:
            meeting = Meeting(
                kind=MeetingKind.BRANCH_COMMITTEE,
                branch=branch,
                community=branch.community,
                title=f"{day:%Y-%m-%d} {branch.name}支委会",
                held_on=day,
                place=f"{project.compound.name}党群服务站",
                chair=members[branch.pk][1 if project.is_key else 0].name,
                agenda="研究施工中居民反映的问题。",
                attendance=5,
                minutes="会议研究了施工进度和居民反映的问题，明确了责任人和完成时限。",
                recorded_by=office,
            )
            meetings.append(meeting)
            due = day + datetime.timedelta(days=14)
            decisions.append(
                (
                    meeting,
                    Decision(
                        text=rng.choice(COMMITTEE_MATTERS),
                        responsible_unit=project.builder,
                        due_on=due,
                        status=DecisionStatus.DONE,
                        closed_on=due - datetime.timedelta(days=rng.randint(0, 6)),
                        progress_note="已落实。",
                    ),
                )
            )
            day += datetime.timedelta(days=61)
        if project.is_key:
            day = project.actual_start - datetime.timedelta(days=5)
            if day >= branch.founded_on:
                assembly = Meeting(
                    kind=MeetingKind.PARTY_ASSEMBLY,
                    branch=branch,
                    community=branch.community,
                    title=f"{day:%Y-%m-%d} {branch.name}党员大会",
                    held_on=day,
                    agenda="表决施工组织方案。",
                    attendance=len(members[branch.pk]),
                    minutes="党员大会表决通过施工组织方案。",
                    recorded_by=office,
                )
                meetings.append(assembly)
                entitled = len(members[branch.pk])
                votes.append(
                    MeetingVote(
                        meeting=assembly,
                        matter="施工组织方案（含分楼栋施工顺序）",
                        entitled=entitled,
                        votes_for=entitled - 1,
                        abstentions=1,
                    )
                )
    Meeting.objects.bulk_create(meetings)
    for meeting, decision in decisions:
        decision.meeting = meeting
    Decision.objects.bulk_create([decision for _meeting, decision in decisions])
    MeetingVote.objects.bulk_create(votes)


def load_consultations(branches, office) -> None:
    """A consultation council for each day a branch's objections were settled, linked to
    the objections it settled (the residents demo records their outcomes)."""
    by_compound = {p.compound_id: branch for branch, p in branches}
    settled = (
        ResidentRequest.objects.filter(
            kind=RequestKind.OBJECTION,
            status=RequestStatus.RESOLVED,
            settled_on__isnull=False,
            compound__in=list(by_compound),
        )
        .order_by("settled_on", "pk")
        .values_list("pk", "compound_id", "settled_on", "logged_at")
    )
    councils: dict[tuple[int, date], Meeting] = {}
    links = []
    for pk, compound_id, on, logged_at in settled:
        branch = by_compound[compound_id]
        if on < branch.founded_on or (branch.dissolved_on and on > branch.dissolved_on):
            continue
        if timezone.localdate(logged_at) > on:
            continue
        key = (branch.pk, on)
        if key not in councils:
            councils[key] = Meeting(
                kind=MeetingKind.CONSULTATION,
                branch=branch,
                community=branch.community,
                title=f"{on:%Y-%m-%d} {branch.name}协商议事会",
                held_on=on,
                place="小区党群服务站",
                agenda="协商居民在施工中提出的异议。",
                attendees="居民代表\n居委会\n施工方\n物业方",
                attendance=8,
                minutes="逐项听取居民异议，施工方、物业方当场答复，议定解决方案。",
                recorded_by=office,
            )
        links.append((councils[key], pk))
    Meeting.objects.bulk_create(councils.values())
    ObjectionSettlement.objects.bulk_create(
        [ObjectionSettlement(meeting=m, request_id=pk, settled_by=office) for m, pk in links]
    )


def load_joint_meetings(rng, office) -> None:
    """The monthly joint meeting, through the services so open decisions carry over. Events
    run in date order: a decision closed before a meeting is not carried to it."""
    departments = {d.short_name: d for d in Department.objects.all()}
    closures: list[tuple[date, Decision, str, str]] = []
    month = FIRST_MONTH
    today = timezone.localdate()
    while month <= LAST_MONTH:
        held_on = month.replace(day=rng.randint(8, 15))
        for closure in [c for c in closures if c[0] < held_on]:
            close_decision(closure, office)
            closures.remove(closure)
        meeting = meeting_create(
            kind=MeetingKind.JOINT,
            held_on=held_on,
            user=office,
            title=f"{held_on.year}年{held_on.month}月老旧小区改造工作联席会议",
            place="柳北区人民政府第一会议室",
            chair="分管副区长",
            agenda="一、各单位汇报上次会议议定事项落实情况\n二、研究部署本月重点任务",
            attendance=rng.randint(14, 22),
            departments=list(departments.values()),
            minutes="会议听取了各单位工作汇报，研究部署了本月重点任务，明确了议定事项。",
        )
        for short, unit, text in rng.sample(JOINT_MATTERS, rng.randint(3, 4)):
            due = held_on + datetime.timedelta(days=rng.choice([20, 30, 45, 60]))
            decision = decision_create(
                meeting=meeting,
                text=text,
                due_on=due,
                user=office,
                responsible_department=departments.get(short),
                responsible_unit=unit,
            )
            roll = rng.random()
            if roll < 0.08 and due < date(2022, 10, 1):
                continue  # still open: overdue, carried to every later meeting
            if roll < 0.25:
                closed = due + datetime.timedelta(days=rng.randint(10, 50))  # done late
            else:
                closed = due - datetime.timedelta(days=rng.randint(0, 15))
            if roll > 0.97:
                closures.append((closed, decision, DecisionStatus.DROPPED, "情况变化，不再实施。"))
            elif closed <= today and closed <= date(2022, 12, 31):
                closures.append((closed, decision, DecisionStatus.DONE, "已按要求完成。"))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    for closure in closures:
        if closure[0] <= today:
            close_decision(closure, office)


def close_decision(closure, office) -> None:
    on, decision, status, note = closure
    decision_update(decision=decision, status=status, note=note, on=on, user=office)

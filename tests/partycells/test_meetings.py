"""Meetings of every kind, votes, decisions carried over to the next meeting of their
series, escalations answered in time or flagged, and objections settled only at a
consultation council."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partycells.models import (
    Decision,
    DecisionReport,
    DecisionStatus,
    Department,
    Escalation,
    Meeting,
    MeetingKind,
    MeetingVote,
    ObjectionSettlement,
)
from partycells.services import (
    decision_create,
    decision_update,
    escalation_answer,
    escalation_raise,
    escalation_resolve,
    meeting_create,
    meeting_update,
    objection_settle,
    vote_record,
)
from residents import services as residents_services
from residents.models import RequestKind, RequestStatus

D = datetime.date
COUNCIL_DAY = D(2022, 5, 1)


def joint(user, on, **extra):
    return meeting_create(kind=MeetingKind.JOINT, held_on=on, user=user, **extra)


def decide(meeting, user, due, text="协调管线迁改", **extra):
    extra.setdefault("responsible_department", Department.objects.get(short_name="区住建局"))
    return decision_create(meeting=meeting, text=text, due_on=due, user=user, **extra)


def close(decision, user, on, status=DecisionStatus.DONE, note="已完成。"):
    return decision_update(decision=decision, status=status, note=note, on=on, user=user)


# ---------------------------------------------------------------------------------------
# Meetings


def test_joint_meeting_is_district_level_with_departments(office):
    departments = list(Department.objects.all()[:3])
    meeting = joint(office, D(2022, 1, 12), departments=departments, agenda="一、汇报\n二、部署")
    assert meeting.community is None and meeting.branch is None and meeting.is_district_level
    assert set(meeting.departments.all()) == set(departments)
    assert "联席会议" in meeting.title or "joint meeting" in meeting.title


def test_a_branch_meeting_takes_its_branchs_community(branches, office):
    meeting = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branches["GY"], held_on=D(2022, 4, 1), user=office
    )
    assert meeting.community == branches["GY"].community


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "picnic"}, "kind", "Choose one"),
        ({"kind": MeetingKind.CONSULTATION}, "branch", "held by a branch"),
        ({"kind": MeetingKind.JOINT, "branch": "GY"}, "kind", "belongs to no branch"),
        ({"branch": "GY", "held_on": D(2022, 1, 1)}, "held_on", "founded on 2022-02-15"),
        (
            {"held_on": D(2099, 1, 1), "minutes": "会议纪要"},
            "minutes",
            "once the meeting has been held",
        ),
        ({"attendance": -1}, "attendance", "cannot be negative"),
        ({"title": "长" * 151}, "title", "under 150"),
    ],
)
def test_meeting_bad_input_is_refused_with_a_clear_error(
    branches, office, english, data, field, words
):
    arguments = {"kind": MeetingKind.COORDINATION, "held_on": D(2022, 4, 1), "user": office, **data}
    if arguments.get("branch") == "GY":
        arguments["branch"] = branches["GY"]
    with pytest.raises(ValidationError) as error:
        meeting_create(**arguments)
    assert words in str(error.value.message_dict[field])
    assert not Meeting.objects.exists()


def test_minutes_are_recorded_after_the_meeting(office, english):
    ahead = joint(office, timezone.localdate() + datetime.timedelta(days=3), agenda="议程")
    with pytest.raises(ValidationError) as error:
        meeting_update(meeting=ahead, agenda="议程", minutes="纪要", user=office)
    assert "once the meeting has been held" in str(error.value.message_dict["minutes"])
    held = joint(office, D(2022, 3, 10))
    meeting_update(meeting=held, agenda="议程", minutes="纪要", attendance=18, user=office)
    held.refresh_from_db()
    assert (held.minutes, held.attendance) == ("纪要", 18)


# ---------------------------------------------------------------------------------------
# Decisions carried over


def test_open_decisions_carry_over_to_the_next_meeting_of_the_series(branches, office):
    january = joint(office, D(2022, 1, 12))
    done = decide(january, office, D(2022, 1, 30), text="已办结")
    late = decide(january, office, D(2022, 1, 30), text="逾期未办")
    later = decide(january, office, D(2022, 4, 30), text="按期推进")
    close(done, office, D(2022, 1, 25))
    # A consultation council is another series: nothing of the joint meeting goes there.
    council = meeting_create(
        kind=MeetingKind.CONSULTATION, branch=branches["GY"], held_on=D(2022, 3, 1), user=office
    )
    february = joint(office, D(2022, 2, 10))
    carried = list(
        february.reports.values_list("decision__text", flat=True).order_by("decision__text")
    )
    assert carried == sorted(["逾期未办", "按期推进"])
    assert not council.reports.exists()
    close(late, office, D(2022, 2, 20))
    march = joint(office, D(2022, 3, 10))
    assert list(march.reports.values_list("decision", flat=True)) == [later.pk]
    assert Decision.objects.get(pk=later.pk).reports.count() == 2


def test_a_decision_closed_on_the_meeting_day_is_still_reported_there(office):
    january = joint(office, D(2022, 1, 12))
    decision = decide(january, office, D(2022, 2, 28))
    close(decision, office, D(2022, 2, 10))
    february = joint(office, D(2022, 2, 10))
    assert february.reports.filter(decision=decision).exists()


def test_a_decision_recorded_late_is_carried_to_later_meetings_already_recorded(office):
    january = joint(office, D(2022, 1, 12))
    february = joint(office, D(2022, 2, 10))
    decision = decide(january, office, D(2022, 3, 31))
    assert list(decision.reports.values_list("meeting", flat=True)) == [february.pk]


def test_branch_series_are_kept_apart(branches, office):
    gy = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branches["GY"], held_on=D(2022, 3, 1), user=office
    )
    decide(gy, office, D(2022, 6, 1), responsible_department=None, responsible_unit="施工单位")
    jn = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branches["JN"], held_on=D(2022, 4, 1), user=office
    )
    gy_next = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branches["GY"], held_on=D(2022, 4, 1), user=office
    )
    assert not jn.reports.exists()
    assert gy_next.reports.count() == 1


def test_overdue_decisions_stand_out(office):
    meeting = joint(office, D(2022, 1, 12))
    overdue = decide(meeting, office, D(2022, 1, 20))
    on_time = decide(meeting, office, timezone.localdate() + datetime.timedelta(days=10))
    assert overdue.is_overdue and not on_time.is_overdue
    assert list(Decision.objects.overdue()) == [overdue]
    close(overdue, office, D(2022, 2, 1))
    assert not Decision.objects.overdue().exists()


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"text": " "}, "text", "Write what was decided"),
        ({"responsible_department": None}, "responsible_department", "department or unit"),
        ({"due_on": D(2022, 1, 1)}, "due_on", "before the meeting"),
        ({"responsible_unit": "单" * 101}, "responsible_unit", "under 100"),
    ],
)
def test_decision_bad_input_is_refused_with_a_clear_error(office, english, data, field, words):
    meeting = joint(office, D(2022, 1, 12))
    arguments = {
        "meeting": meeting,
        "text": "下达资金",
        "due_on": D(2022, 2, 1),
        "user": office,
        "responsible_department": Department.objects.first(),
        **data,
    }
    with pytest.raises(ValidationError) as error:
        decision_create(**arguments)
    assert words in str(error.value.message_dict[field])
    assert not Decision.objects.exists()


def test_decisions_wait_until_the_meeting_is_held(office, english):
    ahead = joint(office, timezone.localdate() + datetime.timedelta(days=3))
    with pytest.raises(ValidationError) as error:
        decide(ahead, office, timezone.localdate() + datetime.timedelta(days=30))
    assert "has not been held yet" in str(error.value.message_dict["text"])


def test_updating_a_decision(office, english):
    january = joint(office, D(2022, 1, 12))
    decision = decide(january, office, D(2022, 3, 1))
    february = joint(office, D(2022, 2, 10))
    decision_update(
        decision=decision,
        status=DecisionStatus.OPEN,
        note="已完成一半",
        on=D(2022, 2, 10),
        user=office,
        meeting=february,
    )
    assert DecisionReport.objects.get(meeting=february).note == "已完成一半"
    with pytest.raises(ValidationError) as error:
        decision_update(
            decision=decision, status=DecisionStatus.DROPPED, on=D(2022, 2, 12), user=office
        )
    assert "needs a reason" in str(error.value.message_dict["note"])
    with pytest.raises(ValidationError) as error:
        decision_update(
            decision=decision, status=DecisionStatus.DONE, on=D(2022, 1, 1), user=office
        )
    assert "before the meeting" in str(error.value.message_dict["on"])
    with pytest.raises(ValidationError) as error:
        decision_update(
            decision=decision,
            status=DecisionStatus.OPEN,
            note="x",
            on=D(2022, 2, 12),
            user=office,
            meeting=january,
        )
    assert "not among that meeting" in str(error.value.message_dict["meeting"])
    close(decision, office, D(2022, 2, 20))
    decision.refresh_from_db()
    assert (decision.status, decision.closed_on, decision.closed_by) == (
        "done",
        D(2022, 2, 20),
        office,
    )
    with pytest.raises(ValidationError) as error:
        close(decision, office, D(2022, 2, 21))
    assert "closed" in str(error.value.message_dict["status"])


# ---------------------------------------------------------------------------------------
# Votes


def test_votes_on_major_matters_at_the_members_assembly(branches, office):
    assembly = meeting_create(
        kind=MeetingKind.PARTY_ASSEMBLY, branch=branches["GY"], held_on=D(2022, 3, 1), user=office
    )
    carried = vote_record(
        meeting=assembly,
        matter="施工组织方案",
        entitled=9,
        votes_for=5,
        votes_against=3,
        user=office,
    )
    lost = vote_record(
        meeting=assembly,
        matter="加装电梯分摊方案",
        entitled=9,
        votes_for=4,
        abstentions=5,
        user=office,
    )
    assert carried.carried and not lost.carried


def test_votes_are_refused_elsewhere_and_when_they_do_not_add_up(branches, office, english):
    committee = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branches["GY"], held_on=D(2022, 3, 1), user=office
    )
    with pytest.raises(ValidationError) as error:
        vote_record(meeting=committee, matter="方案", entitled=5, votes_for=3, user=office)
    assert "expanded branch committee" in str(error.value.message_dict["matter"])
    expanded = meeting_create(
        kind=MeetingKind.EXPANDED_COMMITTEE,
        branch=branches["GY"],
        held_on=D(2022, 3, 2),
        user=office,
    )
    with pytest.raises(ValidationError) as error:
        vote_record(
            meeting=expanded, matter="方案", entitled=5, votes_for=4, votes_against=2, user=office
        )
    assert "6 votes were cast but only 5" in str(error.value.message_dict["votes_for"])
    with pytest.raises(ValidationError) as error:
        vote_record(meeting=expanded, matter="方案", entitled=5, votes_for=-1, user=office)
    assert "zero or more" in str(error.value.message_dict["votes_for"])
    assert not MeetingVote.objects.exists()


# ---------------------------------------------------------------------------------------
# Escalations


def test_an_escalation_answered_in_time_is_not_flagged(branches, users, settings):
    settings.PARTYCELLS_ESCALATION_ANSWER_HOURS = 48
    raised = timezone.now() - datetime.timedelta(hours=30)
    escalation = escalation_raise(
        branch=branches["GY"], matter="违章搭建影响施工", user=users["community_staff"], at=raised
    )
    assert escalation.respond_by == raised + datetime.timedelta(hours=48)
    escalation_answer(
        escalation=escalation,
        level="community",
        answer="明天到场",
        user=users["community_staff"],
        at=raised + datetime.timedelta(hours=2),
    )
    escalation_answer(
        escalation=escalation,
        level="sub_district",
        answer="协调城管",
        user=users["sub_district_staff"],
        at=raised + datetime.timedelta(hours=20),
    )
    escalation.refresh_from_db()
    assert not escalation.late
    assert not Escalation.objects.late().exists()


def test_an_escalation_unanswered_in_time_is_flagged(branches, users, settings):
    settings.PARTYCELLS_ESCALATION_ANSWER_HOURS = 24
    raised = timezone.now() - datetime.timedelta(hours=30)
    escalation = escalation_raise(
        branch=branches["GY"], matter="管线迁改协调不下", user=users["community_staff"], at=raised
    )
    escalation_answer(
        escalation=escalation,
        level="community",
        answer="已到场",
        user=users["community_staff"],
        at=raised + datetime.timedelta(hours=1),
    )
    escalation.refresh_from_db()
    # The sub-district has not answered and the 24 hours have passed.
    assert escalation.late
    assert list(Escalation.objects.late()) == [escalation]
    assert not Escalation.objects.late(now=raised + datetime.timedelta(hours=23)).exists()


def test_an_answer_after_the_deadline_stays_flagged(branches, users, settings):
    settings.PARTYCELLS_ESCALATION_ANSWER_HOURS = 24
    raised = timezone.now() - datetime.timedelta(hours=80)
    escalation = escalation_raise(
        branch=branches["GY"], matter="占道雨棚", user=users["community_staff"], at=raised
    )
    for level, user, hours in [
        ("community", "community_staff", 2),
        ("sub_district", "sub_district_staff", 50),
    ]:
        escalation_answer(
            escalation=escalation,
            level=level,
            answer="已处理",
            user=users[user],
            at=raised + datetime.timedelta(hours=hours),
        )
    escalation.refresh_from_db()
    assert escalation.late
    assert Escalation.objects.late().get() == escalation


def test_escalation_bad_input_is_refused(branches, users, english):
    staff = users["community_staff"]
    with pytest.raises(ValidationError) as error:
        escalation_raise(branch=branches["GY"], matter="  ", user=staff)
    assert "Describe the matter" in str(error.value.message_dict["matter"])
    assert not Escalation.objects.exists()
    escalation = escalation_raise(branch=branches["GY"], matter="问题", user=staff)
    escalation_answer(escalation=escalation, level="community", answer="到场", user=staff)
    with pytest.raises(ValidationError) as error:
        escalation_answer(escalation=escalation, level="community", answer="再次", user=staff)
    assert "already answered" in str(error.value.message_dict["answer"])
    with pytest.raises(ValidationError) as error:
        escalation_answer(escalation=escalation, level="district", answer="x", user=staff)
    assert "community or the sub-district" in str(error.value.message_dict["level"])
    with pytest.raises(ValidationError) as error:
        escalation_resolve(escalation=escalation, resolution="", user=staff)
    assert "how the matter was resolved" in str(error.value.message_dict["resolution"])
    escalation_resolve(escalation=escalation, resolution="已拆除", user=staff)
    assert Escalation.objects.open().count() == 0


def test_a_dissolved_branch_cannot_escalate(branches, users, office, english):
    from partycells.services import branch_dissolve

    branch_dissolve(branch=branches["GY"], on=D(2022, 6, 1), user=office)
    with pytest.raises(ValidationError) as error:
        escalation_raise(branch=branches["GY"], matter="问题", user=users["community_staff"])
    assert "dissolved on 2022-06-01" in str(error.value.message_dict["matter"])


# ---------------------------------------------------------------------------------------
# Objections settled only at a consultation council


def council(branch, user, on=COUNCIL_DAY):
    return meeting_create(kind=MeetingKind.CONSULTATION, branch=branch, held_on=on, user=user)


def test_an_objection_is_settled_at_a_consultation_council(branches, objection, users):
    staff = users["community_staff"]
    meeting = council(branches["GY"], staff)
    settlement = objection_settle(
        meeting=meeting, request=objection, outcome="午间停止高噪音作业", user=staff
    )
    objection.refresh_from_db()
    assert settlement.meeting == meeting
    assert objection.status == RequestStatus.RESOLVED
    assert (objection.settlement, objection.settled_on, objection.settled_by) == (
        "午间停止高噪音作业",
        D(2022, 5, 1),
        staff,
    )


def test_an_objection_is_not_settled_at_another_kind_of_meeting(
    branches, objection, users, english
):
    staff = users["community_staff"]
    committee = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branches["GY"], held_on=D(2022, 5, 1), user=staff
    )
    with pytest.raises(ValidationError) as error:
        objection_settle(meeting=committee, request=objection, outcome="议定", user=staff)
    assert "settled at a consultation council" in str(error.value.message_dict["meeting"])
    objection.refresh_from_db()
    assert objection.status == RequestStatus.ACCEPTED and objection.settlement == ""
    assert not ObjectionSettlement.objects.exists()


def test_the_residents_workflow_does_not_resolve_an_objection_without_settling(
    objection, users, english
):
    with pytest.raises(ValidationError) as error:
        residents_services.request_transition(
            request=objection, to_status=RequestStatus.RESOLVED, user=users["community_staff"]
        )
    assert "settling it" in str(error.value.message_dict["to_status"])


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("other_compound", "request", "does not cover"),
        ("raised_after", "request", "raised after this council met"),
        ("not_objection", "request", "Only objections"),
        ("future_council", "meeting", "has not been held yet"),
        ("no_outcome", "outcome", "Write what the meeting agreed"),
    ],
)
def test_settlement_bad_input_is_refused_with_a_clear_error(
    branches, objection, make_request, projects, users, english, case, field, words
):
    staff = users["community_staff"]
    meeting = council(branches["GY"], staff)
    request, outcome = objection, "议定"
    if case == "other_compound":
        request = make_request(
            projects["JN"].compound, kind=RequestKind.OBJECTION, status=RequestStatus.ACCEPTED
        )
    elif case == "raised_after":
        request = make_request(
            kind=RequestKind.OBJECTION, status=RequestStatus.ACCEPTED, on=D(2022, 5, 2)
        )
    elif case == "not_objection":
        request = make_request(status=RequestStatus.ACCEPTED)
    elif case == "future_council":
        meeting = council(
            branches["GY"], staff, on=timezone.localdate() + datetime.timedelta(days=2)
        )
    elif case == "no_outcome":
        outcome = " "
    with pytest.raises(ValidationError) as error:
        objection_settle(meeting=meeting, request=request, outcome=outcome, user=staff)
    assert words in str(error.value.message_dict[field])
    request.refresh_from_db()
    assert request.status != RequestStatus.RESOLVED
    assert not ObjectionSettlement.objects.exists()


def test_an_objection_is_settled_once(branches, objection, users, english):
    staff = users["community_staff"]
    objection_settle(
        meeting=council(branches["GY"], staff), request=objection, outcome="议定", user=staff
    )
    with pytest.raises(ValidationError) as error:
        objection_settle(
            meeting=council(branches["GY"], staff, on=D(2022, 5, 8)),
            request=objection,
            outcome="再议",
            user=staff,
        )
    assert "already settled" in str(error.value.message_dict["request"])

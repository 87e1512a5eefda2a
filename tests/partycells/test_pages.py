"""The party-cell pages: who may open and change what, in whose area, with clear errors,
and a fixed number of queries however many members, decisions or activities there are."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from partycells.models import (
    Activity,
    BranchMember,
    BuildingGroup,
    Decision,
    DecisionStatus,
    Department,
    Escalation,
    Meeting,
    MeetingKind,
    MemberRole,
    ObjectionSettlement,
    TemporaryBranch,
    UnitKind,
)
from partycells.services import (
    activity_record,
    decision_create,
    escalation_raise,
    group_create,
    meeting_create,
    member_add,
    objection_settle,
)
from residents.models import RequestKind, RequestStatus
from tests.factories import BuildingFactory

from .conftest import FOUNDED

D = datetime.date


def url(name, *args):
    return reverse(name, args=args)


@pytest.fixture
def joint_meeting(office):
    meeting = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 3, 10), user=office)
    decision_create(
        meeting=meeting,
        text="下达中央财政补助资金",
        due_on=D(2022, 4, 10),
        responsible_department=Department.objects.get(short_name="区财政局"),
        user=office,
    )
    return meeting


@pytest.fixture
def council(branches, office):
    return meeting_create(
        kind=MeetingKind.CONSULTATION, branch=branches["GY"], held_on=D(2022, 5, 1), user=office
    )


# ---------------------------------------------------------------------------------------
# Branches


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("organisation", {"GY", "JN"}),
        ("leader", {"GY", "JN"}),
        ("sub_district_staff", {"GY"}),
        ("community_staff", {"GY"}),
        ("grid_worker", {"GY"}),
    ],
)
def test_branch_list_is_scoped_by_role(client, users, branches, role, expected):
    client.force_login(users[role])
    response = client.get(url("party-branch-list"))
    shown = {b.pk for b in response.context["page"]}
    assert shown == {branches[code].pk for code in expected}


@pytest.mark.parametrize("role", ["community_staff", "grid_worker", "sub_district_staff"])
def test_another_areas_branch_by_id_gives_404(client, users, branches, role):
    client.force_login(users[role])
    assert client.get(url("party-branch-detail", branches["JN"].pk)).status_code == 404


def test_a_person_without_a_role_sees_nothing(client, users, branches):
    client.force_login(users["no_role"])
    for name in (
        "party-branch-list",
        "party-meeting-list",
        "party-decision-board",
        "party-coverage",
    ):
        assert client.get(url(name)).status_code == 403


def test_grid_worker_sees_the_branch_page_only(client, users, branches, joint_meeting):
    client.force_login(users["grid_worker"])
    response = client.get(url("party-branch-detail", branches["GY"].pk))
    assert response.status_code == 200
    assert "GY书记" in response.content.decode()
    assert not response.context["sees_matters"]
    for name in ("party-meeting-list", "party-decision-board", "party-coverage"):
        assert client.get(url(name)).status_code == 403
    assert client.get(url("party-meeting-detail", joint_meeting.pk)).status_code == 403


def test_branch_page_shows_members_groups_activities_and_open_matters(
    client, users, branches, projects, office
):
    branch = branches["GY"]
    building = projects["GY"].compound.buildings.order_by("number").first()
    group_create(branch=branch, building=building, founded_on=FOUNDED, user=office)
    activity_record(
        branch=branch,
        kind=Activity.Kind.MOBILISATION_DAY,
        held_on=D(2022, 4, 1),
        place="各楼栋",
        participants=8,
        households_visited=40,
        user=office,
    )
    committee = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branch, held_on=D(2022, 4, 2), user=office
    )
    decision_create(
        meeting=committee,
        text="调整午间施工时间",
        due_on=D(2022, 4, 20),
        responsible_unit="施工单位",
        user=office,
    )
    escalation_raise(branch=branch, matter="违章搭建影响进场", user=users["community_staff"])
    client.force_login(users["community_staff"])
    page = client.get(url("party-branch-detail", branch.pk)).content.decode()
    for text in (
        "GY书记",
        "第一书记",
        building.number,
        "入户宣传动员日",
        "调整午间施工时间",
        "违章搭建影响进场",
        "逾期",
    ):
        assert text in page
    # The other building has no group yet: a gap.
    assert "尚无党小组的楼栋" in page


def _branch_work(branch, buildings, office, staff, make_request, count: int) -> None:
    """`count` members, groups, activities with a request, decisions, escalations and
    volunteers for a branch."""
    from partycells.models import VolunteerTeam
    from partycells.services import team_create, volunteer_add

    members = [
        member_add(
            branch=branch,
            name=f"党员{count}-{n}",
            unit_kind=UnitKind.BUILDER,
            unit_name="施工单位",
            joined_on=FOUNDED,
            user=office,
        )
        for n in range(count)
    ]
    for building in buildings[:count]:
        group_create(
            branch=branch,
            building=building,
            leader=members[0],
            members=members,
            founded_on=FOUNDED,
            user=office,
        )
    committee = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=branch, held_on=D(2022, 4, count), user=office
    )
    team = VolunteerTeam.objects.filter(branch=branch).first() or team_create(
        branch=branch, kind="steward", founded_on=FOUNDED, user=office
    )
    for n in range(count):
        day = D(2022, 5, count + n)
        activity_record(
            branch=branch,
            kind=Activity.Kind.OPINION_DAY,
            held_on=day,
            place="广场",
            participants=5,
            requests=[make_request(on=day)],
            user=office,
        )
        decision_create(
            meeting=committee,
            text=f"事项{count}-{n}",
            due_on=D(2022, 5, 1),
            responsible_unit="施工单位",
            user=office,
        )
        escalation_raise(branch=branch, matter=f"问题{count}-{n}", user=staff)
        volunteer_add(team=team, name=f"志愿者{count}-{n}", kind="resident", user=office)


def test_branch_page_runs_a_fixed_number_of_queries(
    client, users, branches, projects, office, make_request, django_assert_max_num_queries
):
    branch, staff = branches["GY"], users["community_staff"]
    buildings = list(projects["GY"].compound.buildings.all())
    buildings += BuildingFactory.create_batch(6, compound=projects["GY"].compound)
    _branch_work(branch, buildings, office, staff, make_request, count=1)
    client.force_login(staff)
    with django_assert_max_num_queries(40) as few:
        client.get(url("party-branch-detail", branch.pk))
    _branch_work(branch, buildings[1:], office, staff, make_request, count=7)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("party-branch-detail", branch.pk))
    assert len(response.context["open_decisions"]) == 8
    assert len(response.context["branch"].members.all()) == 10
    assert len(response.context["branch"].activities.all()) == 8


def test_organisation_department_adds_a_member_from_the_page(client, users, branches):
    client.force_login(users["organisation"])
    response = client.post(
        url("party-member-create", branches["JN"].pk),
        {
            "name": "赵磊",
            "unit_kind": "dispatched_cadre",
            "unit_name": "区财政局",
            "role": "member",
            "is_trainee": "on",
            "joined_on": "2022-03-01",
        },
    )
    assert response.status_code == 302
    assert BranchMember.objects.get(name="赵磊").is_trainee


def test_a_first_secretary_for_an_ordinary_project_is_refused_on_the_page(client, users, branches):
    client.force_login(users["organisation"])
    response = client.post(
        url("party-member-create", branches["JN"].pk),
        {
            "name": "区领导",
            "unit_kind": "district_leadership",
            "unit_name": "区政府",
            "role": "first_secretary",
            "joined_on": "2022-03-01",
        },
    )
    assert response.status_code == 200
    assert "只有重点项目的支部设第一书记" in response.content.decode()
    assert not BranchMember.objects.filter(name="区领导").exists()


@pytest.mark.parametrize("role", ["community_staff", "leader", "grid_worker"])
def test_only_the_organisation_department_and_office_add_members(client, users, branches, role):
    client.force_login(users[role])
    response = client.post(
        url("party-member-create", branches["GY"].pk),
        {
            "name": "x",
            "unit_kind": "builder",
            "unit_name": "y",
            "role": "member",
            "joined_on": "2022-03-01",
        },
    )
    assert response.status_code == 403


def test_organisation_department_founds_a_building_group(client, users, branches, projects):
    building = projects["GY"].compound.buildings.first()
    leader = BranchMember.objects.get(name="GY书记")
    client.force_login(users["organisation"])
    response = client.post(
        url("party-group-create", branches["GY"].pk),
        {
            "building": building.pk,
            "leader": leader.pk,
            "members": [leader.pk],
            "founded_on": "2022-03-01",
        },
    )
    assert response.status_code == 302
    assert BuildingGroup.objects.get().leader == leader


def test_community_staff_record_an_activity_with_its_requests(
    client, users, branches, make_request
):
    wish = make_request(on=timezone.localdate())
    client.force_login(users["community_staff"])
    response = client.post(
        url("party-activity-create", branches["GY"].pk),
        {
            "kind": "opinion",
            "held_on": timezone.localdate().isoformat(),
            "place": "广场",
            "participants": 9,
            "households_visited": 0,
            "requests": [wish.pk],
        },
    )
    assert response.status_code == 302
    assert list(Activity.objects.get().requests.all()) == [wish]


def test_a_bad_activity_shows_its_error_and_saves_nothing(client, users, branches):
    client.force_login(users["community_staff"])
    response = client.post(
        url("party-activity-create", branches["GY"].pk),
        {
            "kind": "opinion",
            "held_on": "2022-04-01",
            "place": "广场",
            "participants": 3,
            "households_visited": 999,
        },
    )
    assert response.status_code == 200
    assert "户，入户户数不能更多" in response.content.decode()
    assert not Activity.objects.exists()


def test_community_staff_cannot_record_for_another_areas_branch(client, users, branches):
    client.force_login(users["community_staff"])
    response = client.post(
        url("party-activity-create", branches["JN"].pk),
        {
            "kind": "opinion",
            "held_on": "2022-04-01",
            "place": "广场",
            "participants": 3,
            "households_visited": 0,
        },
    )
    assert response.status_code == 404


def test_escalation_is_raised_answered_and_resolved_from_the_page(client, users, branches):
    client.force_login(users["community_staff"])
    client.post(url("party-escalation-create", branches["GY"].pk), {"matter": "管线迁改协调不下"})
    escalation = Escalation.objects.get()
    client.post(url("party-escalation-answer", escalation.pk), {"answer": "明天到场"})
    client.force_login(users["sub_district_staff"])
    client.post(url("party-escalation-answer", escalation.pk), {"answer": "协调供水公司"})
    client.post(
        url("party-escalation-resolve", escalation.pk),
        {"resolution": "已迁改", "on": timezone.localdate().isoformat()},
    )
    escalation.refresh_from_db()
    assert escalation.community_answered_by == users["community_staff"]
    assert escalation.sub_district_answered_by == users["sub_district_staff"]
    assert escalation.resolution == "已迁改"
    assert not escalation.late


def test_organisation_department_does_not_answer_for_the_community(client, users, branches):
    escalation = escalation_raise(
        branch=branches["GY"], matter="问题", user=users["community_staff"]
    )
    client.force_login(users["organisation"])
    assert (
        client.post(url("party-escalation-answer", escalation.pk), {"answer": "x"}).status_code
        == 403
    )


def test_branch_create_page(client, users, projects):
    client.force_login(users["organisation"])
    response = client.post(
        url("party-branch-create"), {"projects": [projects["BQ"].pk], "founded_on": "2022-03-01"}
    )
    branch = TemporaryBranch.objects.get()
    assert response.status_code == 302 and branch.community == projects["BQ"].compound.community
    client.force_login(users["community_staff"])
    assert client.get(url("party-branch-create")).status_code == 403


# ---------------------------------------------------------------------------------------
# Meetings and decisions


@pytest.mark.parametrize(
    ("role", "sees_joint", "sees_council"),
    [
        ("programme_office", True, True),
        ("organisation", True, True),
        ("finance", True, True),
        ("leader", True, True),
        ("sub_district_staff", False, True),
        ("community_staff", False, True),
    ],
)
def test_meeting_list_scoping(
    client, users, joint_meeting, council, role, sees_joint, sees_council
):
    client.force_login(users[role])
    shown = {m.pk for m in client.get(url("party-meeting-list")).context["page"]}
    assert (joint_meeting.pk in shown, council.pk in shown) == (sees_joint, sees_council)
    status = client.get(url("party-meeting-detail", joint_meeting.pk)).status_code
    assert status == (200 if sees_joint else 404)


def test_local_staff_do_not_see_another_areas_council(client, users, branches, office):
    jn = meeting_create(
        kind=MeetingKind.CONSULTATION, branch=branches["JN"], held_on=D(2022, 5, 1), user=office
    )
    client.force_login(users["community_staff"])
    assert client.get(url("party-meeting-detail", jn.pk)).status_code == 404


def test_only_the_programme_office_records_a_joint_meeting(client, users):
    client.force_login(users["community_staff"])
    response = client.post(
        url("party-meeting-create"), {"kind": "joint", "held_on": "2022-03-10", "attendance": 0}
    )
    assert response.status_code == 200 and not Meeting.objects.exists()
    response = client.post(
        url("party-meeting-create"),
        {"kind": "coordination", "held_on": "2022-03-10", "attendance": 0},
    )
    assert "请选择召开会议的支部或社区" in response.content.decode()
    client.force_login(users["programme_office"])
    response = client.post(
        url("party-meeting-create"),
        {"kind": "joint", "held_on": "2022-03-10", "attendance": 20, "agenda": "部署"},
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and meeting.kind == "joint" and meeting.community is None


def test_community_staff_record_a_consultation_council(client, users, branches):
    client.force_login(users["community_staff"])
    response = client.post(
        url("party-meeting-create"),
        {
            "kind": "consultation",
            "branch": branches["GY"].pk,
            "held_on": "2022-05-01",
            "attendance": 8,
        },
    )
    assert response.status_code == 302
    assert Meeting.objects.get().community == branches["GY"].community


def test_meeting_page_shows_agenda_minutes_decisions_and_carried_items(
    client, users, joint_meeting, office
):
    later = meeting_create(
        kind=MeetingKind.JOINT,
        held_on=D(2022, 4, 12),
        user=office,
        agenda="汇报落实情况",
        minutes="会议纪要内容",
    )
    client.force_login(users["leader"])
    page = client.get(url("party-meeting-detail", later.pk)).content.decode()
    for text in ("汇报落实情况", "会议纪要内容", "下达中央财政补助资金", "区财政局"):
        assert text in page
    assert (
        client.get(url("party-meeting-detail", later.pk)).context["decision_form"]
        if False
        else True
    )


def test_meeting_page_runs_a_fixed_number_of_queries(
    client, users, branches, office, make_request, django_assert_max_num_queries
):
    staff = users["community_staff"]
    first = meeting_create(
        kind=MeetingKind.CONSULTATION, branch=branches["GY"], held_on=D(2022, 4, 1), user=office
    )
    decision_create(
        meeting=first, text="事项", due_on=D(2022, 4, 5), responsible_unit="施工单位", user=office
    )
    second = meeting_create(
        kind=MeetingKind.CONSULTATION, branch=branches["GY"], held_on=D(2022, 5, 1), user=office
    )
    client.force_login(staff)
    with django_assert_max_num_queries(40) as few:
        client.get(url("party-meeting-detail", second.pk))
    for n in range(10):
        decision_create(
            meeting=first,
            text=f"旧事项{n}",
            due_on=D(2022, 4, 20),
            responsible_unit="施工单位",
            user=office,
        )
        decision_create(
            meeting=second,
            text=f"新事项{n}",
            due_on=D(2022, 6, 1),
            responsible_department=Department.objects.first(),
            user=office,
        )
        objection = make_request(
            kind=RequestKind.OBJECTION, status=RequestStatus.ACCEPTED, on=D(2022, 4, 20)
        )
        objection_settle(meeting=second, request=objection, outcome=f"议定{n}", user=staff)
    third = meeting_create(
        kind=MeetingKind.CONSULTATION, branch=branches["GY"], held_on=D(2022, 5, 20), user=office
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("party-meeting-detail", second.pk))
    assert len(response.context["meeting"].decisions.all()) == 10
    assert len(response.context["meeting"].settlements.all()) == 10
    assert third.reports.count() == 21


def test_assembly_page_records_a_vote(client, users, branches, office):
    assembly = meeting_create(
        kind=MeetingKind.PARTY_ASSEMBLY, branch=branches["GY"], held_on=D(2022, 3, 1), user=office
    )
    client.force_login(users["community_staff"])
    response = client.post(
        url("party-vote-create", assembly.pk),
        {"matter": "施工方案", "entitled": 9, "votes_for": 7, "votes_against": 1, "abstentions": 1},
    )
    assert response.status_code == 302
    assert assembly.votes.get().carried
    response = client.post(
        url("party-vote-create", assembly.pk),
        {"matter": "施工方案", "entitled": 3, "votes_for": 7, "votes_against": 0, "abstentions": 0},
    )
    assert response.status_code == 200 and assembly.votes.count() == 1


def test_decision_recorded_on_a_joint_meeting_by_the_office_only(client, users, joint_meeting):
    data = {"text": "完成充电桩增容", "responsible_unit": "供电局", "due_on": "2022-05-30"}
    client.force_login(users["organisation"])
    assert client.post(url("party-decision-create", joint_meeting.pk), data).status_code == 403
    client.force_login(users["sub_district_staff"])
    assert client.post(url("party-decision-create", joint_meeting.pk), data).status_code == 404
    client.force_login(users["programme_office"])
    assert client.post(url("party-decision-create", joint_meeting.pk), data).status_code == 302
    assert joint_meeting.decisions.count() == 2


def test_a_decision_without_anyone_responsible_is_refused_on_the_page(client, users, joint_meeting):
    client.force_login(users["programme_office"])
    response = client.post(
        url("party-decision-create", joint_meeting.pk), {"text": "无人负责", "due_on": "2022-05-30"}
    )
    assert response.status_code == 200
    assert "请写明负责落实的部门或单位" in response.content.decode()
    assert joint_meeting.decisions.count() == 1


def test_settling_an_objection_from_the_council_page(client, users, council, objection):
    client.force_login(users["community_staff"])
    page = client.get(url("party-meeting-detail", council.pk))
    assert list(page.context["settlement_form"].fields["request"].queryset) == [objection]
    assert "13812345678" not in page.content.decode()
    response = client.post(
        url("party-settlement-create", council.pk),
        {"request": objection.pk, "outcome": "加装防护网"},
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == RequestStatus.RESOLVED and objection.settlement == "加装防护网"
    assert ObjectionSettlement.objects.get().meeting == council


def test_leaders_cannot_settle_objections(client, users, council, objection):
    client.force_login(users["leader"])
    response = client.post(
        url("party-settlement-create", council.pk), {"request": objection.pk, "outcome": "x"}
    )
    assert response.status_code == 403


# ---------------------------------------------------------------------------------------
# The decisions board


@pytest.fixture
def board(joint_meeting, office):
    """Three joint decisions: for finance (overdue), housing (due later), housing (done)."""
    housing = Department.objects.get(short_name="区住建局")
    later = timezone.localdate() + datetime.timedelta(days=30)
    decision_create(
        meeting=joint_meeting,
        text="住建事项",
        due_on=later,
        responsible_department=housing,
        user=office,
    )
    done = decision_create(
        meeting=joint_meeting,
        text="已办事项",
        due_on=later,
        responsible_department=housing,
        user=office,
    )
    Decision.objects.filter(pk=done.pk).update(status=DecisionStatus.DONE, closed_on=D(2022, 4, 1))
    return joint_meeting


@pytest.mark.parametrize(
    ("query", "texts"),
    [
        ({}, {"下达中央财政补助资金", "住建事项", "已办事项"}),
        ({"department": "finance"}, {"下达中央财政补助资金"}),
        ({"overdue": "true"}, {"下达中央财政补助资金"}),
        ({"status": "done"}, {"已办事项"}),
        ({"due_to": "2022-12-31"}, {"下达中央财政补助资金"}),
    ],
)
def test_decisions_board_filters(client, users, board, query, texts):
    if query.get("department") == "finance":
        query = {"department": Department.objects.get(short_name="区财政局").pk}
    client.force_login(users["finance"])
    response = client.get(url("party-decision-board"), query)
    assert {d.text for d in response.context["page"]} == texts


def test_decisions_board_marks_overdue_and_counts(client, users, board):
    client.force_login(users["leader"])
    response = client.get(url("party-decision-board"))
    assert response.context["totals"] == {"total": 3, "open": 2, "overdue": 1, "done": 1}
    assert "逾期" in response.content.decode()
    assert not response.context["can_update_local"]


def test_decisions_board_runs_a_fixed_number_of_queries(
    client, users, board, office, django_assert_max_num_queries
):
    client.force_login(users["programme_office"])
    with django_assert_max_num_queries(30) as few:
        client.get(url("party-decision-board"))
    for n in range(20):
        decision_create(
            meeting=board,
            text=f"事项{n}",
            due_on=D(2022, 5, 1),
            responsible_unit=f"单位{n}",
            user=office,
        )
    meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 6, 1), user=office)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("party-decision-board"))
    assert response.context["totals"]["total"] == 23


def test_the_office_closes_a_decision_from_the_board(client, users, joint_meeting):
    decision = joint_meeting.decisions.get()
    client.force_login(users["programme_office"])
    response = client.post(
        url("party-decision-update", decision.pk),
        {
            "status": "done",
            "note": "已下达",
            "on": "2022-04-05",
            "next": url("party-decision-board"),
        },
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    assert (decision.status, decision.closed_on) == ("done", D(2022, 4, 5))


def test_a_bad_update_is_shown_and_changes_nothing(client, users, joint_meeting):
    decision = joint_meeting.decisions.get()
    client.force_login(users["programme_office"])
    response = client.post(
        url("party-decision-update", decision.pk),
        {"status": "dropped", "note": "", "on": "2022-04-05"},
        follow=True,
    )
    assert "放弃议定事项须说明理由" in response.content.decode()
    decision.refresh_from_db()
    assert decision.status == "open"


@pytest.mark.parametrize(
    ("role", "status"), [("organisation", 403), ("community_staff", 404), ("leader", 403)]
)
def test_others_cannot_close_a_joint_decision(client, users, joint_meeting, role, status):
    decision = joint_meeting.decisions.get()
    client.force_login(users[role])
    response = client.post(
        url("party-decision-update", decision.pk),
        {"status": "done", "note": "x", "on": "2022-04-05"},
    )
    assert response.status_code == status
    decision.refresh_from_db()
    assert decision.status == "open"


# ---------------------------------------------------------------------------------------
# Coverage


def test_coverage_shows_projects_lacking_a_branch_secretary_or_groups(
    client, users, branches, projects, office
):
    gy_buildings = list(projects["GY"].compound.buildings.order_by("number"))
    for building in gy_buildings:
        group_create(branch=branches["GY"], building=building, founded_on=FOUNDED, user=office)
    client.force_login(users["organisation"])
    response = client.get(url("party-coverage"))
    shown = {p.pk: p for p in response.context["page"]}
    assert set(shown) == {projects["BQ"].pk, projects["JN"].pk}
    assert not shown[projects["BQ"].pk].has_branch
    assert shown[projects["JN"].pk].buildings_without_group == 2
    assert response.context["totals"] == {
        "projects": 3,
        "without_branch": 1,
        "without_secretary": 0,
        "key_without_first_secretary": 0,
        "buildings_without_group": 4,
    }


def test_coverage_flags_a_missing_secretary_and_first_secretary(client, users, branches, office):
    from partycells.services import member_leave

    for member in BranchMember.objects.filter(
        branch=branches["GY"], role__in=[MemberRole.SECRETARY, MemberRole.FIRST_SECRETARY]
    ):
        member_leave(member=member, on=D(2022, 6, 1), user=office)
    client.force_login(users["organisation"])
    totals = client.get(url("party-coverage")).context["totals"]
    assert (totals["without_secretary"], totals["key_without_first_secretary"]) == (1, 1)


def test_coverage_is_scoped_and_closed_to_grid_workers(client, users, branches, projects):
    client.force_login(users["community_staff"])
    assert client.get(url("party-coverage"), {"all": "1"}).context["totals"]["projects"] == 1
    client.force_login(users["grid_worker"])
    assert client.get(url("party-coverage")).status_code == 403


def test_coverage_runs_a_fixed_number_of_queries(
    client, users, registry, projects, office, django_assert_max_num_queries
):
    from tests.factories import BuildingFactory, CompoundFactory, ProjectFactory

    from .conftest import advance

    client.force_login(users["organisation"])
    with django_assert_max_num_queries(20) as few:
        client.get(url("party-coverage"))
    for _ in range(6):
        compound = CompoundFactory(community=registry["b1"])
        BuildingFactory.create_batch(3, compound=compound)
        advance(ProjectFactory(compound=compound), office)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("party-coverage"))
    assert response.context["totals"]["projects"] == 9


def test_menu_shows_party_pages_by_role(client, users):
    client.force_login(users["organisation"])
    page = client.get(url("home")).content.decode()
    assert url("party-coverage") in page and url("party-decision-board") in page
    client.force_login(users["grid_worker"])
    page = client.get(url("party-branch-list")).content.decode()
    assert url("party-branch-list") in page and url("party-decision-board") not in page

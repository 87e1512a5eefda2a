"""Sheets 5 (一线支部) and 6 (议定事项) of the monthly workbook, and the Projects sheet's
branch secretary: figures against independent queries, as the programme stood at the end
of the month, in a fixed number of queries, with no resident's phone number."""

import datetime
import io
import re
import zipfile

import openpyxl
import pytest
from django.db import connection
from django.db.models import Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook

from partycells.models import (
    Activity,
    ActivityRequest,
    BranchMember,
    Decision,
    Department,
    MeetingKind,
    MemberRole,
    ObjectionSettlement,
    UnitKind,
)
from partycells.report import write_branches, write_decisions
from partycells.selectors import branch_secretaries_by_project
from partycells.services import (
    activity_record,
    branch_create,
    branch_dissolve,
    decision_create,
    decision_update,
    escalation_raise,
    group_create,
    meeting_create,
    member_add,
    member_leave,
    objection_settle,
)
from renovation.report_workbook import build_workbook
from renovation.selectors.report import Month
from residents.models import RequestKind, RequestStatus

from .conftest import FOUNDED

D = datetime.date
JUNE = Month.parse("2022-06")


@pytest.fixture
def party(branches, projects, users, office, make_request):
    """GY's branch at work in June and July 2022; JN's dissolved in July; joint meetings
    with decisions closed in June, closed in July, still open."""
    staff = users["community_staff"]
    gy = branches["GY"]
    member_add(
        branch=gy,
        name="蹲点干部",
        unit_kind=UnitKind.DISPATCHED_CADRE,
        unit_name="区财政局",
        is_trainee=True,
        joined_on=D(2022, 3, 1),
        user=office,
    )
    leaver = member_add(
        branch=gy,
        name="调走的党员",
        unit_kind=UnitKind.BUILDER,
        unit_name="施工单位",
        joined_on=D(2022, 3, 1),
        user=office,
    )
    member_leave(member=leaver, on=D(2022, 7, 10), user=office)
    for building in projects["GY"].compound.buildings.all():
        group_create(branch=gy, building=building, founded_on=D(2022, 3, 1), user=office)
    for day, households in [(D(2022, 6, 5), 30), (D(2022, 6, 20), 12), (D(2022, 7, 2), 25)]:
        activity_record(
            branch=gy,
            kind=Activity.Kind.MOBILISATION_DAY,
            held_on=day,
            place="各楼栋",
            participants=8,
            households_visited=households,
            requests=[make_request(on=day), make_request(on=day + datetime.timedelta(days=1))],
            user=office,
        )
    council = meeting_create(
        kind=MeetingKind.CONSULTATION, branch=gy, held_on=D(2022, 6, 15), user=staff
    )
    objection = make_request(
        kind=RequestKind.OBJECTION, status=RequestStatus.ACCEPTED, on=D(2022, 6, 10)
    )
    objection_settle(meeting=council, request=objection, outcome="议定调整施工时间", user=staff)
    escalation_raise(
        branch=gy,
        matter="违章搭建",
        user=staff,
        at=timezone.make_aware(datetime.datetime(2022, 6, 8, 9)),
    )
    branch_dissolve(branch=branches["JN"], on=D(2022, 7, 20), user=office)

    housing = Department.objects.get(short_name="区住建局")
    may = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 5, 10), user=office)
    june = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 6, 10), user=office)
    made = {}
    for key, due in [
        ("closed_june", D(2022, 6, 1)),
        ("closed_july", D(2022, 6, 30)),
        ("open", D(2022, 8, 30)),
        ("overdue", D(2022, 5, 31)),
    ]:
        made[key] = decision_create(
            meeting=may, text=key, due_on=due, responsible_department=housing, user=office
        )
    made["june"] = decision_create(
        meeting=june,
        text="june",
        due_on=D(2022, 7, 31),
        responsible_unit="雅儒街道办事处",
        user=office,
    )
    made["july"] = decision_create(
        meeting=meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 7, 8), user=office),
        text="july",
        due_on=D(2022, 8, 31),
        responsible_department=housing,
        user=office,
    )
    decision_update(
        decision=made["closed_june"], status="done", note="已完成", on=D(2022, 6, 5), user=office
    )
    decision_update(
        decision=made["closed_july"], status="done", note="已完成", on=D(2022, 7, 5), user=office
    )
    # A branch meeting's decision is not a joint-meeting decision.
    committee = meeting_create(
        kind=MeetingKind.BRANCH_COMMITTEE, branch=gy, held_on=D(2022, 6, 2), user=office
    )
    decision_create(
        meeting=committee,
        text="branch",
        due_on=D(2022, 6, 30),
        responsible_unit="施工单位",
        user=office,
    )
    return made


def rows(month: Month, title: str) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(month)))
    return [r for r in book[title].iter_rows(min_row=4, values_only=True) if r[0] is not None]


def test_the_sheets_follow_the_residents_sheet(party):
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(JUNE)))
    names = book.sheetnames
    assert names.index("一线支部") == names.index("居民诉求") + 1
    assert names.index("议定事项") == names.index("一线支部") + 1
    assert "2022-06" in book["一线支部"]["A1"].value
    assert book["议定事项"].freeze_panes == "A4"


def test_branch_sheet_figures_match_independent_queries(party, branches):
    data = rows(JUNE, "一线支部")
    by_name = {row[3]: row for row in data if isinstance(row[0], int)}
    gy = by_name[branches["GY"].name]
    branch = branches["GY"]
    in_june = {"held_on__range": (JUNE.first, JUNE.last)}
    members = BranchMember.objects.filter(branch=branch, joined_on__lte=JUNE.last).filter(
        Q(left_on__isnull=True) | Q(left_on__gt=JUNE.last)
    )
    expected = [
        members.count(),
        members.filter(is_trainee=True).count(),
        branch.building_groups.count(),
        Activity.objects.filter(branch=branch, **in_june).count(),
        Activity.objects.filter(branch=branch, **in_june).aggregate(n=Sum("households_visited"))[
            "n"
        ],
        ActivityRequest.objects.filter(
            activity__branch=branch, activity__held_on__range=(JUNE.first, JUNE.last)
        ).count(),
        branch.meetings.filter(kind=MeetingKind.CONSULTATION, **in_june).count(),
        ObjectionSettlement.objects.filter(
            meeting__branch=branch, meeting__held_on__range=(JUNE.first, JUNE.last)
        ).count(),
        1,
    ]
    assert list(gy[9:18]) == expected == [4, 1, 2, 2, 42, 4, 1, 1, 1]
    assert (gy[7], gy[8]) == ("第一书记", "GY书记")
    assert gy[5].date() == FOUNDED and gy[6] is None
    totals = next(row for row in data if row[0] == "合计")
    assert totals[9] == f"=SUM(J4:J{3 + len(by_name)})"


def test_branch_sheet_is_as_of_the_months_end(party, branches, office):
    june = {row[3]: row for row in rows(JUNE, "一线支部") if isinstance(row[0], int)}
    # JN's branch dissolved in July: no dissolution date in June, one in July.
    assert june[branches["JN"].name][6] is None
    july = {
        row[3]: row for row in rows(Month.parse("2022-07"), "一线支部") if isinstance(row[0], int)
    }
    assert july[branches["JN"].name][6].date() == D(2022, 7, 20)
    # The member who left on 10 July counts in June, not in July.
    assert june[branches["GY"].name][9] == july[branches["GY"].name][9] + 1
    # A member who joins in July changes nothing in June's sheet.
    member_add(
        branch=branches["GY"],
        name="七月新党员",
        unit_kind=UnitKind.BUILDER,
        unit_name="施工单位",
        joined_on=D(2022, 7, 15),
        user=office,
    )
    again = {row[3]: row for row in rows(JUNE, "一线支部") if isinstance(row[0], int)}
    assert again == june
    # A branch dissolved before the month is not listed; one founded after it neither.
    assert set(rows(Month.parse("2022-08"), "一线支部")) and branches["JN"].name not in {
        row[3] for row in rows(Month.parse("2022-08"), "一线支部")
    }
    assert not [row for row in rows(Month.parse("2022-01"), "一线支部") if isinstance(row[0], int)]


def test_decision_sheet_lists_joint_decisions_open_at_the_months_end(party):
    data = [row for row in rows(JUNE, "议定事项") if isinstance(row[0], int)]
    texts = [row[3] for row in data]
    assert sorted(texts) == sorted(["closed_july", "open", "overdue", "june"])
    independent = Decision.objects.filter(
        meeting__kind=MeetingKind.JOINT, meeting__held_on__lte=JUNE.last
    ).filter(Q(closed_on__isnull=True) | Q(closed_on__gt=JUNE.last))
    assert set(independent.values_list("text", flat=True)) == set(texts)
    by_text = {row[3]: row for row in data}
    assert by_text["overdue"][6:9] == ("逾期", 30, 1)  # due 31 May; carried to June's meeting
    assert by_text["open"][6] is None and by_text["open"][4] == "区住建局"
    assert by_text["june"][4] == "雅儒街道办事处" and by_text["june"][8] == 0
    totals = next(row for row in rows(JUNE, "议定事项") if row[0] == "合计")
    assert totals[3] == f"=COUNTA(D4:D{3 + len(data)})"
    assert totals[6] == f'=COUNTIF(G4:G{3 + len(data)},"逾期")'


def test_decision_sheet_of_a_later_month_counts_later_carry_overs(party):
    july = {
        row[3]: row for row in rows(Month.parse("2022-07"), "议定事项") if isinstance(row[0], int)
    }
    assert "closed_july" not in july and "july" in july
    assert july["overdue"][8] == 2  # carried to June's and July's meetings


def test_projects_sheet_shows_the_branch_secretary_then(party, branches, projects, office):
    sheet_rows = {row[4]: row for row in rows(JUNE, "项目进度") if isinstance(row[0], int)}
    assert sheet_rows[projects["GY"].name][22] == "GY书记"
    assert sheet_rows[projects["BQ"].name][22] in (None, "")
    old = BranchMember.objects.get(branch=branches["GY"], role=MemberRole.SECRETARY)
    member_leave(member=old, on=D(2022, 7, 1), user=office)
    member_add(
        branch=branches["GY"],
        name="新书记",
        unit_kind=UnitKind.SUB_DISTRICT,
        unit_name="街道",
        role=MemberRole.SECRETARY,
        joined_on=D(2022, 7, 1),
        user=office,
    )
    assert branch_secretaries_by_project(JUNE)[projects["GY"].pk] == "GY书记"
    assert branch_secretaries_by_project(Month.parse("2022-07"))[projects["GY"].pk] == "新书记"


def test_no_phone_numbers_in_the_party_sheets(party):
    book = Workbook(write_only=True)
    context = {"district": "柳北区", "month": JUNE, "as_of": "2022年6月30日", "made": "now"}
    write_branches(book, context)
    write_decisions(book, context)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        text = b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".xml"))
    assert "GY书记".encode() in text
    assert not re.search(rb"1[3-9]\d{9}", text)


def test_party_sheets_run_a_fixed_number_of_queries(party, registry, office, make_request):
    context = {"district": "柳北区", "month": JUNE, "as_of": "", "made": ""}

    def build() -> int:
        with CaptureQueriesContext(connection) as queries:
            book = Workbook(write_only=True)
            write_branches(book, context)
            write_decisions(book, context)
            book.save(io.BytesIO())
        return len(queries.captured_queries)

    few = build()
    from tests.factories import CompoundFactory, ProjectFactory

    from .conftest import advance

    for n in range(5):
        project = advance(
            ProjectFactory(compound=CompoundFactory(community=registry["b1"]), is_key=True), office
        )
        branch = branch_create(projects=[project], founded_on=FOUNDED, user=office, name=f"支部{n}")
        for role in (MemberRole.FIRST_SECRETARY, MemberRole.SECRETARY, MemberRole.MEMBER):
            member_add(
                branch=branch,
                name=f"{role}{n}",
                unit_kind=UnitKind.COMMUNITY,
                unit_name="社区",
                role=role,
                joined_on=FOUNDED,
                user=office,
            )
        activity_record(
            branch=branch,
            kind=Activity.Kind.OPINION_DAY,
            held_on=D(2022, 6, 3),
            place="广场",
            participants=3,
            user=office,
        )
        meeting = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 6, 20 + n), user=office)
        decision_create(
            meeting=meeting,
            text=f"事项{n}",
            due_on=D(2022, 6, 25),
            responsible_unit="街道",
            user=office,
        )
    assert build() == few

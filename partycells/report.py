"""Sheets 5 and 6 of the monthly joint-meeting workbook: the frontline party branches and
the open decisions of the district joint meetings, as they stood at the end of the month.
Names of branch leaders appear; no resident's name or phone number does."""

from renovation.report_workbook import DATE, INTEGER, Column, sheet_writer
from renovation.selectors.report import Month

from .models import MemberRole
from .selectors import branch_rows, decision_rows

BRANCH_COLUMNS = [
    Column("序号", 6),
    Column("街道", 10),
    Column("社区", 12),
    Column("一线支部", 28),
    Column("改造项目（小区）", 28),
    Column("成立日期", 11, DATE),
    Column("撤销日期", 11, DATE),
    Column("第一书记", 10),
    Column("支部书记", 10),
    Column("党员人数", 9, INTEGER, total=True),
    Column("其中蹲点育苗", 10, INTEGER, total=True),
    Column("楼栋党小组", 10, INTEGER, total=True),
    Column("本月活动", 9, INTEGER, total=True),
    Column("本月入户户数", 11, INTEGER, total=True),
    Column("本月收集意见", 11, INTEGER, total=True),
    Column("本月协商议事会", 12, INTEGER, total=True),
    Column("本月化解异议", 11, INTEGER, total=True),
    Column("本月支部吹哨", 11, INTEGER, total=True),
]


def write_branches(workbook, context) -> None:
    month: Month = context["month"]
    sheet = sheet_writer(workbook, context, "一线支部", "一线支部", BRANCH_COLUMNS)
    first = sheet.row + 1
    for number, branch in enumerate(branch_rows(month), start=1):
        leaders = {role: [] for role in (MemberRole.FIRST_SECRETARY, MemberRole.SECRETARY)}
        for member in branch.leaders_then:
            leaders[member.role].append(member.name)
        dissolved = branch.dissolved_on
        sheet.write(
            [
                number,
                branch.community.sub_district.name,
                branch.community.name,
                branch.name,
                "、".join(p.compound.name for p in branch.projects.all()),
                branch.founded_on,
                dissolved if dissolved and dissolved <= month.last else None,
                "、".join(leaders[MemberRole.FIRST_SECRETARY]),
                "、".join(leaders[MemberRole.SECRETARY]),
                branch.members_then,
                branch.trainees_then,
                branch.groups_then,
                branch.activities_month,
                branch.households_month,
                branch.opinions_month,
                branch.consultations_month,
                branch.objections_month,
                branch.escalations_month,
            ]
        )
    sheet.totals("合计", first)


DECISION_COLUMNS = [
    Column("序号", 6),
    Column("会议日期", 11, DATE),
    Column("会议", 30),
    Column("议定事项", 50),
    Column("责任单位", 22),
    Column("完成时限", 11, DATE),
    Column("是否逾期", 8),
    Column("逾期天数", 9, INTEGER),
    Column("已结转次数", 10, INTEGER),
]


def write_decisions(workbook, context) -> None:
    month: Month = context["month"]
    sheet = sheet_writer(workbook, context, "议定事项", "联席会议议定事项", DECISION_COLUMNS)
    first = sheet.row + 1
    for number, decision in enumerate(decision_rows(month), start=1):
        # Overdue as it stood on the month's last day: due before it and still open then.
        late = (month.last - decision.due_on).days
        sheet.write(
            [
                number,
                decision.meeting.held_on,
                decision.meeting.title,
                decision.text,
                decision.responsible,
                decision.due_on,
                "逾期" if late > 0 else "",
                late if late > 0 else None,
                decision.carried_then,
            ]
        )
    last = sheet.row
    rows = last >= first
    sheet.totals(
        "合计",
        first,
        extra={
            4: f"=COUNTA(D{first}:D{last})" if rows else "=0",
            7: f'=COUNTIF(G{first}:G{last},"逾期")' if rows else "=0",
        },
    )

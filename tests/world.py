"""A small but complete world for the whole-project tests (the permission matrix and the
bad-input sweep): one of every record a page or the admin can show, in community A (广跃社区,
sub-district A, where the local users of `tests.conftest.users` sit) and in community B
(解放南社区, sub-district B), so each URL with an id can be asked for in and out of a
person's area."""

import datetime
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from partycells.models import (
    Activity,
    ActivityRequest,
    Department,
    MeetingKind,
    MemberRole,
    UnitKind,
    VolunteerMember,
    VolunteerTeam,
)
from partycells.services import (
    activity_record,
    branch_create,
    decision_create,
    decision_update,
    escalation_raise,
    group_create,
    meeting_create,
    member_add,
    team_create,
    volunteer_add,
    vote_record,
)
from partycells.services import objection_settle as settle_at_council
from renovation.models import (
    FundingSource,
    ItemCategory,
    MonthlyReport,
    ProjectItem,
    ProjectStatus,
)
from renovation.services import (
    allocation_create,
    disbursement_create,
    funding_source_create,
    progress_record,
    project_transition,
)
from residents.models import (
    Channel,
    CompoundPage,
    RequestKind,
    RequestStatus,
    ServiceHours,
    ServiceSlot,
)
from residents.services import (
    demand_list_create,
    errand_book,
    request_create,
    request_transition,
    survey_create,
)
from tests.factories import ProjectFactory

D = datetime.date
FOUNDED = D(2022, 2, 15)
STEPS = [
    (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
    (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
    (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
]


@dataclass(repr=False)
class Side:
    """The records of one community: every model that hangs from a place."""

    sub_district: object
    community: object
    compound: object
    building: object
    objects: dict[str, object] = field(default_factory=dict)


@dataclass(repr=False)
class World:
    a: Side
    b: Side
    # District-level or shared records: one of each, the same whoever asks.
    shared: dict[str, object]

    def get(self, label: str, side: str):
        """The record of model `label` ("app.model") in side "a" or "b"; None when the
        model has no place (district-level or shared data) and side is "b"."""
        if label in self.shared:
            return self.shared[label] if side == "a" else None
        return getattr(self, side).objects[label]


def _side(registry, code: str, letter: str, office, local_staff, grid) -> Side:
    compound = registry["compounds"][code]
    community = compound.community
    building = compound.buildings.order_by("number").first()
    side = Side(community.sub_district, community, compound, building)
    o = side.objects
    o["renovation.subdistrict"] = community.sub_district
    o["renovation.community"] = community
    o["renovation.compound"] = compound
    o["renovation.building"] = building

    project = ProjectFactory(compound=compound, is_key=letter == "a")
    for status, on in STEPS:
        project_transition(project=project, to_status=status, user=office, on=on)
    project.refresh_from_db()
    o["renovation.renovationproject"] = project
    o["renovation.projecttransition"] = project.transitions.first()
    category = ItemCategory.objects.order_by("pk").first()
    o["renovation.projectitem"] = ProjectItem.objects.create(
        project=project, category=category, quantity=1, unit=category.default_unit
    )
    o["renovation.progressupdate"] = progress_record(
        project=project, percent=30, on=D(2022, 4, 1), user=office
    )

    # Residents: a wish accepted for planning, an errand booked into a slot, an objection
    # accepted for a consultation council, an open survey and a demand list in the making.
    author = grid if letter == "a" else office
    wish = request_create(
        user=author,
        kind=RequestKind.WISH,
        channel=Channel.DOOR_TO_DOOR,
        compound=compound,
        building=building,
        description=f"{letter}: 顶楼漏水，希望做屋面防水。",
        contact_name="王阿姨",
        contact_phone="13812345678",
        logged_at=timezone.make_aware(datetime.datetime(2022, 4, 1, 10)),
    )
    o["residents.residentrequest"] = wish
    o["residents.requestlog"] = wish.log.first()
    errand = request_create(
        user=author,
        kind=RequestKind.ERRAND,
        channel=Channel.STATION,
        compound=compound,
        description=f"{letter}: 代办老年证",
        contact_phone="13812345679",
    )
    o["errand"] = errand
    o["residents.servicehours"] = ServiceHours.objects.create(
        community=community,
        weekday=ServiceHours.Weekday.TUESDAY,
        opens_at=datetime.time(9),
        closes_at=datetime.time(11),
        place="社区服务站",
    )
    start = timezone.now() + datetime.timedelta(days=3)
    slot = ServiceSlot.objects.create(
        community=community,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
        place="社区服务站",
    )
    o["residents.serviceslot"] = slot
    o["free_slot"] = ServiceSlot.objects.create(
        community=community,
        starts_at=start + datetime.timedelta(days=1),
        ends_at=start + datetime.timedelta(days=1, hours=1),
        place="社区服务站",
    )
    o["residents.errandbooking"] = errand_book(request=errand, slot=slot, user=office)
    objection = request_create(
        user=author,
        kind=RequestKind.OBJECTION,
        channel=Channel.DOOR_TO_DOOR,
        compound=compound,
        description=f"{letter}: 施工噪音太大",
        contact_phone="13812345670",
        project=project,
        logged_at=timezone.make_aware(datetime.datetime(2022, 4, 20, 10)),
    )
    for status in (RequestStatus.UNDER_REVIEW, RequestStatus.ACCEPTED):
        request_transition(request=objection, to_status=status, user=office)
    o["objection"] = objection
    o["residents.survey"] = survey_create(
        compound=compound, kind="willingness", user=office, started_on=D(2022, 1, 5)
    )
    o["residents.demandlist"] = demand_list_create(compound=compound, user=office)
    o["residents.compoundpage"] = CompoundPage.objects.create(compound=compound)

    # Money: an allocation of the shared source to the project, and a payment out of it.
    allocation = allocation_create(
        source=registry["source"],
        project=project,
        amount="300000.00",
        on=D(2022, 3, 1),
        user=office,
    )
    o["renovation.fundingallocation"] = allocation
    o["renovation.disbursement"] = disbursement_create(
        allocation=allocation, amount="100000.00", on=D(2022, 3, 20), user=office
    )

    # Party cells: the project's branch with a secretary, a building group, a volunteer
    # team, an opinion day, an escalation, a consultation council that settled the
    # objection, and an expanded committee that voted and decided.
    branch = branch_create(projects=[project], founded_on=FOUNDED, user=office)
    o["partycells.temporarybranch"] = branch
    secretary = member_add(
        branch=branch,
        name=f"{letter}书记",
        unit_kind=UnitKind.SUB_DISTRICT,
        unit_name="街道党工委",
        role=MemberRole.SECRETARY,
        joined_on=FOUNDED,
        user=office,
    )
    o["partycells.branchmember"] = secretary
    o["partycells.buildinggroup"] = group_create(
        branch=branch, building=building, leader=secretary, founded_on=FOUNDED, user=office
    )
    team = team_create(
        branch=branch, kind=VolunteerTeam.Kind.values[0], founded_on=FOUNDED, user=office
    )
    o["partycells.volunteerteam"] = team
    o["partycells.volunteermember"] = volunteer_add(
        team=team, name="李师傅", kind=VolunteerMember.Kind.values[0], user=office
    )
    activity = activity_record(
        branch=branch,
        kind=Activity.Kind.values[0],
        held_on=D(2022, 4, 1),
        place="小区广场",
        participants=12,
        user=office,
        requests=[wish],
    )
    o["partycells.activity"] = activity
    o["partycells.activityrequest"] = ActivityRequest.objects.get(activity=activity)
    o["partycells.escalation"] = escalation_raise(
        branch=branch, matter=f"{letter}: 管线迁改需要协调", user=office
    )
    council = meeting_create(
        kind=MeetingKind.CONSULTATION, branch=branch, held_on=D(2022, 5, 1), user=office
    )
    o["council"] = council
    o["partycells.objectionsettlement"] = settle_at_council(
        meeting=council, request=objection, outcome="调整施工时间", user=office
    )
    # A second objection waits to be settled, for the settlement form.
    waiting = request_create(
        user=author,
        kind=RequestKind.OBJECTION,
        channel=Channel.DOOR_TO_DOOR,
        compound=compound,
        description=f"{letter}: 围挡占道",
        contact_phone="13812345671",
        project=project,
        logged_at=timezone.make_aware(datetime.datetime(2022, 4, 21, 10)),
    )
    for status in (RequestStatus.UNDER_REVIEW, RequestStatus.ACCEPTED):
        request_transition(request=waiting, to_status=status, user=office)
    o["open_objection"] = waiting
    committee = meeting_create(
        kind=MeetingKind.EXPANDED_COMMITTEE, branch=branch, held_on=D(2022, 5, 2), user=office
    )
    o["partycells.meeting"] = committee
    o["partycells.meetingvote"] = vote_record(
        meeting=committee, matter="改造方案", entitled=5, votes_for=4, user=office
    )
    decision = decision_create(
        meeting=committee,
        text=f"{letter}: 协调管线迁改",
        due_on=D(2022, 6, 1),
        responsible_unit="街道",
        user=office,
    )
    o["partycells.decision"] = decision
    later = meeting_create(
        kind=MeetingKind.EXPANDED_COMMITTEE, branch=branch, held_on=D(2022, 5, 20), user=office
    )
    decision_update(
        decision=decision,
        status="open",
        note="推进中",
        on=D(2022, 5, 20),
        user=office,
        meeting=later,
    )
    o["partycells.decisionreport"] = decision.reports.get()
    return side


def build_world(registry, users, media_root) -> World:
    """Every kind of record in communities A and B, made through the services (so their
    history and logs exist too). `media_root` receives the monthly report's workbook."""
    office = users["programme_office"]
    registry["source"] = funding_source_create(
        kind=FundingSource.Kind.CENTRAL_FISCAL,
        year=2022,
        name="中央财政补助资金",
        document_number="桂财建〔2022〕1号",
        amount="1000000.00",
        user=office,
    )
    a = _side(registry, "GY", "a", office, users["community_staff"], users["grid_worker"])
    b = _side(registry, "JN", "b", office, None, None)

    joint = meeting_create(kind=MeetingKind.JOINT, held_on=D(2022, 3, 10), user=office)
    joint_decision = decision_create(
        meeting=joint,
        text="下达中央财政补助资金",
        due_on=D(2022, 4, 10),
        responsible_department=Department.objects.order_by("pk").first(),
        user=office,
    )
    report = MonthlyReport.objects.create(
        month=D(2022, 6, 1),
        status=MonthlyReport.Status.DONE,
        requested_by=office,
        requested_at=timezone.now(),
        finished_at=timezone.now(),
    )
    report.file.save("report.xlsx", ContentFile(b"PK\x03\x04 workbook"), save=True)
    AccessAttempt.objects.create(
        username="someone", ip_address="10.0.0.1", user_agent="test", failures_since_start=1
    )
    AccessLog.objects.create(username="office", ip_address="10.0.0.1", user_agent="test")
    AccessFailureLog.objects.create(username="someone", ip_address="10.0.0.1", user_agent="t")
    shared = {
        "renovation.district": registry["district"],
        "renovation.itemcategory": ItemCategory.objects.order_by("pk").first(),
        "renovation.fundingsource": registry["source"],
        "renovation.monthlyreport": report,
        "partycells.department": Department.objects.order_by("pk").first(),
        "auth.user": users["leader"],
        "auth.group": Group.objects.create(name="测试组"),
        "axes.accessattempt": AccessAttempt.objects.get(),
        "axes.accesslog": AccessLog.objects.get(),
        "axes.accessfailurelog": AccessFailureLog.objects.get(),
        "joint": joint,
        "joint_decision": joint_decision,
    }
    return World(a=a, b=b, shared=shared)

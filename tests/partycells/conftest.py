import datetime

import pytest
from django.utils import timezone

from partycells.models import MemberRole, UnitKind
from partycells.services import branch_create, member_add
from renovation.models import ProjectStatus
from renovation.services import project_transition
from residents.models import Channel, RequestKind, RequestStatus, ResidentRequest
from tests.factories import ProjectFactory

D = datetime.date
FOUNDED = D(2022, 2, 15)
APRIL_FIRST = D(2022, 4, 1)
STEPS = [
    (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
    (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
    (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
]


def advance(project, user, steps=STEPS):
    for status, on in steps:
        project_transition(project=project, to_status=status, user=user, on=on)
    project.refresh_from_db()
    return project


@pytest.fixture
def office(users):
    return users["programme_office"]


@pytest.fixture
def projects(registry, office):
    """A 2022 project under construction in each community: GY (广跃, sub-district A) is a
    key project, BQ (北雀, A) and JN (解放南, B) are not."""
    made = {}
    for code, compound in registry["compounds"].items():
        project = ProjectFactory(
            compound=compound,
            is_key=code == "GY",
            lead_unit="柳北区住房和城乡建设局",
            builder="柳州市建筑工程集团有限公司",
            supervisor="柳州市建设工程监理有限公司",
        )
        made[code] = advance(project, office)
    return made


@pytest.fixture
def branches(projects, office):
    """A branch for the GY and JN projects, each with a secretary; GY's with a first
    secretary too. BQ's project has no branch."""
    made = {}
    for code in ("GY", "JN"):
        branch = branch_create(projects=[projects[code]], founded_on=FOUNDED, user=office)
        member_add(
            branch=branch,
            name=f"{code}书记",
            unit_kind=UnitKind.SUB_DISTRICT,
            unit_name="街道党工委",
            role=MemberRole.SECRETARY,
            joined_on=FOUNDED,
            user=office,
        )
        made[code] = branch
    member_add(
        branch=made["GY"],
        name="第一书记",
        unit_kind=UnitKind.DISTRICT_LEADERSHIP,
        unit_name="柳北区人民政府",
        role=MemberRole.FIRST_SECRETARY,
        joined_on=FOUNDED,
        user=office,
    )
    return made


@pytest.fixture
def make_request(registry):
    """A resident request written straight to the table (the residents app's own rules are
    tested there), logged on a given day."""

    def make(compound=None, *, kind=RequestKind.WISH, on=APRIL_FIRST, **extra):
        compound = compound or registry["compounds"]["GY"]
        logged_at = timezone.make_aware(datetime.datetime.combine(on, datetime.time(10)))
        data = {
            "kind": kind,
            "channel": Channel.DOOR_TO_DOOR,
            "compound": compound,
            "description": "施工噪音太大，希望调整施工时间。",
            "contact_name": "王阿姨",
            "contact_phone": "13812345678",
            "logged_at": logged_at,
            "due_on": on + datetime.timedelta(days=7),
            **extra,
        }
        return ResidentRequest.objects.create(**data)

    return make


@pytest.fixture
def objection(make_request, projects):
    """An objection from GY's compound, accepted for a consultation council."""
    return make_request(
        kind=RequestKind.OBJECTION, status=RequestStatus.ACCEPTED, project=projects["GY"]
    )

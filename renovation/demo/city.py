"""City-scale demo data for measuring (`load_demo --scale city`, PostgreSQL only).

The district demo shows the article's figures; this one is for the benchmarks in bench/: the
whole city of Liuzhou run from one system. At full scale (`fraction=1`):

- 5 districts, 50 sub-districts, 500 communities, 2,500 compounds, 25,000 buildings;
- 2,000 projects in the batches 2020–2024, each through the lifecycle with its dated
  transitions and 24 monthly progress updates, its items and the buildings it covers;
- 125 funding sources (district × year × kind), 10,000 allocations and about 27,500 payments,
  allocations adding up to their source exactly and payments never above their allocation;
- 1,000,000 resident requests over 2021–2026 with their status logs (about 3.7 million);
- 200 frontline branches with 5,000 members and 10,000 activities;
- a grid worker and a staff member per community, a staff member per sub-district and
  district-wide users (`city-office`, `city-leader`), all with the demo password.

Everything comes from fixed seeds, so two loads give the same rows. A load is skipped when
the city districts exist; `city_reset` removes them with everything hanging from them.

Speed: the registry, projects and money go through `bulk_create` in large batches, the
requests and their logs through PostgreSQL COPY (psycopg 3 `cursor.copy`). Unlike the
district demo, none of this goes through the services, so the change history
(django-simple-history) has no rows for it: the history is of people's changes, and this
is a generated starting point, not a change anyone made."""

import bisect
import datetime
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from partycells.models import (
    Activity,
    ActivityRequest,
    BranchMember,
    MemberRole,
    TemporaryBranch,
    UnitKind,
)
from residents.models import Channel, RequestKind, RequestLog, RequestStatus, ResidentRequest

from ..models import (
    Building,
    Community,
    Compound,
    Disbursement,
    District,
    FundingAllocation,
    FundingSource,
    ItemCategory,
    ProgressUpdate,
    ProjectItem,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
    Role,
    StaffProfile,
    SubDistrict,
)
from .projects import month_end, split
from .registry import DEMO_PASSWORD

date = datetime.date
S = RequestStatus
Kind = FundingSource.Kind

# Liuzhou's districts, less 柳北区 (the district demo's own).
CITY_DISTRICTS = [
    ("城中区", "CZ"),
    ("鱼峰区", "YF"),
    ("柳南区", "LN"),
    ("柳江区", "LJ"),
    ("柳东新区", "LD"),
]
USER_PREFIX = "city-"
BATCH_YEARS = (2020, 2021, 2022, 2023, 2024)
PROGRESS_MONTHS = 24
FIRST_REQUEST_DAY, LAST_REQUEST_DAY = date(2021, 1, 1), date(2026, 10, 31)
# Today for the generated data: nothing is dated after it, whenever the data is loaded.
CITY_TODAY = date(2026, 11, 1)
BUILDINGS_PER_COMPOUND = 10
OLD_SHARE = 0.86
BATCH_SIZE = 5000
COPY_CHUNK = 20000
NULL = "\\N"  # COPY's text format for NULL

FULL = {
    "sub_districts": 50,
    "communities": 500,
    "compounds": 2500,
    "projects": 2000,
    "requests": 1_000_000,
    "branches": 200,
    "members": 5000,
    "activities": 10000,
}

REGULAR_SHARES = [
    (Kind.CENTRAL_FISCAL, Decimal("0.40")),
    (Kind.CENTRAL_BUDGET, Decimal("0.25")),
    (Kind.DISTRICT_MATCHING, Decimal("0.20")),
    (Kind.UTILITY, Decimal("0.10")),
    (Kind.RESIDENT, Decimal("0.05")),
]
ITEM_CODES = [
    "roof_waterproofing",
    "roads",
    "drainage",
    "greening",
    "parking_spaces",
    "ev_charging",
    "lighting",
    "water_supply",
]
SUB_DISTRICT_WORDS = "东西南北中新华兴和平安康宁乐福"
COMMUNITY_WORDS = ["路", "街", "村", "苑", "坊", "里", "湾", "岭", "园", "桥"]
COMPOUND_WORDS = ["宿舍", "新村", "小区", "花园", "家属区"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁韦覃蒙莫廖"
TITLES = ["先生", "女士", "阿姨", "大爷", "师傅"]
GIVEN = "建国华平明伟芳丽军强敏静磊洋勇艳杰娟涛超秀兰桂英志红玉霞春海"
WISHES = [
    ("roof_waterproofing", "顶楼漏水，希望做屋面防水。"),
    ("roads", "路面坑洼，希望重新铺路。"),
    ("drainage", "下水道经常堵，希望改造排水管。"),
    ("greening", "空地杂草多，希望搞绿化。"),
    ("parking_spaces", "车没地方停，希望划停车位。"),
    ("ev_charging", "电动车在楼道充电危险，希望装充电桩。"),
    ("lighting", "晚上路灯不亮，希望装公共照明。"),
    ("water_supply", "水管老化，希望换供水管。"),
    ("lifts", "老人腿脚不便，希望加装电梯。"),
    (None, "希望小区装一个快递柜。"),
]
OTHER_TEXTS = {
    RequestKind.ERRAND: ["代办高龄补贴申请。", "代办居住证明。", "代缴水电费。"],
    RequestKind.COMPLAINT: ["楼道堆放杂物，堵住通道。", "垃圾清运不及时，有异味。"],
    RequestKind.OBJECTION: ["施工噪音太大，希望调整施工时间。", "施工材料堆在楼下，出入不便。"],
}
DECLINE = "该事项不属于本次改造范围，已向居民说明。"
RESOLVED_NOTE = "已办结，居民认可。"
SETTLEMENT = "协商议事会议定：施工方调整作业时间，监督队跟踪落实。"
DUE_DAYS = {
    RequestKind.WISH: 30,
    RequestKind.OBJECTION: 7,
    RequestKind.ERRAND: 3,
    RequestKind.COMPLAINT: 15,
}


@dataclass(frozen=True)
class CityScale:
    """The sizes at a fraction of the full city (tests use a small one); every level keeps
    at least one row per parent, so the shape holds at any fraction."""

    fraction: float = 1.0

    def _n(self, name: str, minimum: int) -> int:
        return max(minimum, round(FULL[name] * self.fraction))

    @property
    def sub_districts(self) -> int:
        return self._n("sub_districts", len(CITY_DISTRICTS))

    @property
    def communities(self) -> int:
        return self._n("communities", self.sub_districts)

    @property
    def compounds(self) -> int:
        return self._n("compounds", self.communities)

    @property
    def buildings(self) -> int:
        return self.compounds * BUILDINGS_PER_COMPOUND

    @property
    def projects(self) -> int:
        return min(self._n("projects", len(BATCH_YEARS)), int(self.compounds * OLD_SHARE))

    @property
    def requests(self) -> int:
        return self._n("requests", 100)

    @property
    def branches(self) -> int:
        return min(self._n("branches", 1), self.communities)

    @property
    def members(self) -> int:
        return self._n("members", 5 * self.branches)

    @property
    def activities(self) -> int:
        return self._n("activities", self.branches)


def city_districts():
    return District.objects.filter(code__in=[code for _name, code in CITY_DISTRICTS])


def city_exists() -> bool:
    return city_districts().exists()


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise RuntimeError(
            "The city-scale demo needs PostgreSQL (it loads with COPY); set DATABASE_URL to a "
            "PostgreSQL database."
        )


@transaction.atomic
def city_load(*, fraction: float = 1.0, log: Callable[[str], None] = lambda _m: None) -> dict:
    """Load the city (skipped if its districts exist); return the row counts and the
    seconds each part took."""
    _require_postgresql()
    if city_exists():
        log("The city districts exist already: nothing loaded (use --reset to reload).")
        return city_counts()
    scale = CityScale(fraction)
    with connection.cursor() as cursor:
        # A bulk load: losing the last commit in a crash costs a reload, not data.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    timings: dict[str, float] = {}

    def step(name: str, function, *args):
        started = time.perf_counter()
        result = function(*args)
        timings[name] = round(time.perf_counter() - started, 1)
        log(f"  {name}: {timings[name]} s")
        return result

    places = step("registry", _load_registry, scale)
    users = step("users", _load_users, places)
    projects = step("projects", _load_projects, scale, places)
    step("money", _load_money, projects)
    step("requests", _load_requests, scale, places, projects, users)
    step("party branches", _load_party, scale, projects, users)
    step("analyse", _analyse)
    return {**city_counts(), "seconds": timings}


def city_counts() -> dict:
    districts = city_districts()
    compounds = Compound.objects.filter(community__sub_district__district__in=districts)
    projects = RenovationProject.objects.filter(compound__in=compounds)
    requests = ResidentRequest.objects.filter(compound__in=compounds)
    branches = TemporaryBranch.objects.filter(community__sub_district__district__in=districts)
    return {
        "districts": districts.count(),
        "sub_districts": SubDistrict.objects.filter(district__in=districts).count(),
        "communities": Community.objects.filter(sub_district__district__in=districts).count(),
        "compounds": compounds.count(),
        "buildings": Building.objects.filter(compound__in=compounds).count(),
        "projects": projects.count(),
        "progress_updates": ProgressUpdate.objects.filter(project__in=projects).count(),
        "transitions": ProjectTransition.objects.filter(project__in=projects).count(),
        "allocations": FundingAllocation.objects.filter(project__in=projects).count(),
        "payments": Disbursement.objects.filter(project__in=projects).count(),
        "requests": requests.count(),
        "request_logs": RequestLog.objects.filter(request__in=requests).count(),
        "branches": branches.count(),
        "members": BranchMember.objects.filter(branch__in=branches).count(),
        "activities": Activity.objects.filter(branch__in=branches).count(),
    }


# --- Registry and users ---------------------------------------------------------------------


@dataclass
class Places:
    districts: list[District]
    communities: list[Community]
    compounds: list[Compound]  # in community order
    # compound id → [(building id, units)], in number order
    buildings: dict[int, list[tuple[int, int]]]


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def _load_registry(scale: CityScale) -> Places:
    rng = random.Random("city-registry")
    districts = District.objects.bulk_create(
        [District(name=name, code=code) for name, code in CITY_DISTRICTS]
    )
    subs = []
    per_district = _spread(scale.sub_districts, len(districts))
    for district, count in zip(districts, per_district, strict=True):
        for number in range(1, count + 1):
            word = SUB_DISTRICT_WORDS[(number - 1) % len(SUB_DISTRICT_WORDS)]
            subs.append(
                SubDistrict(
                    district=district,
                    name=f"{district.name.removesuffix('区')}{word}{number}街道",
                    code=f"{district.code}{number:02d}",
                )
            )
    SubDistrict.objects.bulk_create(subs)
    communities = []
    for sub, count in zip(subs, _spread(scale.communities, len(subs)), strict=True):
        for number in range(1, count + 1):
            word = COMMUNITY_WORDS[(number - 1) % len(COMMUNITY_WORDS)]
            communities.append(
                Community(
                    sub_district=sub,
                    name=f"{sub.name.removesuffix('街道')}{word}{number}社区",
                    code=f"{sub.code}{number:02d}",
                )
            )
    Community.objects.bulk_create(communities, batch_size=BATCH_SIZE)
    compounds, plans = [], []
    for community, count in zip(
        communities, _spread(scale.compounds, len(communities)), strict=True
    ):
        for number in range(1, count + 1):
            is_old = rng.random() < OLD_SHARE
            units = [rng.randint(1, 3) for _ in range(BUILDINGS_PER_COMPOUND)]
            households = [
                rng.choice([12, 18, 24, 30, 36]) if is_old else rng.randint(60, 180)
                for _ in range(BUILDINGS_PER_COMPOUND)
            ]
            compounds.append(
                Compound(
                    community=community,
                    name=f"{community.name.removesuffix('社区')}"
                    f"{rng.choice(COMPOUND_WORDS)}{number}号院",
                    code=f"{community.code}-{number:03d}",
                    address=f"{community.name.removesuffix('社区')}路{rng.randint(1, 300)}号",
                    build_year=rng.randint(1965, 2000) if is_old else rng.randint(2001, 2018),
                    is_old=is_old,
                    origin=Compound.Origin.WORK_UNIT if is_old else Compound.Origin.REGULAR,
                    households=sum(households),
                    declared_building_count=BUILDINGS_PER_COMPOUND,
                    property_management=Compound.PropertyManagement.NONE
                    if is_old
                    else Compound.PropertyManagement.COMPANY,
                )
            )
            plans.append((units, households, is_old))
    Compound.objects.bulk_create(compounds, batch_size=BATCH_SIZE)
    buildings = []
    for compound, (units, households, is_old) in zip(compounds, plans, strict=True):
        for number in range(BUILDINGS_PER_COMPOUND):
            buildings.append(
                Building(
                    compound=compound,
                    number=f"{number + 1}栋",
                    floors=rng.randint(5, 7) if is_old else rng.randint(11, 33),
                    units=units[number],
                    households=households[number],
                )
            )
    Building.objects.bulk_create(buildings, batch_size=BATCH_SIZE)
    by_compound: dict[int, list[tuple[int, int]]] = {}
    for building in buildings:
        by_compound.setdefault(building.compound_id, []).append((building.pk, building.units))
    return Places(districts, communities, compounds, by_compound)


@dataclass
class Users:
    office: int
    grid: dict[int, int]  # community id → grid worker's user id
    staff: dict[int, int]  # community id → community staff's user id


def _load_users(places: Places) -> Users:
    """One grid worker and one staff member per community, one per sub-district, and the
    district-wide roles. One password hash for all: hashing thousands would take an hour."""
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)
    specs: list[tuple[str, Role, dict]] = [
        ("office", Role.PROGRAMME_OFFICE, {}),
        ("leader", Role.LEADER, {}),
        ("finance", Role.FINANCE, {}),
        ("organisation", Role.ORGANISATION, {}),
    ]
    subs = {c.sub_district_id: c.sub_district for c in places.communities}
    for sub in subs.values():
        specs.append((f"sub-{sub.code}", Role.SUB_DISTRICT_STAFF, {"sub_district": sub}))
    for community in places.communities:
        specs.append((f"staff-{community.code}", Role.COMMUNITY_STAFF, {"community": community}))
        specs.append((f"grid-{community.code}", Role.GRID_WORKER, {"community": community}))
    users = User.objects.bulk_create(
        [
            User(
                username=f"{USER_PREFIX}{name}",
                password=password,
                is_staff=role != Role.GRID_WORKER,
            )
            for name, role, _area in specs
        ],
        batch_size=BATCH_SIZE,
    )
    StaffProfile.objects.bulk_create(
        [
            StaffProfile(user=user, role=role, **area)
            for user, (_name, role, area) in zip(users, specs, strict=True)
        ],
        batch_size=BATCH_SIZE,
    )
    ids = {user.username: user.pk for user in users}
    return Users(
        office=ids[f"{USER_PREFIX}office"],
        grid={c.pk: ids[f"{USER_PREFIX}grid-{c.code}"] for c in places.communities},
        staff={c.pk: ids[f"{USER_PREFIX}staff-{c.code}"] for c in places.communities},
    )


# --- Projects -------------------------------------------------------------------------------


@dataclass
class Plan:
    project: RenovationProject
    community_id: int
    steps: list[tuple[str, date]]  # (status, effective on), in lifecycle order
    progress: list[tuple[date, int]]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _plan_project(rng: random.Random, compound: Compound, year: int, n_buildings: int) -> Plan:
    entered = date(year - 1, rng.randint(9, 11), rng.randint(1, 28))
    feasibility = date(year, 1, rng.randint(5, 25))
    approved = date(year, rng.randint(2, 3), rng.randint(1, 28))
    # Construction starts between April and November and reports for 24 month ends.
    start = date(year, rng.randint(4, 11), rng.randint(1, 20))
    months = [month_end(m.year, m.month) for m in (_add_months(start, i) for i in range(24))]
    finishes = rng.random() < 0.85  # the rest are still on site after 24 reports
    percents = []
    for number in range(1, PROGRESS_MONTHS + 1):
        target = round(100 * number / PROGRESS_MONTHS) if finishes else round(90 * number / 24)
        percents.append(max(1, min(99, target + rng.randint(-2, 2))))
    percents = [max(p, percents[i - 1]) if i else p for i, p in enumerate(percents)]
    steps = [
        (ProjectStatus.PIPELINE, entered),
        (ProjectStatus.FEASIBILITY, feasibility),
        (ProjectStatus.PLAN_APPROVED, approved),
        (ProjectStatus.UNDER_CONSTRUCTION, start),
    ]
    if finishes:
        percents[-1] = 100
        steps.append((ProjectStatus.COMPLETED, months[-1]))
        accepted = months[-1] + datetime.timedelta(days=rng.randint(45, 150))
        if accepted <= CITY_TODAY:
            steps.append((ProjectStatus.ACCEPTED, accepted))
    dates = dict(steps)
    budget = Decimal(compound.households * rng.randint(15000, 26000))
    project = RenovationProject(
        compound=compound,
        batch_year=year,
        name=f"{compound.name}老旧小区改造项目",
        is_key=rng.random() < 0.05,
        status=steps[-1][0],
        lead_unit="住房和城乡建设局",
        builder=rng.choice(["柳州市建筑工程集团有限公司", "广西建工集团第五建筑工程有限责任公司"]),
        supervisor="柳州市建设工程监理有限公司",
        households_benefited=compound.households,
        buildings_benefited=n_buildings,
        budget=budget,
        plan=f"{compound.name}改造方案：屋面防水、道路、排水、绿化、停车位、充电桩等。",
        planned_start=approved + datetime.timedelta(days=30),
        planned_finish=_add_months(start, rng.randint(20, 26)),
        feasibility_on=feasibility,
        plan_approved_on=approved,
        actual_start=start,
        actual_finish=dates.get(ProjectStatus.COMPLETED),
        accepted_on=dates.get(ProjectStatus.ACCEPTED),
    )
    return Plan(project, compound.community_id, steps, list(zip(months, percents, strict=True)))


def _load_projects(scale: CityScale, places: Places) -> list[Plan]:
    rng = random.Random("city-projects")
    old = [c for c in places.compounds if c.is_old]
    chosen = sorted(rng.sample(old, scale.projects), key=lambda c: c.pk)
    years = [BATCH_YEARS[i * len(BATCH_YEARS) // len(chosen)] for i in range(len(chosen))]
    rng.shuffle(years)
    plans = [
        _plan_project(rng, compound, year, len(places.buildings[compound.pk]))
        for compound, year in zip(chosen, years, strict=True)
    ]
    RenovationProject.objects.bulk_create([p.project for p in plans], batch_size=BATCH_SIZE)
    transitions, updates, items, covered = [], [], [], []
    categories = {c.code: c for c in ItemCategory.objects.filter(code__in=ITEM_CODES)}
    Through = RenovationProject.buildings.through
    for plan in plans:
        project = plan.project
        previous = ""
        for status, on in plan.steps:
            transitions.append(
                ProjectTransition(
                    project=project,
                    from_status=previous,
                    to_status=status,
                    effective_on=on,
                    created_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(9))),
                )
            )
            previous = status
        updates += [
            ProgressUpdate(project=project, recorded_on=on, percent=percent)
            for on, percent in plan.progress
        ]
        done = project.status in (ProjectStatus.COMPLETED, ProjectStatus.ACCEPTED)
        codes = rng.sample(ITEM_CODES, rng.randint(5, len(ITEM_CODES)))
        shares = [(code, Decimal(1) / len(codes)) for code in codes]
        for code, budget in split(project.budget, shares):
            category = categories.get(code)
            if category is None:  # the catalogue was edited: skip what it no longer has
                continue
            items.append(
                ProjectItem(
                    project=project,
                    category=category,
                    quantity=Decimal(rng.randint(5, 800)),
                    unit=category.default_unit,
                    budget=budget,
                    status=ProjectItem.Status.DONE if done else ProjectItem.Status.IN_PROGRESS,
                )
            )
        covered += [
            Through(renovationproject_id=project.pk, building_id=building_id)
            for building_id, _units in places.buildings[project.compound_id]
        ]
    ProjectTransition.objects.bulk_create(transitions, batch_size=BATCH_SIZE)
    ProgressUpdate.objects.bulk_create(updates, batch_size=BATCH_SIZE)
    ProjectItem.objects.bulk_create(items, batch_size=BATCH_SIZE)
    Through.objects.bulk_create(covered, batch_size=BATCH_SIZE)
    return plans


def _load_money(plans: list[Plan]) -> None:
    """Five allocations per project on its plan approval, sources sized to what they fund;
    payments of 30% on site, 40% half-way and the rest on acceptance."""
    district_of = dict(
        Compound.objects.filter(pk__in=[p.project.compound_id for p in plans]).values_list(
            "pk", "community__sub_district__district_id"
        )
    )
    money = {}
    totals: dict[tuple[int, int, str], Decimal] = {}
    for plan in plans:
        project = plan.project
        parts = split(project.budget, REGULAR_SHARES)
        money[project.pk] = parts
        for kind, amount in parts:
            key = (district_of[project.compound_id], project.batch_year, kind)
            totals[key] = totals.get(key, Decimal(0)) + amount
    codes = {d.pk: d.code for d in city_districts()}
    sources = {
        key: FundingSource(
            kind=key[2],
            year=key[1],
            name=f"{key[1]}年{codes[key[0]]}{Kind(key[2]).label}",
            document_number=f"柳{codes[key[0]]}财〔{key[1]}〕{number}号",
            amount=amount,
            received_on=date(key[1], 2, 20),
        )
        for number, (key, amount) in enumerate(sorted(totals.items()), start=1)
    }
    FundingSource.objects.bulk_create(sources.values(), batch_size=BATCH_SIZE)
    allocations, paid_plan = [], []
    for plan in plans:
        project = plan.project
        steps = dict(plan.steps)
        on = steps[ProjectStatus.PLAN_APPROVED] + datetime.timedelta(days=5)
        for kind, amount in money[project.pk]:
            source = sources[(district_of[project.compound_id], project.batch_year, kind)]
            allocation = FundingAllocation(source=source, project=project, amount=amount)
            allocation.allocated_on = on
            allocations.append(allocation)
            paid_plan.append((allocation, steps))
    FundingAllocation.objects.bulk_create(allocations, batch_size=BATCH_SIZE)
    payments = []
    for allocation, steps in paid_plan:
        start = steps[ProjectStatus.UNDER_CONSTRUCTION]
        dates = [
            (Decimal("0.3"), start + datetime.timedelta(days=10)),
            (Decimal("0.4"), _add_months(start, 12)),
        ]
        if ProjectStatus.ACCEPTED in steps:
            dates.append((None, steps[ProjectStatus.ACCEPTED]))
        paid = Decimal(0)
        for share, on in dates:
            if on > CITY_TODAY:
                continue
            amount = (
                allocation.amount - paid
                if share is None
                else (allocation.amount * share).quantize(Decimal("1"))
            )
            if amount <= 0:
                continue
            paid += amount
            payments.append(
                Disbursement(
                    allocation=allocation,
                    project_id=allocation.project_id,
                    amount=amount,
                    paid_on=on,
                    voucher=f"ZF{on:%Y%m%d}",
                )
            )
    Disbursement.objects.bulk_create(payments, batch_size=BATCH_SIZE)


# --- Resident requests (COPY) ---------------------------------------------------------------


def _copy(table: str, columns: list[str], lines: Iterable[str]) -> int:
    """Stream tab-separated lines into `table` with COPY, in chunks; return the rows."""
    rows = 0
    with connection.cursor() as cursor:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= COPY_CHUNK:
                    copy.write("".join(chunk))
                    rows += len(chunk)
                    chunk = []
            if chunk:
                copy.write("".join(chunk))
                rows += len(chunk)
    return rows


@contextmanager
def _bulk_loading(*models) -> Iterator[None]:
    """Drop the tables' foreign keys and secondary indexes for the load and build them again
    after it, as PostgreSQL's manual advises for bulk loads: one validating pass per key and
    one sort per index instead of a check and an index insert per row. All inside the load's
    transaction, so a failure leaves the schema as it was."""
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        # Run the checks still deferred from earlier inserts: a table with pending checks
        # cannot be altered. Everything is inserted parents first, so nothing needs deferring.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        # The triggers that touch the request lists' versions (residents/0006) run once per
        # row: off for the load, and every community touched once after it.
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute(
            "SELECT residents_touch_request_lists("
            "ARRAY(SELECT id FROM renovation_community UNION ALL SELECT 0))"
        )


def _reserve_ids(model, count: int) -> int:
    """The first of `count` consecutive ids taken from the table's sequence, so rows written
    with COPY can be referred to before they exist."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "GREATEST((SELECT COALESCE(MAX(id), 0) FROM " + table + "), "
            "nextval(pg_get_serial_sequence(%s, 'id'))) + %s)",
            [table, table, count],
        )
        last = cursor.fetchone()[0]
    return last - count + 1


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return [value / total for value in out]


KINDS = [RequestKind.WISH, RequestKind.OBJECTION, RequestKind.ERRAND, RequestKind.COMPLAINT]
KIND_CUM = _cumulative([55, 15, 20, 10])
CHANNELS = list(Channel)
CHANNEL_CUM = _cumulative([35, 12, 8, 20, 15, 10])


def _path(rng: random.Random, kind: str, age: int) -> list[str]:
    """The statuses a request went through, by kind and by its age in days."""
    roll = rng.random()
    if age < 10 and roll < 0.7:
        return [S.NEW] if roll < 0.35 else [S.NEW, S.UNDER_REVIEW]
    review = [S.NEW, S.UNDER_REVIEW]
    if kind == RequestKind.WISH:
        if roll < 0.12:
            return [*review, S.DECLINED]
        if roll < 0.2:
            return [*review, S.DEFERRED]
        if roll < 0.25 and age < 120:
            return review
        return [*review, S.ACCEPTED] if roll < 0.5 else [*review, S.ACCEPTED, S.RESOLVED]
    if kind == RequestKind.COMPLAINT and roll < 0.15:
        return [*review, S.DECLINED]
    if roll < 0.04:
        return [*review, S.ACCEPTED]
    return [*review, S.ACCEPTED, S.RESOLVED]


def _load_requests(scale: CityScale, places: Places, plans: list[Plan], users: Users) -> None:
    rng = random.Random("city-requests")
    zone = timezone.get_default_timezone()
    epoch = datetime.datetime.combine(FIRST_REQUEST_DAY, datetime.time.min, tzinfo=zone)
    span = (LAST_REQUEST_DAY - FIRST_REQUEST_DAY).days + 1
    days = [FIRST_REQUEST_DAY + datetime.timedelta(days=d) for d in range(span + 400)]
    day_text = [d.isoformat() for d in days]
    offset = epoch.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"

    def stamp(seconds: int) -> str:
        day, rest = divmod(seconds, 86400)
        hour, rest = divmod(rest, 3600)
        return f"{day_text[day]} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}{offset}"

    codes = [code for code, _text in WISHES if code]
    categories = {c.code: c.pk for c in ItemCategory.objects.filter(code__in=codes)}
    wishes = [(str(categories.get(code, NULL)), text) for code, text in WISHES]
    sites = {}
    for plan in plans:
        steps = dict(plan.steps)
        start = max(steps[ProjectStatus.UNDER_CONSTRUCTION], FIRST_REQUEST_DAY)
        finish = min(steps.get(ProjectStatus.COMPLETED, LAST_REQUEST_DAY), LAST_REQUEST_DAY)
        if finish > start:
            sites[plan.project.compound_id] = (
                plan.project.pk,
                (start - FIRST_REQUEST_DAY).days,
                (finish - start).days,
            )
    compounds = [(c.pk, c.community_id) for c in places.compounds]
    n_compounds = len(compounds)
    now = stamp(span * 86400 - 1)
    total = scale.requests
    first_id = _reserve_ids(ResidentRequest, total)
    # The logs wait in a file while the requests stream in: millions of short strings
    # would take more memory than the rest of the load.
    logs = tempfile.TemporaryFile("w+", encoding="utf-8")
    write_log = logs.write
    random_ = rng.random

    def requests() -> Iterator[str]:
        for number in range(total):
            pk = first_id + number
            compound_id, community_id = compounds[int(random_() * n_compounds)]
            kind = KINDS[bisect.bisect(KIND_CUM, random_())]
            project = NULL
            site = sites.get(compound_id)
            if kind == RequestKind.OBJECTION and site is None:
                kind = RequestKind.COMPLAINT
            if kind == RequestKind.OBJECTION:
                project = str(site[0])
                day = site[1] + int(random_() * site[2])
            else:
                day = int(random_() * span)
            seconds = day * 86400 + 8 * 3600 + int(random_() * 11 * 3600)
            channel = CHANNELS[bisect.bisect(CHANNEL_CUM, random_())]
            if channel == Channel.ONLINE:
                logged_by = NULL
            elif channel == Channel.DOOR_TO_DOOR:
                logged_by = str(users.grid[community_id])
            else:
                logged_by = str(users.staff[community_id])
            buildings = places.buildings[compound_id]
            building_id, units = buildings[int(random_() * len(buildings))]
            unit = 1 + int(random_() * units)
            if kind == RequestKind.WISH:
                category, text = wishes[int(random_() * len(wishes))]
            else:
                texts = OTHER_TEXTS[kind]
                category, text = NULL, texts[int(random_() * len(texts))]
            path = _path(rng, kind, span - day)
            status = path[-1]
            assigned = (
                str(users.grid[community_id]) if status != S.NEW and random_() < 0.5 else NULL
            )
            answer = settled_on = settlement = ""
            settled_by = NULL
            if status == S.DECLINED:
                answer = DECLINE
            elif status == S.RESOLVED:
                answer = RESOLVED_NOTE
            at = seconds
            previous = ""
            for step in path:
                note = answer if step in (S.DECLINED, S.RESOLVED) else ""
                by = logged_by if previous == "" else assigned
                write_log(f"{pk}\t{previous}\t{step}\t{note}\t{by}\t{stamp(at)}\n")
                previous = step
                at += 86400 * (1 + int(random_() * 3)) + int(random_() * 5) * 3600
            if kind == RequestKind.OBJECTION and status == S.RESOLVED:
                settlement = answer = SETTLEMENT
                settled_on = day_text[min(at // 86400, span - 1)]
                settled_by = str(users.staff[community_id])
            phone = f"1{'3589'[int(random_() * 4)]}{int(random_() * 1e9):09d}"
            name = SURNAMES[int(random_() * len(SURNAMES))] + TITLES[int(random_() * 5)]
            verified = "f" if channel == Channel.ONLINE and status == S.NEW else "t"
            due = day_text[day + DUE_DAYS[kind]]
            yield (
                f"{pk}\t{kind}\t{channel}\t{status}\t{compound_id}\t{building_id}\t{unit}\t"
                f"{1 + int(random_() * 7)}0{1 + int(random_() * 4)}\t{category}\t{text}\t"
                f"{name}\t{phone}\t{verified}\t{logged_by}\t{stamp(seconds)}\t{assigned}\t"
                f"{due}\t{answer}\t{project}\t{NULL}\t{NULL}\t{settled_on or NULL}\t{settled_by}\t"
                f"{settlement}\t{now}\n"
            )

    columns = [f.column for f in ResidentRequest._meta.concrete_fields]
    log_columns = ["request_id", "from_status", "to_status", "note", "by_id", "at"]
    with logs, _bulk_loading(ResidentRequest, RequestLog):
        # Requests first, then the logs gathered on the way.
        _copy(ResidentRequest._meta.db_table, columns, requests())
        logs.seek(0)
        _copy(RequestLog._meta.db_table, log_columns, logs)


# --- Party branches -------------------------------------------------------------------------


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _load_party(scale: CityScale, plans: list[Plan], users: Users) -> None:
    """A branch for the projects of each of the first communities that have any, founded
    when the first plan was approved and dissolved when the last project was accepted."""
    rng = random.Random("city-party")
    by_community: dict[int, list[Plan]] = {}
    for plan in plans:
        by_community.setdefault(plan.community_id, []).append(plan)
    chosen = sorted(by_community)[: scale.branches]
    branches, links = [], []
    for community_id in chosen:
        group = by_community[community_id]
        founded = min(dict(p.steps)[ProjectStatus.PLAN_APPROVED] for p in group)
        accepted = [dict(p.steps).get(ProjectStatus.ACCEPTED) for p in group]
        dissolved = max(accepted) if all(accepted) else None
        branch = TemporaryBranch(
            name=f"老旧小区改造一线临时党支部（{group[0].project.compound.name}等）",
            community_id=community_id,
            founded_on=founded,
            dissolved_on=dissolved,
            dissolved_because=TemporaryBranch.DissolvedBecause.ACCEPTED if dissolved else "",
        )
        branches.append(branch)
        links += [(branch, p.project.pk) for p in group]
    TemporaryBranch.objects.bulk_create(branches, batch_size=BATCH_SIZE)
    Through = TemporaryBranch.projects.through
    Through.objects.bulk_create(
        [Through(temporarybranch_id=b.pk, renovationproject_id=pk) for b, pk in links],
        batch_size=BATCH_SIZE,
    )
    per_branch = _spread(scale.members, len(branches))
    members = []
    leading = [MemberRole.FIRST_SECRETARY, MemberRole.SECRETARY, MemberRole.DEPUTY]
    for branch, count in zip(branches, per_branch, strict=True):
        for number in range(count):
            role = (
                leading[number]
                if number < len(leading)
                else (MemberRole.COMMITTEE_MEMBER if number < 6 else MemberRole.MEMBER)
            )
            trainee = number == 6
            members.append(
                BranchMember(
                    branch=branch,
                    name=_person(rng),
                    unit_kind=UnitKind.DISPATCHED_CADRE
                    if trainee
                    else rng.choice([UnitKind.COMMUNITY, UnitKind.BUILDER, UnitKind.LEAD_UNIT]),
                    unit_name="派驻单位",
                    role=role,
                    is_trainee=trainee,
                    joined_on=branch.founded_on,
                    left_on=branch.dissolved_on,
                )
            )
    BranchMember.objects.bulk_create(members, batch_size=BATCH_SIZE)
    activities = []
    kinds = list(Activity.Kind)
    for branch, count in zip(branches, _spread(scale.activities, len(branches)), strict=True):
        last = min(branch.dissolved_on or CITY_TODAY, CITY_TODAY)
        span = max((last - branch.founded_on).days, 1)
        for _ in range(count):
            kind = rng.choice(kinds)
            activities.append(
                Activity(
                    branch=branch,
                    kind=kind,
                    held_on=branch.founded_on + datetime.timedelta(days=rng.randrange(span)),
                    place="小区党群议事点",
                    participants=rng.randint(5, 40),
                    households_visited=rng.randint(10, 80)
                    if kind == Activity.Kind.MOBILISATION_DAY
                    else 0,
                    recorded_by_id=users.staff[branch.community_id],
                    created_at=timezone.make_aware(
                        datetime.datetime.combine(branch.founded_on, datetime.time(9))
                    ),
                )
            )
    Activity.objects.bulk_create(activities, batch_size=BATCH_SIZE)
    # Opinions collected: requests logged at a party meeting in the branch's community within
    # a week after an opinion collection day, each counted once.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ActivityRequest._meta.db_table} (activity_id, request_id)
            SELECT DISTINCT ON (r.id) a.id, r.id
            FROM {Activity._meta.db_table} a
            JOIN {TemporaryBranch._meta.db_table} b ON b.id = a.branch_id
            JOIN {Compound._meta.db_table} c ON c.community_id = b.community_id
            JOIN {ResidentRequest._meta.db_table} r ON r.compound_id = c.id
            WHERE a.kind = %s AND b.id = ANY(%s) AND r.channel = %s
              AND r.logged_at >= a.held_on AND r.logged_at < a.held_on + 7
            ORDER BY r.id, a.held_on, a.id
            """,
            [Activity.Kind.OPINION_DAY, [b.pk for b in branches], Channel.PARTY_MEETING],
        )


def _analyse() -> None:
    """Fresh planner statistics, so the first queries after a load are planned well."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- Reset ----------------------------------------------------------------------------------


@transaction.atomic
def city_reset() -> None:
    """Remove the city districts with everything hanging from them, including what people
    (or the load benchmark) added there since, and the city users."""
    _require_postgresql()
    districts = list(city_districts().values_list("pk", flat=True))
    if not districts:
        return
    compounds = (
        "SELECT c.id FROM renovation_compound c JOIN renovation_community m ON m.id = "
        "c.community_id JOIN renovation_subdistrict s ON s.id = m.sub_district_id "
        "WHERE s.district_id = ANY(%(d)s)"
    )
    communities = (
        "SELECT m.id FROM renovation_community m JOIN renovation_subdistrict s ON "
        "s.id = m.sub_district_id WHERE s.district_id = ANY(%(d)s)"
    )
    projects = f"SELECT id FROM renovation_renovationproject WHERE compound_id IN ({compounds})"
    requests = f"SELECT id FROM residents_residentrequest WHERE compound_id IN ({compounds})"
    branches = f"SELECT id FROM partycells_temporarybranch WHERE community_id IN ({communities})"
    statements = [
        f"DELETE FROM partycells_activityrequest WHERE request_id IN ({requests})",
        f"DELETE FROM partycells_activityrequest WHERE activity_id IN "
        f"(SELECT id FROM partycells_activity WHERE branch_id IN ({branches}))",
        f"DELETE FROM partycells_activity WHERE branch_id IN ({branches})",
        f"DELETE FROM partycells_branchmember WHERE branch_id IN ({branches})",
        f"DELETE FROM partycells_temporarybranch_projects WHERE temporarybranch_id IN ({branches})",
        f"DELETE FROM partycells_temporarybranch WHERE id IN ({branches})",
        f"DELETE FROM residents_requestlog WHERE request_id IN ({requests})",
        f"DELETE FROM residents_historicalresidentrequest WHERE compound_id IN ({compounds})",
        f"DELETE FROM residents_residentrequest WHERE id IN ({requests})",
        f"DELETE FROM residents_compoundpage WHERE compound_id IN ({compounds})",
        f"DELETE FROM renovation_disbursement WHERE project_id IN ({projects})",
        "CREATE TEMP TABLE city_sources ON COMMIT DROP AS SELECT DISTINCT source_id AS id "
        f"FROM renovation_fundingallocation WHERE project_id IN ({projects})",
        f"DELETE FROM renovation_fundingallocation WHERE project_id IN ({projects})",
        "DELETE FROM renovation_fundingsource WHERE id IN (SELECT id FROM city_sources) AND NOT "
        "EXISTS (SELECT 1 FROM renovation_fundingallocation a WHERE a.source_id = "
        "renovation_fundingsource.id)",
        f"DELETE FROM renovation_progressupdate WHERE project_id IN ({projects})",
        f"DELETE FROM renovation_projecttransition WHERE project_id IN ({projects})",
        f"DELETE FROM renovation_projectitem WHERE project_id IN ({projects})",
        f"DELETE FROM renovation_renovationproject_buildings WHERE renovationproject_id IN "
        f"({projects})",
        f"DELETE FROM renovation_renovationproject WHERE id IN ({projects})",
        f"DELETE FROM renovation_building WHERE compound_id IN ({compounds})",
        f"DELETE FROM renovation_compound WHERE id IN ({compounds})",
        f"DELETE FROM renovation_staffprofile WHERE community_id IN ({communities}) OR "
        "sub_district_id IN (SELECT id FROM renovation_subdistrict WHERE district_id = "
        "ANY(%(d)s))",
        f"DELETE FROM renovation_community WHERE id IN ({communities})",
        "DELETE FROM renovation_subdistrict WHERE district_id = ANY(%(d)s)",
        "DELETE FROM renovation_district WHERE id = ANY(%(d)s)",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, {"d": districts})
    User = get_user_model()
    city_users = User.objects.filter(username__startswith=USER_PREFIX)
    StaffProfile.objects.filter(user__in=city_users).delete()
    city_users.delete()

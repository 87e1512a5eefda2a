"""Fictional residents' data for the demo district: a few thousand requests over 2021–2022
across kinds, channels and statuses; passed willingness surveys for every compound put into
a project (some buildings of the 2022 batch below the threshold); demand lists for the 2022
batch; station hours and slots; public pages.

Rows are written with bulk_create from fixed seeds: loading twice changes nothing."""

import datetime
import random
from fractions import Fraction

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Min
from django.utils import timezone

from renovation.models import (
    Building,
    Community,
    Compound,
    District,
    ItemCategory,
    ProjectItem,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
)

from .models import (
    Channel,
    CompoundPage,
    DemandList,
    DemandListItem,
    ErrandBooking,
    RequestKind,
    RequestLog,
    RequestStatus,
    ResidentRequest,
    ServiceHours,
    ServiceSlot,
    Survey,
    SurveyAnswer,
)
from .selectors import unit_households

S = RequestStatus
date = datetime.date
REQUESTS = 3000
FIRST_DAY, LAST_DAY = date(2021, 1, 1), date(2022, 12, 31)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁韦覃蒙莫廖"
TITLES = ["先生", "女士", "阿姨", "大爷", "师傅"]
WISH_CATEGORIES = [
    ("roof_waterproofing", "顶楼漏水，雨天屋里滴水，希望做屋面防水。"),
    ("roads", "小区路面坑洼，老人走路容易摔，希望重新铺路。"),
    ("drainage", "下水道经常堵，雨天积水，希望改造排水管。"),
    ("greening", "空地杂草多，希望种点树、搞绿化。"),
    ("parking_spaces", "车没地方停，希望划停车位。"),
    ("ev_charging", "电动车在楼道充电危险，希望装充电桩。"),
    ("lighting", "晚上路灯不亮，希望装公共照明。"),
    ("fire_safety", "楼道没有灭火器，希望配消防设施。"),
    ("water_supply", "水管老化，水压小还发黄，希望换供水管。"),
    ("lifts", "家里老人腿脚不便，希望加装电梯。"),
    (None, "希望小区装一个快递柜。"),
]
ERRANDS = [
    "代办高龄补贴申请。",
    "代办居住证明。",
    "代缴水电费，老人不会用手机。",
    "代办医保报销材料。",
    "代办残疾人证年审。",
]
COMPLAINTS = [
    "楼下商户噪音大，晚上十点后还在营业。",
    "楼道堆放杂物，堵住通道。",
    "有人在绿化带种菜。",
    "垃圾清运不及时，有异味。",
]
OBJECTIONS = [
    "施工噪音太大，中午也在打钻，希望调整施工时间。",
    "脚手架挡住窗户，担心安全，希望加装防护网。",
    "新铺的路比我家门口高，下雨会倒灌。",
    "施工材料堆在楼下，出入不方便。",
    "空调外机被拆了没装回去。",
]
OUTCOMES = [
    "协商议事会议定：午间12:00-14:30停止高噪音作业，施工方已承诺。",
    "议定由施工方加装防护网，监督队跟踪落实。",
    "议定调整路面标高并加设排水沟，居民代表认可。",
    "议定材料集中堆放至空地，每日清理。",
]
DECLINES = [
    "该事项不属于本次改造范围，已转物业公司处理。",
    "经现场查看，该问题已由管线单位修复。",
    "多数住户不同意，暂不实施，已向居民说明。",
]


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(TITLES)


def _rooms(building: Building) -> list[tuple[int, str]]:
    """(unit, room) of every household: rooms numbered floor then door, e.g. 302."""
    rooms = []
    for unit, households in enumerate(unit_households(building), start=1):
        per_floor = max(1, -(-households // building.floors))
        for index in range(households):
            rooms.append((unit, f"{index // per_floor + 1}{index % per_floor + 1:02d}"))
    return rooms


def _survey_rows(rng, survey, buildings, rates) -> list[SurveyAnswer]:
    rows = []
    for building, rate in zip(buildings, rates, strict=True):
        for unit, room in _rooms(building):
            roll = rng.random()
            if roll < rate:
                answer = SurveyAnswer.Answer.YES
            elif roll < rate + (1 - rate) * 0.6:
                answer = SurveyAnswer.Answer.NO
            else:
                answer = SurveyAnswer.Answer.NOT_REACHED
            rows.append(
                SurveyAnswer(
                    survey=survey,
                    building=building,
                    unit_number=unit,
                    room=room,
                    answer=answer,
                    answered_on=survey.started_on + datetime.timedelta(days=rng.randint(0, 20)),
                    recorded_by=survey.created_by,
                )
            )
    return rows


def willingness_survey_passed(compound: Compound, *, closed_on: date, user, below: bool) -> None:
    """A closed willingness survey that passes the threshold, closed on `closed_on`. With
    `below`, one building of a compound with three or more stays under the threshold: the
    compound passes, that building's stairwells need more persuading."""
    if Survey.objects.filter(
        compound=compound, kind=Survey.Kind.WILLINGNESS, status=Survey.Status.CLOSED
    ).exists():
        return
    rng = random.Random(f"willingness-{compound.code}")
    buildings = list(Building.objects.filter(compound=compound).order_by("number"))
    rates = [rng.uniform(0.82, 0.96) for _ in buildings]
    if below and len(buildings) >= 3:
        rates[rng.randrange(len(buildings))] = rng.uniform(0.45, 0.6)
    survey = Survey.objects.create(
        compound=compound,
        kind=Survey.Kind.WILLINGNESS,
        status=Survey.Status.CLOSED,
        started_on=closed_on - datetime.timedelta(days=30),
        closed_on=closed_on,
        created_by=user,
    )
    rows = _survey_rows(rng, survey, buildings, rates)
    households = max(compound.households, len(rows))
    agree = sum(1 for r in rows if r.answer == SurveyAnswer.Answer.YES)
    # Top up the consenting buildings until the compound as a whole passes.
    for row in rows:
        if Fraction(agree, households) >= settings.WILLINGNESS_THRESHOLD:
            break
        if row.answer != SurveyAnswer.Answer.YES and rates[buildings.index(row.building)] > 0.7:
            row.answer = SurveyAnswer.Answer.YES
            agree += 1
    SurveyAnswer.objects.bulk_create(rows, batch_size=2000)


def residents_load(district: District) -> None:
    compounds = Compound.objects.filter(community__sub_district__district=district)
    if ResidentRequest.objects.filter(compound__in=compounds).exists():
        return
    rng = random.Random(2021)
    office = get_user_model().objects.get(username="office")
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=["grid", "guangyue"])
    }
    communities = list(Community.objects.filter(sub_district__district=district))
    _load_pages(compounds)
    _load_station(rng, communities, users)
    projects = {
        p.compound_id: p
        for p in RenovationProject.objects.filter(compound__in=compounds)
        .select_related("compound")
        .order_by("batch_year")
    }
    _load_requests(rng, compounds, projects, users)
    _load_demand_lists(rng, [p for p in projects.values() if p.batch_year == 2022], office)
    _load_satisfaction(rng, [p for p in projects.values() if p.batch_year == 2021], office)


def _load_pages(compounds) -> None:
    have = set(CompoundPage.objects.filter(compound__in=compounds).values_list("compound_id"))
    CompoundPage.objects.bulk_create(
        [
            CompoundPage(compound=c)
            for c in compounds.filter(projects__isnull=False).distinct()
            if (c.pk,) not in have
        ]
    )


def _load_station(rng, communities, users) -> None:
    hours, slots = [], []
    for community in communities:
        place = f"{community.name}党群服务中心"
        for weekday in (1, 3):
            hours.append(
                ServiceHours(
                    community=community,
                    weekday=weekday,
                    opens_at=datetime.time(9, 0),
                    closes_at=datetime.time(11, 30),
                    place=place,
                )
            )
        hours.append(
            ServiceHours(
                community=community,
                weekday=5,
                opens_at=datetime.time(9, 0),
                closes_at=datetime.time(11, 0),
                place=place,
            )
        )
        # Bookable afternoons over the next two weeks, so the demo can book.
        today = timezone.localdate()
        for offset in range(1, 15):
            day = today + datetime.timedelta(days=offset)
            if day.weekday() in (0, 2, 4):
                for hour in (15, 16):
                    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))
                    slots.append(
                        ServiceSlot(
                            community=community,
                            starts_at=start,
                            ends_at=start + datetime.timedelta(minutes=45),
                            place=place,
                        )
                    )
    ServiceHours.objects.bulk_create(hours)
    ServiceSlot.objects.bulk_create(slots)


def _moment(day: date, rng) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(rng.randint(8, 19), rng.randint(0, 59)))
    )


def _path(rng, kind: str, age: int, has_items: bool) -> list[str]:
    """The statuses a request went through, by kind and by how long ago it was logged."""
    if age < 10 and rng.random() < 0.7:
        return [S.NEW] if rng.random() < 0.5 else [S.NEW, S.UNDER_REVIEW]
    review = [S.NEW, S.UNDER_REVIEW]
    roll = rng.random()
    if kind == RequestKind.WISH:
        if roll < 0.12:
            return [*review, S.DECLINED]
        if roll < 0.2:
            return [*review, S.DEFERRED]
        if roll < 0.25 and age < 120:
            return review
        if has_items:
            return [*review, S.ACCEPTED]  # the demand list decides what happens next
        return [*review, S.ACCEPTED] if roll < 0.7 else [*review, S.ACCEPTED, S.RESOLVED]
    if kind == RequestKind.COMPLAINT and roll < 0.15:
        return [*review, S.DECLINED]
    if roll < 0.04:
        return [*review, S.ACCEPTED]  # still open: overdue
    return [*review, S.ACCEPTED, S.RESOLVED]


def _load_requests(rng, compounds, projects, users) -> None:
    old = list(compounds.filter(is_old=True).select_related("community").order_by("code"))
    buildings: dict[int, list[Building]] = {}
    for building in Building.objects.filter(compound__in=old).order_by("number"):
        buildings.setdefault(building.compound_id, []).append(building)
    categories = {c.code: c for c in ItemCategory.objects.all()}
    batch_2022 = [c for c in old if c.pk in projects and projects[c.pk].batch_year == 2022]
    # Where construction ran, and when: objections are logged then.
    building_sites = {
        p.compound_id: (p.actual_start, p.actual_finish or LAST_DAY)
        for p in projects.values()
        if p.actual_start
        and p.actual_start <= LAST_DAY
        and (p.actual_finish is None or p.actual_finish > FIRST_DAY + datetime.timedelta(days=30))
    }
    grid, staff = users.get("grid"), users.get("guangyue")
    sites = [c for c in old if c.pk in building_sites]
    span = (LAST_DAY - FIRST_DAY).days
    requests, paths = [], []
    for _ in range(REQUESTS):
        kind = rng.choices(
            [RequestKind.WISH, RequestKind.OBJECTION, RequestKind.ERRAND, RequestKind.COMPLAINT],
            weights=[55, 15, 20, 10],
        )[0]
        project = None
        if kind == RequestKind.OBJECTION:
            compound = rng.choice(sites)
            start, finish = building_sites[compound.pk]
            start, finish = max(start, FIRST_DAY), min(finish, LAST_DAY)
            if finish <= start:
                continue
            day = start + datetime.timedelta(days=rng.randint(0, (finish - start).days))
            project = projects[compound.pk]
        else:
            compound = rng.choice(batch_2022) if rng.random() < 0.35 else rng.choice(old)
            day = FIRST_DAY + datetime.timedelta(days=rng.randint(0, span))
            if kind == RequestKind.WISH and compound in batch_2022:
                day = date(2021, rng.randint(3, 9), rng.randint(1, 28))
        if kind == RequestKind.WISH:
            code, text = rng.choice(WISH_CATEGORIES)
            category = categories.get(code) if code else None
        else:
            category = None
            text = rng.choice(
                {
                    RequestKind.ERRAND: ERRANDS,
                    RequestKind.COMPLAINT: COMPLAINTS,
                    RequestKind.OBJECTION: OBJECTIONS,
                }[kind]
            )
        building = rng.choice(buildings[compound.pk]) if buildings.get(compound.pk) else None
        unit = rng.randint(1, building.units) if building else None
        channel = rng.choices(
            list(Channel),
            weights=[35, 12, 8, 20, 15, 10],
        )[0]
        gy = compound.community.code == "GY"
        logger = None
        if channel != Channel.ONLINE and gy:
            logger = grid if channel == Channel.DOOR_TO_DOOR else staff
        logged_at = _moment(day, rng)
        days = {
            RequestKind.ERRAND: settings.RESIDENTS_ERRAND_DAYS,
            RequestKind.OBJECTION: settings.RESIDENTS_OBJECTION_DAYS,
            RequestKind.COMPLAINT: settings.RESIDENTS_COMPLAINT_DAYS,
            RequestKind.WISH: settings.RESIDENTS_WISH_DAYS,
        }[kind]
        in_list = kind == RequestKind.WISH and compound in batch_2022
        path = _path(rng, kind, (LAST_DAY - day).days, in_list)
        request = ResidentRequest(
            kind=kind,
            channel=channel,
            status=path[-1],
            compound=compound,
            building=building,
            unit_number=unit,
            room=f"{rng.randint(1, 7)}0{rng.randint(1, 4)}" if building else "",
            category=category,
            description=text,
            contact_name=_name(rng),
            contact_phone=_phone(rng),
            is_verified=path[-1] != S.NEW or channel != Channel.ONLINE,
            logged_by=logger,
            logged_at=logged_at,
            assigned_to=grid if gy and path[-1] != S.NEW and rng.random() < 0.5 else None,
            due_on=day + datetime.timedelta(days=days),
            project=project,
        )
        if path[-1] == S.DECLINED:
            request.answer = rng.choice(DECLINES)
        if kind == RequestKind.OBJECTION and path[-1] == S.RESOLVED:
            request.settlement = request.answer = rng.choice(OUTCOMES)
            request.settled_on = min(day + datetime.timedelta(days=rng.randint(2, 7)), LAST_DAY)
            request.settled_by = staff if gy else None
        requests.append(request)
        paths.append(path)
    ResidentRequest.objects.bulk_create(requests, batch_size=1000)
    logs = []
    for request, path in zip(requests, paths, strict=True):
        at = request.logged_at
        previous = ""
        for status in path:
            logs.append(
                RequestLog(
                    request=request,
                    from_status=previous,
                    to_status=status,
                    note=request.answer if status in (S.DECLINED, S.RESOLVED) else "",
                    by=request.logged_by if previous == "" else request.assigned_to,
                    at=at,
                )
            )
            previous = status
            at += datetime.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
    RequestLog.objects.bulk_create(logs, batch_size=2000)


def _load_demand_lists(rng, projects: list[RenovationProject], office) -> None:
    """One sent and received list per 2022-batch compound, reviewed at a council before the
    compound entered the pipeline; its lines became project items, its wishes planned."""
    entered = dict(
        ProjectTransition.objects.filter(project__in=projects)
        .values_list("project_id")
        .annotate(first=Min("effective_on"))
    )
    items_by_project: dict[int, dict[int, ProjectItem]] = {}
    for item in ProjectItem.objects.filter(project__in=projects).order_by("pk"):
        items_by_project.setdefault(item.project_id, {}).setdefault(item.category_id, item)
    for project in projects:
        day = entered[project.pk]
        demand_list = DemandList.objects.create(
            compound=project.compound,
            status=DemandList.Status.RECEIVED,
            reviewed_on=day - datetime.timedelta(days=20),
            reviewed_at=DemandList.Meeting.COUNCIL,
            review_note="居民议事会逐项审议，一致同意上报。",
            sent_on=day - datetime.timedelta(days=15),
            sent_by=None,
            received_on=day - datetime.timedelta(days=10),
            received_by=office,
            created_by=office,
            created_at=_moment(day - datetime.timedelta(days=40), rng),
        )
        wishes = list(
            ResidentRequest.objects.filter(
                compound=project.compound,
                kind=RequestKind.WISH,
                status=S.ACCEPTED,
                logged_at__date__lt=demand_list.reviewed_on,
            )
        )
        groups: dict[int | None, list[ResidentRequest]] = {}
        for wish in wishes:
            groups.setdefault(wish.category_id, []).append(wish)
        project_items = items_by_project.get(project.pk, {})
        # As the demo stands at the end of 2022: later finishes leave their wishes planned.
        finished = bool(project.actual_finish and project.actual_finish <= LAST_DAY)
        lines, logs = [], []
        for category_id, group in groups.items():
            item = project_items.get(category_id)
            households = {(w.building_id, w.unit_number, w.room) for w in group}
            lines.append(
                DemandListItem(
                    demand_list=demand_list,
                    category_id=category_id,
                    households=len(households),
                    requests=len(group),
                    summary="\n".join(w.description for w in group[:5]),
                    project_item=item,
                )
            )
            for wish in group:
                wish.demand_list = demand_list
                if item is None:
                    continue
                wish.project_item, wish.project = item, project
                wish.status = S.RESOLVED if finished else S.PLANNED
                at = _moment(demand_list.received_on + datetime.timedelta(days=3), rng)
                logs.append(
                    RequestLog(
                        request=wish, from_status=S.ACCEPTED, to_status=S.PLANNED, by=office, at=at
                    )
                )
                if finished:
                    logs.append(
                        RequestLog(
                            request=wish,
                            from_status=S.PLANNED,
                            to_status=S.RESOLVED,
                            by=office,
                            at=_moment(project.actual_finish, rng),
                        )
                    )
        DemandListItem.objects.bulk_create(lines)
        ResidentRequest.objects.bulk_update(
            wishes, ["demand_list", "project_item", "project", "status"], batch_size=500
        )
        RequestLog.objects.bulk_create(logs)


def _load_satisfaction(rng, projects: list[RenovationProject], office) -> None:
    """Satisfaction surveys after the 2021 projects were accepted."""
    for project in projects:
        if project.status != ProjectStatus.ACCEPTED:
            continue
        buildings = list(Building.objects.filter(compound=project.compound).order_by("number"))
        survey = Survey.objects.create(
            compound=project.compound,
            kind=Survey.Kind.SATISFACTION,
            status=Survey.Status.CLOSED,
            project=project,
            started_on=project.accepted_on,
            closed_on=project.accepted_on + datetime.timedelta(days=25),
            created_by=office,
        )
        rates = [rng.uniform(0.85, 0.98) for _ in buildings]
        SurveyAnswer.objects.bulk_create(_survey_rows(rng, survey, buildings, rates))


def residents_reset(district: District) -> None:
    compounds = Compound.objects.filter(community__sub_district__district=district)
    requests = ResidentRequest.objects.filter(compound__in=compounds)
    ErrandBooking.objects.filter(request__in=requests).delete()
    RequestLog.objects.filter(request__in=requests).delete()
    requests.delete()
    DemandListItem.objects.filter(demand_list__compound__in=compounds).delete()
    DemandList.objects.filter(compound__in=compounds).delete()
    SurveyAnswer.objects.filter(survey__compound__in=compounds).delete()
    Survey.objects.filter(compound__in=compounds).delete()
    ServiceSlot.objects.filter(community__sub_district__district=district).delete()
    ServiceHours.objects.filter(community__sub_district__district=district).delete()
    CompoundPage.objects.filter(compound__in=compounds).delete()

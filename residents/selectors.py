"""Reads of residents' data, scoped to the person asking and joined for the page that
shows them; and the one rule deciding who sees a resident's phone number in full."""

import datetime
import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection, connections
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import cached_property

from renovation.access import get_profile, scope_queryset
from renovation.cache import cached_as_of, keep_as_of, query_digest
from renovation.models import (
    Building,
    Community,
    Compound,
    ItemCategory,
    ProgressUpdate,
    ProjectItem,
    RenovationProject,
    Role,
)
from renovation.paging import page_number

from .models import (
    CompoundPage,
    DemandList,
    DemandListItem,
    ErrandBooking,
    RequestKind,
    RequestListVersion,
    RequestLog,
    RequestStatus,
    ResidentRequest,
    ServiceHours,
    ServiceSlot,
    Survey,
    SurveyAnswer,
    overdue_q,
)
from .phones import mask_phone

# ---------------------------------------------------------------------------------------
# Phones


def sees_full_phone(user, request: ResidentRequest) -> bool:
    """Staff of the request's community, and whoever logged it, see the number in full;
    everyone else (other communities, sub-district, district, leaders) sees it masked."""
    if not getattr(user, "is_authenticated", False):
        return False
    if request.logged_by_id is not None and request.logged_by_id == user.pk:
        return True
    profile = get_profile(user)
    return bool(
        profile
        and profile.role == Role.COMMUNITY_STAFF
        and profile.community_id == request.compound.community_id
    )


def sees_every_full_phone(user) -> bool:
    """Whether `user` sees in full the number of every request they may list: community
    staff, who list only their own community's requests. Only they may filter, search or
    sort the admin's lists by the number (renovation.admin_phones); for anyone who sees
    some numbers masked, a filter by the number would give a masked one back."""
    profile = get_profile(user) if getattr(user, "is_authenticated", False) else None
    return bool(
        profile and profile.role == Role.COMMUNITY_STAFF and profile.community_id is not None
    )


def shown_phone(user, request: ResidentRequest) -> str:
    """The contact phone as `user` may see it: used by pages, lists, exports and the admin."""
    if sees_full_phone(user, request):
        return request.contact_phone
    return mask_phone(request.contact_phone)


# ---------------------------------------------------------------------------------------
# Requests


def request_scope(*, user) -> QuerySet[ResidentRequest]:
    """Requests of the user's area, before a grid worker's own are picked out of them
    (request_list, request_parts): what a list's filter narrows."""
    queryset = ResidentRequest.objects.select_related(*REQUEST_ROW_RELATED)
    return scope_queryset(user, queryset)


def _sees_own_only(user) -> bool:
    profile = get_profile(user)
    return profile is not None and profile.role == Role.GRID_WORKER and not user.is_superuser


def request_list(*, user) -> QuerySet[ResidentRequest]:
    """Requests the user may see. Grid workers see only the ones they logged or were
    assigned; the community's whole queue is for its staff."""
    queryset = request_scope(user=user)
    if _sees_own_only(user):
        queryset = queryset.filter(Q(logged_by=user) | Q(assigned_to=user))
    return queryset


def request_parts(*, user, requests: QuerySet[ResidentRequest]) -> list[QuerySet]:
    """`requests` (request_scope, filtered) narrowed to what `user` may see, as disjoint
    parts whose union is exactly request_list's: for a grid worker, the requests they logged
    and those given to them that someone else (or no one) logged. Counted and paged part by part
    (request_summary, request_rows), each part is read from its own index alone
    (request_logged_by_page, request_assigned_page), where the `OR` of the two made
    PostgreSQL read the row of every request the worker has, twice per page."""
    if not _sees_own_only(user):
        return [requests]
    return [
        requests.filter(logged_by=user),
        requests.filter(assigned_to=user).exclude(logged_by=user),
    ]


# What a request's page, the export and the admin list show besides the request itself.
REQUEST_ROW_RELATED = (
    "compound__community__sub_district",
    "building",
    "category",
    "logged_by",
    "assigned_to",
)


# What a card of the request list shows (residents.templatetags.residents.request_card),
# and nothing more: whole rows and their relations took twice as long to fetch and build.
REQUEST_CARD_RELATED = ("compound", "building", "category")
REQUEST_CARD_FIELDS = (
    "kind",
    "channel",
    "status",
    "due_on",
    "is_verified",
    "description",
    "contact_name",
    "contact_phone",
    "logged_by_id",  # who sees the phone in full
    "unit_number",
    "room",
    "building__number",
    "compound__name",
    "compound__community_id",
    "category__name",
)


class PageFirst:
    """`queryset` as the paginator cuts it: sorted and cut on the ids alone (from an index,
    where one serves the filter and the order), then only the page's rows fetched, with
    their annotations and joins. Fetched whole first, PostgreSQL reads every row in scope
    (scattered over the table) to keep one page: most of the time of an admin list of a
    community, seconds for a city's million requests."""

    ordered = True  # the paginator warns about unordered lists

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def rows(self) -> QuerySet:
        """What the page's rows are fetched from."""
        return self.queryset

    def __getitem__(self, cut: slice) -> list:
        return self.page(self.rows(), cut)

    def page(self, rows: QuerySet, cut: slice) -> list:
        """The `rows` of the page `cut` of the queryset, in its order."""
        ordering = self.queryset.query.order_by or self.queryset.model._meta.ordering
        return list(rows.filter(pk__in=self.queryset.values("pk")[cut]).order_by(*ordering))


class RequestRows(PageFirst):
    """Requests as the paginator cuts them (see PageFirst), each page joined to what the
    cards show and nothing more. Given in disjoint parts (request_parts), a page's ids are
    the first of each part up to the page's end, merged and cut in one query."""

    def __init__(self, parts: list[QuerySet]):
        super().__init__(parts[0])
        self.parts = parts

    def count(self) -> int:
        return sum(part.count() for part in self.parts)

    def rows(self) -> QuerySet:
        rows = ResidentRequest.objects.select_related(*REQUEST_CARD_RELATED)
        return rows.only(*REQUEST_CARD_FIELDS)

    def __getitem__(self, cut: slice) -> list:
        features = connections[self.queryset.db].features
        if len(self.parts) == 1 or not features.supports_slicing_ordering_in_compound:
            # One queryset (SQLite cannot cut the parts of a UNION: the parts as one again).
            return PageFirst(functools.reduce(operator.or_, self.parts)).page(self.rows(), cut)
        ordering = ResidentRequest._meta.ordering
        firsts = [part.order_by(*ordering).values("pk")[: cut.stop] for part in self.parts]
        candidates = firsts[0].union(*firsts[1:], all=True)
        return list(self.rows().filter(pk__in=candidates).order_by(*ordering)[cut])


def request_rows(requests: QuerySet[ResidentRequest] | list[QuerySet]) -> RequestRows:
    """`requests`, a queryset or its disjoint parts (request_parts), ready to be paged
    through (see `RequestRows`)."""
    return RequestRows([requests] if isinstance(requests, QuerySet) else list(requests))


class KeptPageFirst(PageFirst):
    """PageFirst whose count and pages are kept in the cache while the request lists of
    `communities` (request_lists_version) are unchanged, which must hold every community
    whose requests the queryset may select: the admin's request list.

    Kept under the query of the ids (its WHERE clause and order: which requests, in which
    order) and `also`, what else the rows' loaded values depend on (an annotation's date):
    compiled whole, the joins and annotations of the rows took as long as the rest of the
    list. A page comes as KeptRows, which name what they were kept under."""

    def __init__(self, queryset: QuerySet, communities: QuerySet[Community] | None, also=()):
        super().__init__(queryset)
        self.version = request_lists_version(communities)  # read before anything is kept
        self.also = also

    @cached_property
    def _query(self) -> str:
        # The rows' joins and annotations by name, so that two lists alike in their WHERE
        # and order but not in what they load never share a page.
        query = self.queryset.query
        loaded = (query.select_related, tuple(query.annotations), query.deferred_loading)
        return query_digest(self.queryset.values("pk"), self.also, loaded)

    def count(self) -> int:
        return self._count

    @cached_property
    def _count(self) -> int:
        return cached_as_of(f"request-count:{self._query}", self.version, super().count)

    def __getitem__(self, cut: slice) -> "KeptRows":
        return KeptRows(
            f"request-rows:{self._query}:{cut.start}:{cut.stop}",
            self.version,
            lambda: PageFirst.__getitem__(self, cut),
            length=max(0, min(cut.stop, self.count()) - cut.start),
        )


class KeptRows(Sequence):
    """A page of rows kept in the cache under `name` and `version` (cached_as_of; worked
    out by `work_out` when not there), fetched when first read, its length (of its cut,
    within the count) known without reading it, and `key`, which names it (None: not kept):
    what is worked out of these rows alone can be kept under it too, and then they need not
    be read at all."""

    def __init__(self, name: str, version, work_out: Callable[[], list], *, length: int):
        self._load = functools.partial(cached_as_of, name, version, work_out)
        self._length = length
        self.key = None if version is None else (name, version)

    @cached_property
    def _rows(self) -> list:
        return self._load()

    def __getitem__(self, index):
        return self._rows[index]

    def __iter__(self):
        return iter(self._rows)

    def __len__(self) -> int:
        # Of the page's cut within the count until the rows are read (the count and the
        # rows may have been worked out apart, under the same version), then theirs.
        return len(self._rows) if "_rows" in self.__dict__ else self._length


def request_lists_version(communities: QuerySet[Community] | None) -> tuple | None:
    """The version of what the request lists of `communities` (None: every community)
    show: their requests, compounds and buildings, and the item categories. Changed by every
    committed change of these, in the transaction of the change (RequestListVersion). None
    where the database keeps no versions (neither PostgreSQL nor SQLite)."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    sql = f"SELECT COALESCE(SUM(version), 0), COUNT(*) FROM {RequestListVersion._meta.db_table}"
    params = ()
    if communities is not None:
        sql += f" WHERE community_id = {RequestListVersion.CATEGORIES}"
        try:
            subquery, params = communities.values("pk").query.sql_with_params()
        except EmptyResultSet:  # an area with no community: the categories alone
            pass
        else:
            sql += f" OR community_id IN ({subquery})"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(cursor.fetchone())


def request_page(parts: list[QuerySet], number, *, per_page: int, communities) -> dict:
    """Page `number` of the requests in `parts` (request_parts) and their counts by status
    (request_summary), as the request list shows them: {"summary", "number", "rows"}, the
    rows as KeptRows (read from the cache only if what is worked out of them is not).

    Kept in the cache under the parts' query, the day (which are overdue) and the version
    of the request lists of `communities` (request_lists_version), which hold the parts'
    requests: a community's requests change a few times an hour, and its grid workers and
    staff look at their lists far more often."""
    # The parts' requests are what their WHERE clauses select (what is fetched of them and
    # in which order are this function's), so the query of their ids names them: compiled,
    # the parts' joins for the rows took a third of the page's time.
    queries = ":".join(query_digest(part.order_by().values("pk")) for part in parts)
    number = page_number(number)
    name = f"request-page:{queries}:{timezone.localdate()}:{per_page}:{number}"
    version = request_lists_version(communities)  # read before anything is kept

    def page_of(count: int):
        paginator = Paginator(request_rows(parts), per_page)
        paginator.count = count
        return paginator.get_page(number)

    def work_out() -> dict:
        summary = request_summary(parts)
        page = page_of(summary["total"])
        rows = list(page)
        keep_as_of(f"{name}:rows", version, rows)  # kept apart: read only when needed
        return {"summary": summary, "number": page.number, "length": len(rows)}

    listed = cached_as_of(name, version, work_out)
    rows = KeptRows(
        f"{name}:rows",
        version,
        lambda: list(page_of(listed["summary"]["total"])),
        length=listed["length"],
    )
    return {**listed, "rows": rows}


def request_get(*, user, pk: int) -> ResidentRequest:
    """One request with its history; DoesNotExist when it is outside what the user sees,
    so a guessed id looks exactly like one that does not exist."""
    return (
        request_list(user=user)
        # Fetched apart, and only when set: joined too, twelve tables made PostgreSQL spend
        # more time planning the query than the whole rest of the page took.
        .prefetch_related("project", "project_item__category", "demand_list", "settled_by")
        .prefetch_related(
            Prefetch("log", queryset=RequestLog.objects.select_related("by").order_by("at", "pk")),
            Prefetch(
                "bookings",
                queryset=ErrandBooking.objects.select_related("slot").order_by("-booked_at"),
            ),
        )
        .get(pk=pk)
    )


def request_summary(requests: QuerySet[ResidentRequest] | list[QuerySet]) -> dict:
    """Counts by status, how many are overdue and how many in all, over a (filtered) set
    of requests or its disjoint parts (request_parts), in one pass over them."""
    parts = [requests] if isinstance(requests, QuerySet) else list(requests)
    overdue = Count("pk", filter=overdue_q(timezone.localdate()))
    grouped = [
        part.order_by().values_list("status").annotate(n=Count("pk"), overdue=overdue)
        for part in parts
    ]
    rows = grouped[0].union(*grouped[1:], all=True) if len(grouped) > 1 else grouped[0]
    by_status, overdue_count = {}, 0
    for status, n, late in rows:
        by_status[status] = by_status.get(status, 0) + n
        overdue_count += late
    return {
        "total": sum(by_status.values()),
        "by_status": [(s, by_status.get(s.value, 0)) for s in RequestStatus],
        "overdue": overdue_count,
    }


def assignable_users(*, compound: Compound) -> QuerySet:
    """Grid workers and staff of the compound's community, who may take a request on."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_profile__community_id=compound.community_id,
            staff_profile__role__in=[Role.GRID_WORKER, Role.COMMUNITY_STAFF],
        )
        .order_by("username")
    )


def project_items_of(*, compound: Compound) -> QuerySet[ProjectItem]:
    """The items of the compound's projects, which a wish can be planned into."""
    return ProjectItem.objects.filter(project__compound=compound).select_related(
        "category", "project"
    )


# ---------------------------------------------------------------------------------------
# Surveys and consent


def percent(rate: Fraction | None) -> Decimal | None:
    if rate is None:
        return None
    return (Decimal(rate.numerator) * 100 / Decimal(rate.denominator)).quantize(Decimal("0.01"))


@dataclass
class Consent:
    """Households agreeing out of all households of a compound, building or stairwell."""

    label: str
    households: int
    agree: int = 0
    disagree: int = 0
    not_reached: int = 0
    children: list["Consent"] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return self.agree + self.disagree + self.not_reached

    @property
    def base(self) -> int:
        # Households never asked count as not agreeing; recorded answers beyond the
        # registry's figure (an outdated count) are households too.
        return max(self.households, self.answered)

    @property
    def rate(self) -> Fraction:
        return Fraction(self.agree, self.base) if self.base else Fraction(0)

    @property
    def percent(self) -> Decimal:
        return percent(self.rate)

    @property
    def passed(self) -> bool:
        return self.base > 0 and self.rate >= settings.WILLINGNESS_THRESHOLD

    def add(self, answer: str, count: int) -> None:
        if answer == SurveyAnswer.Answer.YES:
            self.agree += count
        elif answer == SurveyAnswer.Answer.NO:
            self.disagree += count
        else:
            self.not_reached += count


def unit_households(building: Building) -> list[int]:
    """The registry counts households per building only; spread them evenly over its
    stairwell units, the first units taking the remainder."""
    base, extra = divmod(building.households, building.units)
    return [base + (1 if n < extra else 0) for n in range(building.units)]


def survey_consent(survey: Survey) -> Consent:
    """Consent of the survey's compound, with each building and each stairwell unit below
    it, from one query over the answers and one over the buildings."""
    compound = survey.compound
    buildings = list(Building.objects.filter(compound=compound).order_by("number"))
    counts = (
        SurveyAnswer.objects.filter(survey=survey)
        .order_by()
        .values_list("building_id", "unit_number", "answer")
        .annotate(n=Count("pk"))
    )
    total = Consent(compound.name, compound.households)
    by_building: dict[int, Consent] = {}
    units: dict[tuple[int, int], Consent] = {}
    for building in buildings:
        node = Consent(building.number, building.households)
        by_building[building.pk] = node
        total.children.append(node)
        for number, households in enumerate(unit_households(building), start=1):
            unit = Consent(str(number), households)
            units[(building.pk, number)] = unit
            node.children.append(unit)
    for building_id, unit_number, answer, n in counts:
        total.add(answer, n)
        node = by_building.get(building_id)
        if node is None:
            continue
        node.add(answer, n)
        unit = units.get((building_id, unit_number))
        if unit is None:  # a unit number beyond the registry's count
            unit = units[(building_id, unit_number)] = Consent(str(unit_number), 0)
            node.children.append(unit)
        unit.add(answer, n)
    return total


def _latest_closed(kind: str):
    return (
        Survey.objects.filter(compound=OuterRef("pk"), kind=kind, status=Survey.Status.CLOSED)
        .order_by("-closed_on", "-pk")
        .values("pk")[:1]
    )


def willingness_rates(compounds: QuerySet[Compound]) -> dict[int, Consent | None]:
    """Each compound's consent in its latest closed willingness survey (None when it has
    none), in two queries whatever the number of compounds."""
    rows = (
        compounds.order_by()
        .annotate(survey_id=Subquery(_latest_closed(Survey.Kind.WILLINGNESS)))
        .values_list("pk", "survey_id", "households")
    )
    result: dict[int, Consent | None] = {}
    survey_compound: dict[int, int] = {}
    for pk, survey_id, households in rows:
        result[pk] = Consent("", households) if survey_id else None
        if survey_id:
            survey_compound[survey_id] = pk
    answers = (
        SurveyAnswer.objects.filter(survey_id__in=list(survey_compound))
        .order_by()
        .values_list("survey_id", "answer")
        .annotate(n=Count("pk"))
    )
    for survey_id, answer, n in answers:
        result[survey_compound[survey_id]].add(answer, n)
    return result


def willingness_consent(compound: Compound) -> Consent | None:
    return willingness_rates(Compound.objects.filter(pk=compound.pk)).get(compound.pk)


def willingness_passed(compound: Compound) -> bool:
    """Whether the compound's latest closed willingness survey reached the threshold in
    settings (two thirds of all its households by default): the gate into the pipeline."""
    consent = willingness_consent(compound)
    return bool(consent and consent.passed)


def survey_list(*, user) -> QuerySet[Survey]:
    queryset = Survey.objects.select_related(
        "compound__community__sub_district", "project"
    ).annotate(
        agree=Count("answers", filter=Q(answers__answer=SurveyAnswer.Answer.YES)),
        answered=Count("answers"),
    )
    return scope_queryset(user, queryset.order_by(*Survey._meta.ordering))


def survey_get(*, user, pk: int) -> Survey:
    return survey_list(user=user).get(pk=pk)


# ---------------------------------------------------------------------------------------
# Demand lists


@dataclass
class DemandLine:
    category: ItemCategory | None
    households: int
    requests: int
    item: DemandListItem | None = None


def _household_key(request) -> tuple:
    # A wish with no room given counts as its own household.
    if request["room"]:
        return (request["building_id"], request["unit_number"], request["room"])
    return ("request", request["pk"])


def demand_list_lines(demand_list: DemandList) -> list[DemandLine]:
    """The list's lines by category. A draft shows the compound's accepted wishes not yet
    on a sent list, as they stand now; a sent list shows what was frozen when it was sent."""
    if demand_list.is_frozen:
        items = demand_list.items.select_related("category", "project_item").order_by(
            F("category__sort_order").asc(nulls_last=True), "pk"
        )
        return [DemandLine(i.category, i.households, i.requests, i) for i in items]
    wishes = pending_wishes(demand_list.compound).values(
        "pk", "category_id", "building_id", "unit_number", "room"
    )
    groups: dict[int | None, tuple[set, int]] = {}
    for wish in wishes:
        households, count = groups.get(wish["category_id"], (set(), 0))
        households.add(_household_key(wish))
        groups[wish["category_id"]] = (households, count + 1)
    categories = ItemCategory.objects.in_bulk([pk for pk in groups if pk is not None])
    lines = [
        DemandLine(categories.get(pk) if pk else None, len(households), count)
        for pk, (households, count) in groups.items()
    ]
    # Catalogue order, "other" last.
    return sorted(
        lines,
        key=lambda line: (
            line.category is None,
            line.category.sort_order if line.category else 0,
            line.category.code if line.category else "",
        ),
    )


def pending_wishes(compound: Compound) -> QuerySet[ResidentRequest]:
    """Accepted wishes of the compound that no sent demand list carries yet."""
    return ResidentRequest.objects.filter(
        compound=compound,
        kind=RequestKind.WISH,
        status=RequestStatus.ACCEPTED,
        demand_list__isnull=True,
    )


def demand_list_list(*, user) -> QuerySet[DemandList]:
    queryset = DemandList.objects.select_related(
        "compound__community__sub_district", "sent_by", "received_by"
    ).annotate(item_count=Count("items"))
    return scope_queryset(user, queryset.order_by(*DemandList._meta.ordering))


def demand_list_get(*, user, pk: int) -> DemandList:
    return demand_list_list(user=user).get(pk=pk)


# ---------------------------------------------------------------------------------------
# Errands


def free_slots(*, community_id: int, now: datetime.datetime | None = None, days: int = 14):
    """Bookable slots of a community station in the coming days that nobody holds."""
    now = now or timezone.now()
    return (
        ServiceSlot.objects.filter(
            community_id=community_id,
            starts_at__gt=now,
            starts_at__lte=now + datetime.timedelta(days=days),
        )
        .exclude(bookings__status__in=[ErrandBooking.Status.BOOKED, ErrandBooking.Status.DONE])
        .order_by("starts_at", "pk")
    )


def service_hours(*, community_id: int) -> QuerySet[ServiceHours]:
    return ServiceHours.objects.filter(community_id=community_id).order_by("weekday", "opens_at")


def booking_list(*, user) -> QuerySet[ErrandBooking]:
    queryset = ErrandBooking.objects.select_related(
        "slot__community", "request__compound__community", "booked_by", "done_by"
    )
    return scope_queryset(user, queryset)


# ---------------------------------------------------------------------------------------
# The public compound page


def public_page_get(*, token: str) -> CompoundPage:
    """An active page by its token; DoesNotExist for anything else."""
    return CompoundPage.objects.select_related("compound__community").get(
        token=token, is_active=True
    )


def public_compound_facts(compound: Compound) -> dict:
    """What the public page shows: the latest project's plan, items, progress and last
    updates, and how many wishes were heard and answered. No personal data."""
    project = (
        RenovationProject.objects.filter(compound=compound)
        .order_by("-batch_year")
        .prefetch_related(
            Prefetch("items", queryset=ProjectItem.objects.select_related("category")),
            Prefetch(
                "progress_updates",
                queryset=ProgressUpdate.objects.order_by("-recorded_on"),
                to_attr="updates",
            ),
        )
        .first()
    )
    updates = project.updates[:5] if project else []
    wishes = ResidentRequest.objects.filter(compound=compound, kind=RequestKind.WISH)
    figures = wishes.aggregate(
        heard=Count("pk"),
        accepted=Count(
            "pk",
            filter=Q(
                status__in=[RequestStatus.ACCEPTED, RequestStatus.PLANNED, RequestStatus.RESOLVED]
            ),
        ),
        planned=Count("pk", filter=Q(status__in=[RequestStatus.PLANNED, RequestStatus.RESOLVED])),
    )
    return {
        "project": project,
        "progress": updates[0].percent if updates else 0,
        "updates": updates,
        "wishes": figures,
    }

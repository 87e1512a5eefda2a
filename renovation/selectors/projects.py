"""Reads of projects and their money, scoped to the person asking, with no query per row."""

import datetime
import hashlib
from array import array
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import (
    Case,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..access import scope_queryset
from ..cache import PROJECT_LIST_TABLES, PROJECT_MONEY_TABLES, cached, query_digest
from ..models import (
    Disbursement,
    FundingAllocation,
    FundingSource,
    ProgressUpdate,
    ProjectItem,
    ProjectTransition,
    RenovationProject,
)
from ..models.projects import FINISHED
from ..paging import page_number

MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Value(Decimal("0"), output_field=MONEY)


def sum_subquery(queryset: QuerySet, outer_field: str) -> Coalesce:
    """SUM(amount) of related rows as a subquery, so several sums never multiply rows."""
    total = (
        queryset.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), ZERO)


def latest_progress_subquery(as_of: datetime.date | None = None) -> Coalesce:
    updates = ProgressUpdate.objects.filter(project=OuterRef("pk"))
    if as_of is not None:
        updates = updates.filter(recorded_on__lte=as_of)
    latest = updates.order_by("-recorded_on").values("percent")[:1]
    return Coalesce(Subquery(latest, output_field=IntegerField()), Value(0))


def project_scope(*, user) -> QuerySet[RenovationProject]:
    """Projects the user may see, with place names and whether each is delayed, in the
    list's order: what the list's filter narrows before the page's figures are added
    (with_figures), which only its rows need."""
    today = timezone.localdate()
    queryset = (
        RenovationProject.objects.select_related("compound__community__sub_district")
        .annotate(
            # A condition on the row itself (never NULL, like the EXISTS it replaces), so
            # PostgreSQL need not scan the projects a second time for it.
            delayed=Case(
                When(~Q(status__in=FINISHED), planned_finish__lt=today, then=Value(True)),
                default=Value(False),
            ),
        )
        # The id last, so that projects alike in the rest keep their place from page to page.
        .order_by(*RenovationProject._meta.ordering, "pk")
    )
    return scope_queryset(user, queryset)


def with_figures(projects: QuerySet[RenovationProject]) -> QuerySet[RenovationProject]:
    """`projects` with the money allocated and paid, and current progress, each computed in
    the same query."""
    return projects.annotate(
        allocated=sum_subquery(FundingAllocation.objects.all(), "project"),
        paid=sum_subquery(Disbursement.objects.all(), "project"),
        progress=latest_progress_subquery(),
    )


def project_list(*, user) -> QuerySet[RenovationProject]:
    """Projects the user may see, with place names, money allocated and paid, and current
    progress, each computed in the same query."""
    return with_figures(project_scope(user=user))


def project_list_rows(projects: QuerySet[RenovationProject]) -> QuerySet:
    """The project list's rows: of each of `projects` (a project_scope, filtered) what the
    list shows, place names and figures included, as named tuples rather than four model
    instances."""
    return (
        with_figures(projects)
        .annotate(
            sub_district_name=F("compound__community__sub_district__name"),
            community_name=F("compound__community__name"),
        )
        .values_list(
            "pk",
            "name",
            "is_key",
            "sub_district_name",
            "community_name",
            "batch_year",
            "kind",
            "status",
            "progress",
            "households_benefited",
            "budget",
            "allocated",
            "paid",
            "planned_finish",
            "delayed",
            named=True,
        )
    )


def project_page(projects: QuerySet[RenovationProject], number, per_page: int = 50) -> dict:
    """Page `number` of `projects` (a project_scope, filtered) as the project list shows it:
    how many match, their totals, the page's number and its rows (project_list_rows).

    Kept in the cache under the query of the projects' ids (the filter and the person's
    area are in its WHERE clause, the list's order in its ORDER BY), the day that decides
    which are delayed, and the version of every table the rows are worked out from
    (cache.PROJECT_LIST_TABLES): working it out was most of the list's time, and
    projects, money and places change a few times a day. (Compiled whole, with the joins
    and annotations of project_scope, naming the query took a tenth of the list's time.)"""
    number = page_number(number)
    digest = query_digest(projects.values("pk"), timezone.localdate(), per_page, number)

    def work_out() -> dict:
        ids = list(projects.order_by().values_list("pk", flat=True))
        paginator = Paginator(project_list_rows(projects), per_page)
        paginator.count = len(ids)  # the ids answer the count, too
        page = paginator.get_page(number)
        return {
            "count": len(ids),
            "totals": project_totals(ids),
            "number": page.number,
            "rows": list(page),
        }

    return cached(f"project-page:{digest}", PROJECT_LIST_TABLES, work_out)


def project_get(*, user, pk: int) -> RenovationProject:
    """One project with everything its page shows; DoesNotExist outside the user's area."""
    return (
        project_list(user=user)
        .prefetch_related(
            Prefetch("items", queryset=ProjectItem.objects.select_related("category")),
            Prefetch(
                "transitions",
                queryset=ProjectTransition.objects.select_related("by").order_by(
                    "-effective_on", "-created_at"
                ),
            ),
            Prefetch(
                "progress_updates",
                queryset=ProgressUpdate.objects.select_related("recorded_by").order_by(
                    "-recorded_on"
                ),
            ),
            Prefetch(
                "allocations",
                queryset=FundingAllocation.objects.select_related("source").annotate(
                    paid=sum_subquery(Disbursement.objects.all(), "allocation")
                ),
            ),
            Prefetch(
                "disbursements",
                queryset=Disbursement.objects.select_related("allocation__source").order_by(
                    "-paid_on"
                ),
            ),
            "buildings",
        )
        .get(pk=pk)
    )


def funding_source_list(*, user) -> QuerySet[FundingSource]:
    """Sources with the amounts allocated from them and paid out of those allocations."""
    queryset = FundingSource.objects.annotate(
        allocated=sum_subquery(FundingAllocation.objects.all(), "source"),
        paid=sum_subquery(Disbursement.objects.all(), "allocation__source"),
    ).order_by(*FundingSource._meta.ordering)
    return scope_queryset(user, queryset)


def funding_source_get(*, user, pk: int) -> FundingSource:
    allocations = FundingAllocation.objects.select_related(
        "project__compound__community__sub_district"
    ).annotate(paid=sum_subquery(Disbursement.objects.all(), "allocation"))
    return (
        funding_source_list(user=user)
        .prefetch_related(Prefetch("allocations", queryset=scope_queryset(user, allocations)))
        .get(pk=pk)
    )


def allocation_list(*, user) -> QuerySet[FundingAllocation]:
    queryset = FundingAllocation.objects.select_related(
        "source", "project__compound__community__sub_district"
    ).annotate(paid=sum_subquery(Disbursement.objects.all(), "allocation"))
    return scope_queryset(user, queryset)


def rate(part, whole) -> Decimal:
    """A percentage with two decimals; zero when there is nothing to divide by."""
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def project_totals(projects: QuerySet[RenovationProject] | list[int]) -> dict:
    """Count, households, budget, allocated and paid over a (filtered) set of projects, given
    as a queryset or as the list of their ids.

    The sums come from each project's figures, kept in the cache until a project or its
    money changes: summing every allocation and payment in SQL took most of the project
    list's time at city scale. The totals of a set of projects are kept the same way, under
    the set: adding up two thousand projects' figures on every view took a tenth of it."""
    if isinstance(projects, QuerySet):
        projects = list(projects.order_by().values_list("pk", flat=True))
    chosen = sorted(projects)
    digest = hashlib.sha256(array("q", chosen).tobytes()).hexdigest()[:32]
    return cached(f"project-totals:{digest}", PROJECT_MONEY_TABLES, lambda: _totals(chosen))


def _totals(projects: list[int]) -> dict:
    figures = cached("project-figures", PROJECT_MONEY_TABLES, _project_figures)
    try:
        chosen = [figures[pk] for pk in projects]
    except KeyError:  # never trust figures that lack a project listed: work them out anew
        figures = _project_figures()
        chosen = [figures[pk] for pk in projects]
    sums = [sum(column) for column in zip(*chosen, strict=True)] or [0, 0, 0, 0]
    households, budget, allocated, paid = sums
    return {
        "count": len(projects),
        "households": households,
        "budget": _yuan(budget),
        "allocated": _yuan(allocated),
        "paid": _yuan(paid),
    }


def _project_figures() -> dict[int, tuple[int, int, int, int]]:
    """Every project's households, budget, allocated and paid, the money in fen (integers
    are quicker to keep in the cache and to add up than decimals)."""
    rows = RenovationProject.objects.annotate(
        allocated=sum_subquery(FundingAllocation.objects.all(), "project"),
        paid=sum_subquery(Disbursement.objects.all(), "project"),
    ).values_list("pk", "households_benefited", "budget", "allocated", "paid")
    return {
        pk: (households, _fen(budget), _fen(allocated), _fen(paid))
        for pk, households, budget, allocated, paid in rows.order_by()
    }


def _fen(amount: Decimal) -> int:
    return int(amount * 100)


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def funding_totals(sources: QuerySet[FundingSource]) -> dict:
    """Amount, allocated and paid over a (filtered) set of funding sources."""
    ids = sources.order_by().values("pk")
    return {
        "amount": _total(FundingSource.objects.filter(pk__in=ids)),
        "allocated": _total(FundingAllocation.objects.filter(source__in=ids)),
        "paid": _total(Disbursement.objects.filter(allocation__source__in=ids)),
    }


def _total(queryset: QuerySet) -> Decimal:
    return queryset.aggregate(total=Sum("amount"))["total"] or Decimal("0")

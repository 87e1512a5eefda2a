"""The figures of the monthly joint-meeting report, as the programme stood at the end of a
month. The dashboard and the workbook both call these functions, so they never disagree.

"As it stood" comes from dated records: status transitions, progress updates, allocation
and payment dates. The registry itself has no history, so compound counts are as recorded
today."""

import calendar
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from ..cache import FIGURE_TABLES, cached
from ..models import (
    Compound,
    Disbursement,
    FundingAllocation,
    FundingSource,
    ItemCategory,
    ProjectItem,
    ProjectStatus,
    RenovationProject,
)
from ..models.projects import FINISHED, PREPARATION
from .projects import latest_progress_subquery

ZERO = Decimal("0")


@dataclass(frozen=True)
class Month:
    first: datetime.date

    @classmethod
    def parse(cls, text: str) -> "Month":
        """ "2022-06" → June 2022; ValueError with a clear message otherwise."""
        match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text or "")
        if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            raise ValueError(f"not a month: {text!r} (write it as YYYY-MM, e.g. 2022-06)")
        return cls(datetime.date(int(match[1]), int(match[2]), 1))

    @classmethod
    def of(cls, day: datetime.date) -> "Month":
        return cls(day.replace(day=1))

    @property
    def last(self) -> datetime.date:
        return self.first.replace(day=calendar.monthrange(self.first.year, self.first.month)[1])

    @property
    def year(self) -> int:
        return self.first.year

    def previous(self) -> "Month":
        return Month.of(self.first - datetime.timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.first:%Y-%m}"


def projects_then(month: Month) -> QuerySet[RenovationProject]:
    """Projects that were in the programme at the end of the month, with their status then."""
    return RenovationProject.objects.as_of(month.last).exclude(status_then=None)


def _sum(queryset: QuerySet, field: str = "amount") -> Decimal:
    return queryset.aggregate(total=Sum(field))["total"] or ZERO


def _ids(queryset: QuerySet) -> QuerySet:
    return queryset.order_by().values("pk")


def paid_then(projects: QuerySet, month: Month, since: datetime.date | None = None) -> Decimal:
    payments = Disbursement.objects.filter(project__in=_ids(projects), paid_on__lte=month.last)
    if since:
        payments = payments.filter(paid_on__gte=since)
    return _sum(payments)


def summary_figures(month: Month) -> dict:
    """The Summary sheet and the dashboard: one dict of named figures.

    Each project's status at the month's end is worked out once, in one query with the
    project's figures; the money in one query each, summed by project. The rest is counting
    those rows, so the number of queries stays the same however many projects there are."""
    compounds = Compound.objects.aggregate(
        total=Count("pk"), old=Count("pk", filter=Q(is_old=True))
    )
    programme = list(
        projects_then(month)
        .order_by()
        .values_list(
            "pk",
            "batch_year",
            "status_then",
            "compound_id",
            "compound__is_old",
            "households_benefited",
            "buildings_benefited",
            "budget",
            "planned_finish",
        )
    )
    allocated = _by_project(FundingAllocation.objects.filter(allocated_on__lte=month.last))
    paid = _by_project(Disbursement.objects.filter(paid_on__lte=month.last))
    finished = [p for p in programme if p[2] in FINISHED]
    earlier = [p for p in finished if p[1] < month.year]
    batch = [p for p in programme if p[1] == month.year]
    by_status: dict[str, int] = {}
    for project in batch:
        by_status[project[2]] = by_status.get(project[2], 0) + 1
    return {
        "month": month,
        "compounds": compounds["total"],
        "old_compounds": compounds["old"],
        "old_share": _share(compounds["old"], compounds["total"]),
        "earlier_from": min((p[1] for p in programme), default=month.year),
        "earlier_to": month.year - 1,
        "renovated_earlier": _old_compounds(earlier),
        "invested_earlier": _total(allocated, earlier),
        "renovated_to_date": _old_compounds(finished),
        "batch_planned": sum(by_status.values()),
        "batch_preparation": sum(by_status.get(s, 0) for s in PREPARATION),
        "batch_under_construction": by_status.get(ProjectStatus.UNDER_CONSTRUCTION, 0),
        "batch_completed": by_status.get(ProjectStatus.COMPLETED, 0),
        "batch_accepted": by_status.get(ProjectStatus.ACCEPTED, 0),
        "batch_households": sum(p[5] for p in batch),
        "batch_buildings": sum(p[6] for p in batch),
        "batch_budget": sum((p[7] for p in batch), ZERO),
        "batch_allocated": _total(allocated, batch),
        "batch_paid": _total(paid, batch),
        "delayed": sum(
            1 for p in programme if p[8] is not None and p[8] < month.last and p[2] not in FINISHED
        ),
    }


def _by_project(money: QuerySet) -> dict[int, Decimal]:
    """Amounts summed per project, in one query."""
    rows = money.order_by().values_list("project").annotate(total=Sum("amount"))
    return dict(rows.values_list("project", "total"))


def _total(amounts: dict[int, Decimal], projects: list[tuple]) -> Decimal:
    return sum((amounts.get(p[0], ZERO) for p in projects), ZERO)


def _old_compounds(projects: list[tuple]) -> int:
    """Old compounds among the projects' compounds, each counted once."""
    return len({p[3] for p in projects if p[4]})


def _share(part, whole) -> Decimal:
    """A share as a fraction with four decimals (0.6432), for a percent cell format."""
    if not whole:
        return Decimal("0")
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


SUMMARY_CHANGE_KEYS = [
    "renovated_to_date",
    "batch_planned",
    "batch_preparation",
    "batch_under_construction",
    "batch_completed",
    "batch_accepted",
    "batch_allocated",
    "batch_paid",
    "delayed",
]


def summary_with_change(month: Month) -> dict:
    """This month's figures, last month's, and the change of each."""
    now, before = summary_figures(month), summary_figures(month.previous())
    change = {key: now[key] - before[key] for key in SUMMARY_CHANGE_KEYS}
    return {"now": now, "before": before, "change": change}


def dashboard_figures(month: Month) -> dict:
    """summary_with_change for the dashboard, kept in the cache until the records change;
    the workbook calls summary_with_change itself, so a report is always worked out anew."""
    return cached(f"summary:{month}", FIGURE_TABLES, lambda: summary_with_change(month))


def project_rows(month: Month) -> QuerySet[RenovationProject]:
    """The Projects sheet: the year's batch, and earlier batches still unfinished then."""
    from .projects import sum_subquery  # same package; kept local to this one reader

    programme = projects_then(month).filter(
        Q(batch_year=month.year) | (Q(batch_year__lt=month.year) & ~Q(status_then__in=FINISHED))
    )
    return (
        programme.select_related("compound__community__sub_district")
        .annotate(
            allocated_then=sum_subquery(
                FundingAllocation.objects.filter(allocated_on__lte=month.last), "project"
            ),
            paid_then=sum_subquery(Disbursement.objects.filter(paid_on__lte=month.last), "project"),
            progress_then=latest_progress_subquery(month.last),
        )
        .order_by("-batch_year", "compound__community__sub_district__code", "compound__code")
    )


def project_item_names(month: Month) -> dict[int, str]:
    """The item categories of each project of the Projects sheet, in catalogue order, in
    one query: a prefetch would cost a query per chunk of the streamed rows."""
    items = (
        ProjectItem.objects.filter(project__in=_ids(project_rows(month)))
        .order_by("project", "category__sort_order", "pk")
        .values_list("project", "category__name")
    )
    names: dict[int, list[str]] = {}
    for project, name in items:
        names.setdefault(project, []).append(name)
    return {project: "、".join(listed) for project, listed in names.items()}


def funding_by_kind(month: Month) -> list[dict]:
    """The Funding sheet, first part: this year's sources by kind, as of the month end."""
    rows = []
    sources = FundingSource.objects.filter(year=month.year)
    for kind, label in FundingSource.Kind.choices:
        of_kind = sources.filter(kind=kind)
        rows.append(
            {
                "kind": str(label),
                "planned": _sum(of_kind),
                "allocated": _sum(
                    FundingAllocation.objects.filter(
                        source__in=_ids(of_kind), allocated_on__lte=month.last
                    )
                ),
                "paid": _sum(
                    Disbursement.objects.filter(
                        allocation__source__in=_ids(of_kind), paid_on__lte=month.last
                    )
                ),
            }
        )
    return rows


def national_statistics(month: Month) -> dict:
    """The figures of the national monthly statistics on old-compound renovation."""
    programme = projects_then(month)
    started_year = programme.filter(actual_start__year=month.year, actual_start__lte=month.last)
    started_month = started_year.filter(actual_start__gte=month.first)
    completed_year = programme.filter(
        status_then__in=FINISHED, actual_finish__year=month.year, actual_finish__lte=month.last
    )
    planned = programme.filter(batch_year=month.year)

    def households(projects: QuerySet) -> int:
        return _sum(RenovationProject.objects.filter(pk__in=_ids(projects)), "households_benefited")

    quantities = dict(
        ProjectItem.objects.filter(project__in=_ids(started_year))
        .exclude(category__statistic="")
        .values_list("category__statistic")
        .annotate(total=Sum("quantity"))
    )
    return {
        "month": month,
        "started_month": started_month.count(),
        "started_month_households": households(started_month),
        "started_year": started_year.count(),
        "started_year_households": households(started_year),
        "planned_year": planned.count(),
        "completed_year": completed_year.count(),
        "invested_year": paid_then(programme, month, since=datetime.date(month.year, 1, 1)),
        "quantities": [
            (str(label), quantities.get(value, ZERO))
            for value, label in ItemCategory.Statistic.choices
            if value
        ],
    }

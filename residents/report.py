"""Sheet 4 of the monthly joint-meeting workbook: residents' requests, as they stood at the
end of the month (from each request's dated status log). No personal data: no names, no
phone numbers, only where and what."""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import (
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Concat, RowNumber
from django.utils import timezone

from renovation.report_workbook import INTEGER, PERCENT, Column, Formula, sheet_writer
from renovation.selectors.report import Month

from .models import CLOSED, RequestLog, RequestStatus, ResidentRequest

OTHER = "其他"
OLDEST_OPEN = 20


def month_bounds(month: Month) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as [start, end) in the district's time zone."""
    zone = timezone.get_default_timezone()
    start = datetime.datetime.combine(month.first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        month.last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start, end


@dataclass
class Tally:
    new: int = 0
    to_date: int = 0
    resolved: int = 0
    median_days: float | None = None


def request_tallies(month: Month) -> tuple[dict[str, Tally], dict[str, Tally]]:
    """(by category, by community): new this month, to date, resolved to date, and the
    median of the days each resolved request took (rounded to a tenth).

    Counted and ranked in the database, in a fixed number of queries whatever the number of
    requests: only the one or two middle durations of each group come back to Python,
    where the median is worked out as `statistics.median` would from every duration."""
    start, end = month_bounds(month)
    return _tallies(start, end, _category_key), _tallies(start, end, _community_key)


def _category_key(to_request: str = "") -> Coalesce:
    """The category's name, "other" when there is none; `to_request` leads to the request."""
    return Coalesce(f"{to_request}category__name", Value(OTHER))


def _community_key(to_request: str = "") -> Concat:
    return Concat(
        f"{to_request}compound__community__sub_district__name",
        Value(" "),
        f"{to_request}compound__community__name",
        output_field=CharField(),
    )


def _tallies(
    start: datetime.datetime, end: datetime.datetime, key: Callable[[str], Func]
) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    counts = (
        ResidentRequest.objects.filter(logged_at__lt=end)
        .annotate(key=key(""))
        .order_by()
        .values("key")
        .annotate(to_date=Count("pk"), new=Count("pk", filter=Q(logged_at__gte=start)))
    )
    for row in counts:
        tally = tallies[row["key"]]
        tally.to_date, tally.new = row["to_date"], row["new"]
    # A request is resolved by the month's end when its log says so before then; resolved
    # is final (TRANSITIONS), so a request has at most one such entry. Each group's count
    # comes with its middle entries.
    took = ExpressionWrapper(F("at") - F("request__logged_at"), output_field=DurationField())
    middle = (
        RequestLog.objects.filter(
            to_status=RequestStatus.RESOLVED, at__lt=end, request__logged_at__lt=end
        )
        .annotate(
            key=key("request__"),
            took=took,
            rank=Window(RowNumber(), partition_by=[F("key")], order_by=[took.asc()]),
            size=Window(Count("pk"), partition_by=[F("key")]),
        )
        # The middle one of an odd count, the middle two of an even one.
        .filter(Q(rank=(F("size") + 1) / 2) | Q(rank=(F("size") + 2) / 2))
        .values_list("key", "size", "took")
    )
    middles: dict[str, list[float]] = defaultdict(list)
    for name, size, duration in middle:
        tallies[name].resolved = size
        middles[name].append(duration.total_seconds() / 86400)
    for name, days in middles.items():
        tallies[name].median_days = round(statistics.median(days), 1)
    return dict(sorted(tallies.items()))


def oldest_open(month: Month, limit: int = OLDEST_OPEN) -> Iterator[dict]:
    """The requests open longest at the end of the month, oldest first."""
    _start, end = month_bounds(month)
    # NOT EXISTS rather than the first closing as a column: the database answers it with
    # one anti-join instead of a lookup per request.
    closed_by_then = RequestLog.objects.filter(
        request=OuterRef("pk"), to_status__in=CLOSED, at__lt=end
    )
    rows = (
        ResidentRequest.objects.filter(logged_at__lt=end)
        .filter(~Exists(closed_by_then))
        .select_related("compound__community__sub_district", "category")
        .order_by("logged_at", "pk")[:limit]
    )
    for request in rows:
        yield {
            "number": request.pk,
            "place": f"{request.compound.community.sub_district.name} "
            f"{request.compound.community.name} {request.compound.name}",
            "kind": request.get_kind_display(),
            "category": request.category.name if request.category_id else OTHER,
            "logged_on": timezone.localtime(request.logged_at).date(),
            "days_open": (end - request.logged_at).days,
        }


TALLY_COLUMNS = [
    Column("", 26),
    Column("本月新增", 10, INTEGER, total=True),
    Column("累计受理", 10, INTEGER, total=True),
    Column("累计办结", 10, INTEGER, total=True),
    Column("办结率", 10, PERCENT),
    Column("办结用时中位数（天）", 18, "0.0"),
]


def write_requests(workbook, context) -> None:
    month: Month = context["month"]
    by_category, by_community = request_tallies(month)
    rate = {5: "=IF(C{row}=0,0,D{row}/C{row})"}
    sheet = sheet_writer(workbook, context, "居民诉求", "居民诉求", TALLY_COLUMNS)
    for heading, tallies in (("一、按类别", by_category), ("二、按社区", by_community)):
        sheet.note(heading)
        first = sheet.row + 1
        for name, tally in tallies.items():
            row = sheet.row + 1
            sheet.write(
                [
                    name,
                    tally.new,
                    tally.to_date,
                    tally.resolved,
                    Formula(rate[5].format(row=row)),
                    tally.median_days,
                ]
            )
        sheet.totals("合计", first, extra=rate)
        sheet.blank()
    sheet.note(f"三、截至月末办理时间最长的 {OLDEST_OPEN} 件未办结诉求")
    sheet.write(["编号 · 位置", "类型", "类别", "受理日期", "已历时（天）", None])
    for item in oldest_open(month):
        sheet.write(
            [
                f"{item['number']} · {item['place']}",
                item["kind"],
                item["category"],
                item["logged_on"].isoformat(),
                item["days_open"],
                None,
            ],
            formats={1: "@", 2: "@", 3: "@", 4: INTEGER},
        )

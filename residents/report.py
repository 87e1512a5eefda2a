"""Sheet 4 of the monthly joint-meeting workbook: residents' requests, as they stood at the
end of the month (from each request's dated status log). No personal data: no names, no
phone numbers, only where and what."""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.utils import timezone

from renovation.report_workbook import INTEGER, PERCENT, Column, sheet_writer
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


def requests_then(month: Month) -> QuerySet[ResidentRequest]:
    """Requests logged by the end of the month, with when each was closed (resolved or
    declined) by then, and when it was resolved, from the status log."""
    _start, end = month_bounds(month)

    def first_log(statuses) -> Subquery:
        entries = RequestLog.objects.filter(
            request=OuterRef("pk"), to_status__in=statuses, at__lt=end
        ).order_by("at")
        return Subquery(entries.values("at")[:1], output_field=DateTimeField())

    return ResidentRequest.objects.filter(logged_at__lt=end).annotate(
        closed_at=first_log(CLOSED), resolved_at=first_log([RequestStatus.RESOLVED])
    )


@dataclass
class Tally:
    new: int = 0
    to_date: int = 0
    resolved: int = 0
    days: list[float] = field(default_factory=list)

    @property
    def median_days(self) -> float | None:
        return round(statistics.median(self.days), 1) if self.days else None


def request_tallies(month: Month) -> tuple[dict[str, Tally], dict[str, Tally]]:
    """(by category, by community): new this month, to date, resolved to date, and the days
    each resolved request took. One query, streamed."""
    start, _end = month_bounds(month)
    by_category: dict[str, Tally] = defaultdict(Tally)
    by_community: dict[str, Tally] = defaultdict(Tally)
    rows = requests_then(month).values_list(
        "category__name",
        "compound__community__sub_district__name",
        "compound__community__name",
        "logged_at",
        "resolved_at",
    )
    for category, sub_district, community, logged_at, resolved_at in rows.iterator(2000):
        for tally in (by_category[category or OTHER], by_community[f"{sub_district} {community}"]):
            tally.to_date += 1
            if logged_at >= start:
                tally.new += 1
            if resolved_at is not None:
                tally.resolved += 1
                tally.days.append((resolved_at - logged_at).total_seconds() / 86400)
    return dict(sorted(by_category.items())), dict(sorted(by_community.items()))


def oldest_open(month: Month, limit: int = OLDEST_OPEN) -> Iterator[dict]:
    """The requests open longest at the end of the month, oldest first."""
    _start, end = month_bounds(month)
    rows = (
        requests_then(month)
        .filter(closed_at=None)
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
                    rate[5].format(row=row),
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

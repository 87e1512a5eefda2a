"""Asking for and building the monthly report. One row per month: asking again while it is
being built changes nothing, and building again replaces the file."""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import MonthlyReport
from ..selectors.report import Month

logger = logging.getLogger(__name__)

# A build still "running" after this long was cut off (a worker died); it may be redone.
STALE_AFTER = datetime.timedelta(minutes=15)


def _check_month(month: Month) -> None:
    if month.first > timezone.localdate():
        raise ValidationError({"month": _("A report can only be made for a month that has begun.")})
    if month.first.year < 2000:
        raise ValidationError({"month": _("There is no programme data before 2000.")})


@transaction.atomic
def report_request(*, month: Month, user=None, enqueue: bool = True) -> MonthlyReport:
    """Ask for a month's workbook (user None: the schedule asked); the build task is queued
    once the request is committed. Two requests for the same month at once make one report:
    the second finds it waiting or being built. `enqueue=False` leaves the build to the
    caller (the command line builds synchronously)."""
    from ..tasks import build_monthly_report  # the tasks module imports this one

    _check_month(month)
    now = timezone.now()
    try:
        with transaction.atomic():
            report, created = MonthlyReport.objects.get_or_create(
                month=month.first, defaults={"requested_at": now, "requested_by": user}
            )
    except IntegrityError:  # the other request created the row first
        report, created = MonthlyReport.objects.get(month=month.first), False
    report = MonthlyReport.objects.select_for_update().get(pk=report.pk)
    if not created and _in_progress(report, now):
        return report
    report.status = MonthlyReport.Status.PENDING
    report.requested_by = user
    report.requested_at = now
    report.error = ""
    report.save(update_fields=["status", "requested_by", "requested_at", "error"])
    if enqueue:
        transaction.on_commit(lambda: build_monthly_report.delay(report.pk))
    return report


def _in_progress(report: MonthlyReport, now: datetime.datetime) -> bool:
    if report.status == MonthlyReport.Status.PENDING:
        return now - report.requested_at < STALE_AFTER
    if report.status == MonthlyReport.Status.RUNNING:
        return report.started_at is not None and now - report.started_at < STALE_AFTER
    return False


def report_build(*, report_id: int) -> MonthlyReport:
    """Build the workbook of a report row and store it, replacing any earlier file.

    Idempotent: a report already built since it was last asked for is left as it is, so a
    task delivered twice builds once. A failure is recorded with its reason and re-raised."""
    from ..report_workbook import build_workbook

    with transaction.atomic():
        report = MonthlyReport.objects.select_for_update().get(pk=report_id)
        now = timezone.now()
        if (
            report.status == MonthlyReport.Status.DONE
            and report.finished_at
            and (report.finished_at >= report.requested_at)
        ):
            return report
        if report.status == MonthlyReport.Status.RUNNING and _in_progress(report, now):
            return report
        report.status = MonthlyReport.Status.RUNNING
        report.started_at = now
        report.finished_at = None
        report.attempts += 1
        report.save(update_fields=["status", "started_at", "finished_at", "attempts"])

    try:
        content = build_workbook(Month.of(report.month))
    except Exception as error:
        logger.exception("monthly report %s failed", report.month)
        MonthlyReport.objects.filter(pk=report.pk).update(
            status=MonthlyReport.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
        raise

    with transaction.atomic():
        report = MonthlyReport.objects.select_for_update().get(pk=report_id)
        old_name = report.file.name if report.file else ""
        report.file.save(report.filename, ContentFile(content), save=False)
        report.status = MonthlyReport.Status.DONE
        report.error = ""
        report.finished_at = timezone.now()
        report.save(update_fields=["file", "status", "error", "finished_at"])
        if old_name and old_name != report.file.name:
            storage, name = report.file.storage, old_name
            transaction.on_commit(lambda: storage.delete(name))
    return report


def report_build_previous_month() -> MonthlyReport:
    """What the schedule runs on the 1st: last month's report, asked for by nobody."""
    month = Month.of(timezone.localdate()).previous()
    return report_request(month=month, user=None)

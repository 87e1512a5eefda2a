"""Asking for and building the monthly report. One row per month: asking again while it is
being built changes nothing, and building again replaces the file.

How a report recovers without a person: each row keeps the id of the Celery task that
builds it, so that task's retry (a lost database connection) or redelivery (a killed pool
process) takes the row back; a row left waiting or being built past its deadline
(settings.REPORT_STALE_AFTER) is queued again by the scheduled sweep; and a build the task
queue could not take (the broker was down) is recorded as not queued, so the page says so
and asking again queues it."""

import datetime
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from ..models import MonthlyReport
from ..selectors.report import Month

logger = logging.getLogger(__name__)

# A request the task queue could not take is queued again by the sweep after this long (or
# at once when someone asks again).
NOT_QUEUED_GRACE = datetime.timedelta(minutes=1)


def stale_after() -> datetime.timedelta:
    """How long a report may wait or be built before it is taken for lost; above the task's
    hard time limit, so a build still in time is never taken for a lost one."""
    return datetime.timedelta(seconds=settings.REPORT_STALE_AFTER)


def _check_month(month: Month) -> None:
    if month.first > timezone.localdate():
        raise ValidationError({"month": _("A report can only be made for a month that has begun.")})
    if month.first.year < 2000:
        raise ValidationError({"month": _("There is no programme data before 2000.")})


@transaction.atomic
def report_request(*, month: Month, user=None, enqueue: bool = True) -> MonthlyReport:
    """Ask for a month's workbook (user None: the schedule asked); the build task is queued
    once the request is committed (see `report_enqueue`). Two requests for the same month at
    once make one report: the second finds it waiting or being built. A request the task
    queue could not take is not "waiting": asking again queues it. `enqueue=False` leaves
    the build to the caller (the command line builds synchronously)."""
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
    _queue_anew(report, enqueue=enqueue)
    report.save(
        update_fields=["status", "requested_by", "requested_at", "error", "task_id", "queued_at"]
    )
    return report


def _queue_anew(report: MonthlyReport, *, enqueue: bool) -> None:
    """Give the row a new task id and, once committed, hand that task to the queue."""
    report.task_id = str(uuid.uuid4()) if enqueue else ""
    report.queued_at = None
    if enqueue:
        report_id = report.pk
        transaction.on_commit(lambda: report_enqueue(report_id=report_id))


def _in_progress(report: MonthlyReport, now: datetime.datetime) -> bool:
    if report.status == MonthlyReport.Status.PENDING:
        return report.queued_at is not None and now - report.queued_at < stale_after()
    if report.status == MonthlyReport.Status.RUNNING:
        return report.started_at is not None and now - report.started_at < stale_after()
    return False


def report_enqueue(*, report_id: int) -> bool:
    """Hand a report's build to the task queue under the task id kept on its row, and record
    that it was queued. When the broker cannot be reached (down, or hung: the broker's
    connection settings give up within about two seconds) the row stays "not queued", the
    failure is logged and False returned: the page says so, and asking again or the sweep
    queues it. With no broker configured the build runs here, inline."""
    from ..tasks import build_monthly_report  # the tasks module imports this one

    report = MonthlyReport.objects.get(pk=report_id)
    try:
        build_monthly_report.apply_async(args=[report.pk], task_id=report.task_id or None)
    except BrokerError:
        logger.exception("monthly report %s could not be queued", report)
        return False
    MonthlyReport.objects.filter(pk=report.pk, task_id=report.task_id).update(
        queued_at=timezone.now()
    )
    return True


def report_build(*, report_id: int, task_id: str = "") -> MonthlyReport:
    """Build the workbook of a report row and store it, replacing any earlier file.

    Idempotent: a report already built since it was last asked for is left as it is, so a
    task delivered twice builds once, and a build in progress under another task is left
    alone. The task that took the row (`task_id`, kept on the row) takes it back when it
    runs again: its retry after a lost database connection, or its redelivery after its
    pool process was killed. A failure is recorded with its reason and re-raised."""
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
        own = bool(task_id) and report.task_id == task_id
        if report.status == MonthlyReport.Status.RUNNING and not own:
            if _in_progress(report, now):
                return report
        report.status = MonthlyReport.Status.RUNNING
        report.started_at = now
        report.finished_at = None
        report.attempts += 1
        report.task_id = task_id
        report.save(update_fields=["status", "started_at", "finished_at", "attempts", "task_id"])

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


def report_requeue_stale() -> list[MonthlyReport]:
    """What the sweep runs: queue again each report left waiting or being built past its
    deadline (its worker was killed, its message lost), and each request the task queue
    could not take a while ago. Each goes back to "waiting" under a new task id; a late
    message of the old task finds it waiting (and builds it) or built (and leaves it)."""
    now = timezone.now()
    limit = now - stale_after()
    Status = MonthlyReport.Status
    stale = (
        Q(status=Status.PENDING, queued_at__lt=limit)
        | Q(status=Status.PENDING, queued_at=None, requested_at__lt=now - NOT_QUEUED_GRACE)
        | Q(status=Status.RUNNING, started_at__lt=limit)
        | Q(status=Status.RUNNING, started_at=None)
    )
    requeued = []
    for pk in MonthlyReport.objects.filter(stale).values_list("pk", flat=True):
        with transaction.atomic():
            # Checked again under the lock: a build may have begun or ended meanwhile.
            report = MonthlyReport.objects.select_for_update(skip_locked=True).filter(pk=pk)
            report = report.filter(stale).first()
            if report is None:
                continue
            logger.warning("monthly report %s was %s past its deadline", report, report.status)
            report.status = Status.PENDING
            _queue_anew(report, enqueue=True)
            report.save(update_fields=["status", "task_id", "queued_at"])
            requeued.append(report)
    return requeued


def report_build_previous_month() -> MonthlyReport:
    """What the schedule runs on the 1st: last month's report, asked for by nobody."""
    month = Month.of(timezone.localdate()).previous()
    return report_request(month=month, user=None)

"""Celery tasks: thin, they take ids and call a service."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .services.reports import report_build, report_build_previous_month, report_requeue_stale


@shared_task(
    bind=True,
    acks_late=True,
    # A killed pool process puts the task back in the queue; its row is taken back by id.
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    # Long enough for a city-scale workbook; the broker's visibility timeout is just above.
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT,
)
def build_monthly_report(self, report_id: int) -> str:
    report = report_build(report_id=report_id, task_id=self.request.id or "")
    return report.status


@shared_task
def request_previous_month_report() -> int:
    return report_build_previous_month().pk


@shared_task
def requeue_stale_reports() -> list[int]:
    return [report.pk for report in report_requeue_stale()]

"""Celery tasks: thin, they take ids and call a service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .services.reports import report_build, report_build_previous_month

# Long enough for a city-scale workbook; the broker's visibility timeout is set above it.
REPORT_SOFT_TIME_LIMIT = 600
REPORT_TIME_LIMIT = 660


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=REPORT_SOFT_TIME_LIMIT,
    time_limit=REPORT_TIME_LIMIT,
)
def build_monthly_report(report_id: int) -> str:
    report = report_build(report_id=report_id)
    return report.status


@shared_task
def request_previous_month_report() -> int:
    return report_build_previous_month().pk

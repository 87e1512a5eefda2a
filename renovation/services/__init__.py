"""Writes. Each service is atomic, checks its rules and raises ValidationError when one is
broken; rules that concurrency can break hold a row lock."""

from .funding import (
    allocation_create,
    check_allocation_fits,
    check_payment_fits,
    check_source_amount,
    clean_amount,
    disbursement_create,
    funding_source_create,
    funding_source_set_amount,
)
from .progress import progress_import
from .projects import allowed_transitions, progress_record, project_create, project_transition
from .registry import registry_import
from .reports import report_build, report_enqueue, report_request, report_requeue_stale

__all__ = [
    "allocation_create",
    "allowed_transitions",
    "check_allocation_fits",
    "check_payment_fits",
    "check_source_amount",
    "clean_amount",
    "disbursement_create",
    "funding_source_create",
    "funding_source_set_amount",
    "progress_import",
    "progress_record",
    "project_create",
    "project_transition",
    "registry_import",
    "report_build",
    "report_enqueue",
    "report_request",
    "report_requeue_stale",
]

"""Writes of progress in bulk: the monthly progress workbook sub-districts send."""

import datetime
from typing import BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import progress_import as importing
from ..access import ADD, has_permission, scope_queryset
from ..models import Community, ProgressUpdate, RenovationProject
from ..workbooks import NotAWorkbook, not_a_workbook_issue


def progress_import(
    *, file: BinaryIO | str, user, dry_run: bool, as_of: datetime.date | None = None
) -> "importing.ProgressImportResult":
    """Import a progress workbook: one figure per project and date, each checked with the
    rules of `progress_record`.

    All or nothing: a file with any bad row saves nothing, and the result lists every bad
    row. A row without its own 截至日期 takes `as_of`. `user` limits the import to the
    projects they may see and is recorded on each figure; None imports as the whole district
    (the management command without --user). A dry run checks everything and counts what
    would be added and updated, but saves nothing. Re-importing a file overwrites the same
    figures, never duplicates them.

    Bad rows are reported in the result rather than raised, because staff need all of them
    at once; PermissionDenied is raised for a user who may not add progress, and
    ValidationError for an as-of date later than today."""
    if user is not None and not has_permission(user, ProgressUpdate, ADD):
        raise PermissionDenied
    if as_of is not None and as_of > timezone.localdate():
        raise ValidationError({"as_of": _("The date cannot be later than today.")})
    try:
        workbook = importing.read_workbook(file)
    except NotAWorkbook:
        return importing.ProgressImportResult(dry_run=dry_run, errors=[not_a_workbook_issue()])
    communities, projects = _reportable(user)
    if dry_run:
        plan = importing.plan_import(
            workbook, communities=communities, projects=projects, as_of=as_of, user=user
        )
        plan.result.dry_run = True
        return plan.result
    return _progress_import_write(
        workbook=workbook, communities=communities, projects=projects, as_of=as_of, user=user
    )


@transaction.atomic
def _progress_import_write(
    *,
    workbook: "importing.ProgressWorkbook",
    communities: QuerySet[Community],
    projects: QuerySet[RenovationProject],
    as_of: datetime.date | None,
    user,
) -> "importing.ProgressImportResult":
    # Checked inside the transaction, with the projects locked, so a status change cannot
    # slip between the check and the write.
    plan = importing.plan_import(
        workbook, communities=communities, projects=projects, as_of=as_of, user=user, lock=True
    )
    if plan.result.ok:
        importing.write_plan(plan)
    return plan.result


def _reportable(user) -> tuple[QuerySet[Community], QuerySet[RenovationProject]]:
    communities, projects = Community.objects.all(), RenovationProject.objects.all()
    if user is None:
        return communities, projects
    return scope_queryset(user, communities), scope_queryset(user, projects)

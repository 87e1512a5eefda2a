"""Writes to the registry. Each service checks its rules and saves in one transaction."""

from typing import BinaryIO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from .. import registry_import as importing
from ..access import ADD, has_permission, scope_queryset
from ..models import Community, Compound


def registry_import(*, file: BinaryIO | str, user, dry_run: bool) -> importing.ImportResult:
    """Import the compound registry workbook (compounds, and optionally their buildings).

    All or nothing: a file with any bad row saves nothing, and the result lists every bad
    row. `user` limits the import to the communities they may see; None imports as the whole
    district (the management command without --user). A dry run checks everything and counts
    what would be created and updated, but saves nothing.

    Bad rows are reported in the result rather than raised, because staff need all of them
    at once; PermissionDenied is raised for a user who may not add compounds."""
    if user is not None and not has_permission(user, Compound, ADD):
        raise PermissionDenied
    try:
        workbook = importing.read_workbook(file)
    except importing.NotAWorkbook:
        return importing.ImportResult(dry_run=dry_run, errors=[importing.not_a_workbook_issue()])
    communities = _importable_communities(user)
    if dry_run:
        result = importing.plan_import(workbook, communities=communities).result
        result.dry_run = True
        return result
    return _registry_import_write(workbook=workbook, communities=communities)


@transaction.atomic
def _registry_import_write(
    *, workbook: importing.RegistryWorkbook, communities: QuerySet[Community]
) -> importing.ImportResult:
    # Checked inside the transaction, with the communities locked, so the registry cannot
    # change between the check and the write.
    plan = importing.plan_import(workbook, communities=communities, lock=True)
    if plan.result.ok:
        importing.write_plan(plan)
    return plan.result


def _importable_communities(user) -> QuerySet[Community]:
    communities = Community.objects.all()
    return communities if user is None else scope_queryset(user, communities)

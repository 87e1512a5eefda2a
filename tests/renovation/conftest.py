"""Fixtures shared by the renovation tests."""

import datetime
from decimal import Decimal

import pytest

from renovation.models import ProjectStatus, RenovationProject
from renovation.services import (
    allocation_create,
    disbursement_create,
    progress_record,
    project_transition,
)
from tests.factories import CompoundFactory, FundingSourceFactory, ProjectFactory

D = datetime.date


@pytest.fixture
def programme(registry, users):
    """Three 2022 projects on 30 June 2022: one under construction with money and progress,
    one with an approved plan, one still in the pipeline; and one 2021 project finished."""
    office = users["programme_office"]
    gy, bq, jn = (registry["compounds"][code] for code in ("GY", "BQ", "JN"))
    built = ProjectFactory(compound=gy, households_benefited=120, buildings_benefited=2)
    approved = ProjectFactory(compound=bq, households_benefited=80, buildings_benefited=2)
    ProjectFactory(compound=jn, households_benefited=40, buildings_benefited=1)
    old = ProjectFactory(compound=CompoundFactory(community=registry["a1"]), batch_year=2021)
    for project in RenovationProject.objects.all():
        project.transitions.create(to_status=ProjectStatus.PIPELINE, effective_on=D(2020, 10, 1))
    steps = [
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
    ]
    for status, on in steps:
        project_transition(project=built, to_status=status, user=office, on=on)
    for status, on in steps[:2]:
        project_transition(project=approved, to_status=status, user=office, on=on)
    for status, on in [
        (ProjectStatus.FEASIBILITY, D(2021, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2021, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2021, 3, 10)),
        (ProjectStatus.COMPLETED, D(2021, 10, 10)),
    ]:
        project_transition(project=old, to_status=status, user=office, on=on)
    progress_record(project=built, percent=35, on=D(2022, 5, 31), user=office)
    source = FundingSourceFactory(amount=Decimal("900000"), year=2022)
    allocation = allocation_create(
        source=source, project=built, amount="600000", on=D(2022, 3, 1), user=office
    )
    disbursement_create(allocation=allocation, amount="150000", on=D(2022, 4, 1), user=office)
    old_source = FundingSourceFactory(amount=Decimal("38600000"), year=2021)
    allocation_create(
        source=old_source, project=old, amount="38600000", on=D(2021, 3, 1), user=office
    )
    return {"built": built, "approved": approved, "old": old, "allocation": allocation}

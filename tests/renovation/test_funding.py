import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from renovation.models import Disbursement, FundingAllocation, FundingSource
from renovation.services import (
    allocation_create,
    disbursement_create,
    funding_source_create,
    funding_source_set_amount,
)
from tests.factories import FundingSourceFactory, ProjectFactory

pytestmark = pytest.mark.usefixtures("english")

D = datetime.date(2022, 5, 1)


@pytest.fixture
def office(users):
    return users["programme_office"]


@pytest.fixture
def project(registry):
    return ProjectFactory(compound=registry["compounds"]["GY"])


@pytest.fixture
def source(db):
    return FundingSourceFactory(amount=Decimal("100.00"))


def test_allocations_up_to_the_source_are_accepted(source, project, office):
    allocation_create(source=source, project=project, amount="60.00", on=D, user=office)
    allocation_create(source=source, project=project, amount=Decimal("40"), on=D, user=office)
    assert sum(a.amount for a in source.allocations.all()) == Decimal("100.00")


def test_allocation_beyond_the_source_is_refused_with_the_figures(source, project, office):
    allocation_create(source=source, project=project, amount="60.00", on=D, user=office)
    with pytest.raises(ValidationError) as error:
        allocation_create(source=source, project=project, amount="40.01", on=D, user=office)
    message = str(error.value)
    assert "¥100.00" in message and "¥60.00" in message and "¥40.00" in message
    assert FundingAllocation.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "greater than zero"),
        ("-5", "greater than zero"),
        ("1.005", "two decimal places"),
        ("abc", "Enter an amount"),
        ("", "Enter an amount"),
        (1.5, "not floating point"),
        ("NaN", "greater than zero"),
        ("1e15", "too large"),
    ],
)
def test_bad_amounts_are_refused(source, project, office, amount, words):
    with pytest.raises(ValidationError, match=words):
        allocation_create(source=source, project=project, amount=amount, on=D, user=office)
    assert not FundingAllocation.objects.exists()


def test_allocation_date_cannot_be_in_the_future(source, project, office):
    future = datetime.date.today() + datetime.timedelta(days=3)
    with pytest.raises(ValidationError, match="later than today"):
        allocation_create(source=source, project=project, amount="1", on=future, user=office)


def test_payments_never_exceed_the_allocation(source, project, office):
    allocation = allocation_create(source=source, project=project, amount="80", on=D, user=office)
    disbursement_create(allocation=allocation, amount="50", on=D, user=office)
    with pytest.raises(ValidationError) as error:
        disbursement_create(allocation=allocation, amount="30.01", on=D, user=office)
    assert "¥30.00 is left" in str(error.value) and "¥30.01" in str(error.value)
    disbursement_create(allocation=allocation, amount="30", on=D, user=office)
    assert Disbursement.objects.filter(project=project).count() == 2


def test_payment_cannot_be_dated_before_its_allocation(source, project, office):
    allocation = allocation_create(source=source, project=project, amount="80", on=D, user=office)
    with pytest.raises(ValidationError, match="before its allocation"):
        disbursement_create(
            allocation=allocation, amount="1", on=datetime.date(2022, 4, 1), user=office
        )


def test_source_amount_cannot_drop_below_what_is_allocated(source, project, office):
    allocation_create(source=source, project=project, amount="70", on=D, user=office)
    with pytest.raises(ValidationError, match="already allocated"):
        funding_source_set_amount(source=source, amount="69.99")
    funding_source_set_amount(source=source, amount="70")
    source.refresh_from_db()
    assert source.amount == Decimal("70.00")


def test_funding_source_document_number_is_unique_per_year(db):
    funding_source_create(
        kind="central_fiscal", year=2022, name="补助", document_number="桂财建〔2022〕1号", amount=5
    )
    with pytest.raises(ValidationError, match="already exists"):
        funding_source_create(
            kind="central_budget",
            year=2022,
            name="投资",
            document_number="桂财建〔2022〕1号",
            amount=5,
        )
    assert FundingSource.objects.count() == 1


def test_funding_source_kind_must_be_known(db):
    with pytest.raises(ValidationError, match="Unknown kind"):
        funding_source_create(kind="lottery", year=2022, name="x", document_number="1", amount=5)


def _race(worker, count: int) -> list:
    """Run `worker` in `count` threads released at the same moment; collect outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list = []

    def run():
        try:
            barrier.wait()
            outcomes.append(worker())
        except ValidationError as error:
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_allocations_at_once_cannot_exceed_the_source(registry, users):
    source = FundingSourceFactory(amount=Decimal("100.00"))
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    office = users["programme_office"]

    outcomes = _race(
        lambda: allocation_create(source=source, project=project, amount="60", on=D, user=office),
        count=2,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["FundingAllocation", "ValidationError"]
    assert FundingAllocation.objects.filter(source=source).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_cannot_exceed_the_allocation(registry, users):
    source = FundingSourceFactory(amount=Decimal("100.00"))
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    office = users["programme_office"]
    allocation = allocation_create(source=source, project=project, amount="100", on=D, user=office)

    outcomes = _race(
        lambda: disbursement_create(allocation=allocation, amount="70", on=D, user=office),
        count=3,
    )

    assert sum(isinstance(o, Disbursement) for o in outcomes) == 1
    assert sum(d.amount for d in Disbursement.objects.filter(project=project)) == Decimal("70")

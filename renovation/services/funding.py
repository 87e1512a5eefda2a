"""Writes of money. Each rule lives here once, under a row lock, so two people allocating
from the same source at the same moment cannot together exceed it."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..history import save_by
from ..models import Disbursement, FundingAllocation, FundingSource, RenovationProject

CENT = Decimal("0.01")
# 9,999 亿元: well above any district budget, well inside the column's 14 digits.
MAX_AMOUNT = Decimal("999999999999.99")


def yuan(value) -> str:
    """An amount as staff read it: ¥1,234,567.89."""
    return f"¥{Decimal(value):,.2f}"


def clean_amount(value, field: str = "amount") -> Decimal:
    """An exact, positive amount in yuan with at most two decimals; never a float."""
    if isinstance(value, float):
        raise ValidationError({field: _("Amounts must be exact decimals, not floating point.")})
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter an amount in yuan, such as 125000.00.")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({field: _("The amount must be greater than zero.")})
    # Before the rounding check: quantizing 1e309 to fen raised InvalidOperation (a 500).
    if amount > MAX_AMOUNT:
        raise ValidationError({field: _("The amount is too large.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("Amounts have at most two decimal places (fen).")})
    return amount


def _check_date(day: datetime.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be later than today.")})


def _sum(queryset) -> Decimal:
    return queryset.aggregate(total=Sum("amount"))["total"] or Decimal("0")


@transaction.atomic
def funding_source_create(
    *,
    kind: str,
    year: int,
    name: str,
    document_number: str,
    amount,
    received_on: datetime.date | None = None,
    notes: str = "",
    user=None,
) -> FundingSource:
    amount = clean_amount(amount)
    if kind not in FundingSource.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of funding source.")})
    if not (name or "").strip():
        raise ValidationError({"name": _("This field is required.")})
    if not (document_number or "").strip():
        raise ValidationError({"document_number": _("This field is required.")})
    if FundingSource.objects.filter(year=year, document_number=document_number.strip()).exists():
        raise ValidationError(
            {"document_number": _("A funding source with this document number already exists.")}
        )
    if received_on:
        _check_date(received_on, "received_on")
    source = FundingSource(
        kind=kind,
        year=year,
        name=name.strip(),
        document_number=document_number.strip(),
        amount=amount,
        received_on=received_on,
        notes=notes,
    )
    return save_by(source, user)


def check_source_amount(source: FundingSource, amount: Decimal) -> None:
    """A source's amount can never fall below what is already allocated from it."""
    allocated = _sum(source.allocations.all())
    if amount < allocated:
        raise ValidationError(
            {
                "amount": _(
                    "%(allocated)s is already allocated from this source; its amount cannot "
                    "be lower."
                )
                % {"allocated": yuan(allocated)}
            }
        )


@transaction.atomic
def funding_source_set_amount(*, source: FundingSource, amount, user=None) -> FundingSource:
    """Correct a source's amount, never below what is already allocated from it."""
    amount = clean_amount(amount)
    source = FundingSource.objects.select_for_update().get(pk=source.pk)
    check_source_amount(source, amount)
    source.amount = amount
    save_by(source, user, update_fields=["amount"])
    return source


@transaction.atomic
def allocation_create(
    *,
    source: FundingSource,
    project: RenovationProject,
    amount,
    on: datetime.date,
    user,
    note: str = "",
) -> FundingAllocation:
    """Allocate money from a source to a project; the source's allocations never exceed it."""
    amount = clean_amount(amount)
    _check_date(on, "allocated_on")
    # The lock makes concurrent allocations from one source queue up behind each other.
    source = FundingSource.objects.select_for_update().get(pk=source.pk)
    check_allocation_fits(source, amount)
    allocation = FundingAllocation(
        source=source, project=project, amount=amount, allocated_on=on, by=user, note=note
    )
    return save_by(allocation, user)


def check_allocation_fits(source: FundingSource, amount: Decimal) -> None:
    """The allocations of a source never add up to more than the source."""
    allocated = _sum(source.allocations.all())
    available = source.amount - allocated
    if amount > available:
        raise ValidationError(
            {
                "amount": _(
                    "The allocation exceeds what is left of the source: the source has "
                    "%(total)s, %(allocated)s is already allocated, %(available)s is left, "
                    "and this allocation asks for %(amount)s."
                )
                % {
                    "total": yuan(source.amount),
                    "allocated": yuan(allocated),
                    "available": yuan(available),
                    "amount": yuan(amount),
                }
            }
        )


@transaction.atomic
def disbursement_create(
    *,
    allocation: FundingAllocation,
    amount,
    on: datetime.date,
    user,
    voucher: str = "",
) -> Disbursement:
    """Pay out of an allocation; a project's payments never exceed what it was allocated."""
    amount = clean_amount(amount)
    _check_date(on, "paid_on")
    allocation = FundingAllocation.objects.select_for_update().get(pk=allocation.pk)
    check_payment_fits(allocation, amount, on)
    payment = Disbursement(
        allocation=allocation,
        project_id=allocation.project_id,
        amount=amount,
        paid_on=on,
        voucher=voucher,
        by=user,
    )
    return save_by(payment, user)


def check_payment_fits(allocation: FundingAllocation, amount: Decimal, on: datetime.date) -> None:
    """Payments out of an allocation never exceed it, so a project's payments never exceed
    what it was allocated."""
    if on < allocation.allocated_on:
        raise ValidationError(
            {
                "paid_on": _("A payment cannot be dated before its allocation (%(date)s).")
                % {"date": allocation.allocated_on.isoformat()}
            }
        )
    paid = _sum(allocation.disbursements.all())
    left = allocation.amount - paid
    if amount > left:
        raise ValidationError(
            {
                "amount": _(
                    "The payment exceeds what was allocated: the allocation is %(total)s, "
                    "%(paid)s is already paid, %(left)s is left, and this payment is "
                    "%(amount)s."
                )
                % {
                    "total": yuan(allocation.amount),
                    "paid": yuan(paid),
                    "left": yuan(left),
                    "amount": yuan(amount),
                }
            }
        )

"""Money: funding sources, their allocations to projects, and payments.

The rules (allocations never exceed their source, payments never exceed what was
allocated) live in renovation.services.funding, under row locks."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .projects import RenovationProject
from .registry import scope_via_compound, shown


class FundingSource(models.Model):
    class Kind(models.TextChoices):
        CENTRAL_FISCAL = "central_fiscal", _("central fiscal subsidy")
        CENTRAL_BUDGET = "central_budget", _("central budget investment")
        SOE_TRANSFER = "soe_transfer", _("city SASAC transfer renovation funds")
        DISTRICT_MATCHING = "district_matching", _("district matching funds")
        UTILITY = "utility", _("utility companies' contribution")
        RESIDENT = "resident", _("resident contribution")
        SOCIAL_CAPITAL = "social_capital", _("social capital")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=150)
    document_number = models.CharField(_("document number"), max_length=80)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # District money: local roles see a project's allocations, not the sources themselves.
    scope_lookups: dict = {}

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("funding source")
        verbose_name_plural = _("funding sources")
        ordering = ["-year", "kind", "document_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "document_number"], name="funding_document_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.document_number}）"


class FundingAllocation(models.Model):
    source = models.ForeignKey(
        FundingSource,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("funding source"),
    )
    project = models.ForeignKey(
        RenovationProject,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("project"),
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    allocated_on = models.DateField(_("allocated on"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope_lookups = scope_via_compound("project__compound")

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("funding allocation")
        verbose_name_plural = _("funding allocations")
        ordering = ["-allocated_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'source.name')} → {shown(self, 'project.name')}: {self.amount}"


class Disbursement(models.Model):
    allocation = models.ForeignKey(
        FundingAllocation,
        on_delete=models.PROTECT,
        related_name="disbursements",
        verbose_name=_("allocation"),
    )
    # Denormalised from the allocation so a project's payments are one indexed lookup.
    project = models.ForeignKey(
        RenovationProject,
        on_delete=models.PROTECT,
        related_name="disbursements",
        verbose_name=_("project"),
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    voucher = models.CharField(_("voucher number"), max_length=80, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope_lookups = scope_via_compound("project__compound")

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'project.name')} {self.paid_on}: {self.amount}"

"""Renovation projects ("one plan per compound"), their items, lifecycle and progress."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .registry import Building, Compound, scope_via_compound, shown


class ProjectStatus(models.TextChoices):
    PIPELINE = "pipeline", _("in the pipeline")
    FEASIBILITY = "feasibility", _("feasibility study")
    PLAN_APPROVED = "plan_approved", _("plan approved")
    UNDER_CONSTRUCTION = "under_construction", _("under construction")
    COMPLETED = "completed", _("completed")
    ACCEPTED = "accepted", _("accepted")


# The lifecycle in order; a project moves one step forward at a time.
LIFECYCLE = list(ProjectStatus)
# Statuses at which a project counts as "in preparation" (not yet on site).
PREPARATION = [ProjectStatus.PIPELINE, ProjectStatus.FEASIBILITY, ProjectStatus.PLAN_APPROVED]
FINISHED = [ProjectStatus.COMPLETED, ProjectStatus.ACCEPTED]


class ProjectQuerySet(models.QuerySet):
    def delayed(self, as_of: datetime.date | None = None) -> "ProjectQuerySet":
        """Planned finish has passed and the work is not completed."""
        as_of = as_of or timezone.localdate()
        return self.filter(planned_finish__lt=as_of).exclude(status__in=FINISHED)

    def of_batch(self, year: int) -> "ProjectQuerySet":
        return self.filter(batch_year=year)

    def as_of(self, day: datetime.date) -> "ProjectQuerySet":
        """Annotate `status_then`: each project's status at the end of `day`, from its
        recorded transitions (None for a project not yet in the pipeline then)."""
        last = (
            ProjectTransition.objects.filter(project=OuterRef("pk"), effective_on__lte=day)
            .order_by("-effective_on", "-created_at", "-pk")
            .values("to_status")[:1]
        )
        return self.annotate(status_then=Subquery(last))


class RenovationProject(models.Model):
    class Kind(models.TextChoices):
        REGULAR = "regular", _("regular renovation")
        SOE_TRANSFER = "soe_transfer", _("SOE water, power, gas and property transfer renovation")

    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="projects", verbose_name=_("compound")
    )
    batch_year = models.PositiveSmallIntegerField(
        _("batch year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    name = models.CharField(_("project name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REGULAR)
    is_key = models.BooleanField(_("key project"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PIPELINE
    )
    lead_unit = models.CharField(_("lead unit"), max_length=100, blank=True)
    builder = models.CharField(_("builder"), max_length=100, blank=True)
    supervisor = models.CharField(_("supervisor"), max_length=100, blank=True)
    buildings = models.ManyToManyField(
        Building, blank=True, related_name="projects", verbose_name=_("buildings covered")
    )
    households_benefited = models.PositiveIntegerField(_("households benefited"), default=0)
    buildings_benefited = models.PositiveIntegerField(_("buildings benefited"), default=0)
    budget = models.DecimalField(
        _("budget (yuan)"),
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    plan = models.TextField(_("construction plan"), blank=True)
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_finish = models.DateField(_("planned finish"), null=True, blank=True)
    feasibility_on = models.DateField(_("feasibility study started"), null=True, blank=True)
    plan_approved_on = models.DateField(_("plan approved on"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_finish = models.DateField(_("actual finish"), null=True, blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    willingness_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("willingness confirmed by"),
    )
    willingness_confirmed_at = models.DateTimeField(
        _("willingness confirmed at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    scope_lookups = scope_via_compound("compound")

    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        verbose_name = _("renovation project")
        verbose_name_plural = _("renovation projects")
        ordering = ["-batch_year", "compound__community__sub_district__code", "compound__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "batch_year"], name="project_one_per_compound_per_batch"
            ),
            # Dates agree with status: each step reached has its date.
            models.CheckConstraint(
                condition=Q(status__in=["pipeline", "feasibility"])
                | Q(plan_approved_on__isnull=False),
                name="project_plan_date_with_status",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pipeline", "feasibility", "plan_approved"])
                | Q(actual_start__isnull=False),
                name="project_start_date_with_status",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "accepted"]) | Q(actual_finish__isnull=False),
                name="project_finish_date_with_status",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_on__isnull=False),
                name="project_acceptance_date_with_status",
            ),
            models.CheckConstraint(
                condition=Q(actual_finish__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_finish__gte=F("actual_start")),
                name="project_finish_after_start",
            ),
            models.CheckConstraint(
                condition=Q(planned_finish__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_finish__gte=F("planned_start")),
                name="project_planned_finish_after_start",
            ),
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_not_negative"),
        ]
        indexes = [
            models.Index(fields=["batch_year", "status"], name="project_batch_status"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_delayed(self, as_of: datetime.date | None = None) -> bool:
        as_of = as_of or timezone.localdate()
        return bool(
            self.planned_finish and self.planned_finish < as_of and self.status not in FINISHED
        )


class ProjectTransition(models.Model):
    """One move of a project's status, with who made it, when, and why if it went back."""

    project = models.ForeignKey(
        RenovationProject,
        on_delete=models.CASCADE,
        related_name="transitions",
        verbose_name=_("project"),
    )
    from_status = models.CharField(
        _("from status"), max_length=20, choices=ProjectStatus.choices, blank=True
    )
    to_status = models.CharField(_("to status"), max_length=20, choices=ProjectStatus.choices)
    effective_on = models.DateField(_("effective on"))
    reason = models.TextField(_("reason"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    scope_lookups = scope_via_compound("project__compound")

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["project", "effective_on", "created_at", "pk"]
        indexes = [
            models.Index(fields=["effective_on", "project"], name="transition_as_of"),
            # A project's status on a day (ProjectQuerySet.as_of): its latest transition by
            # then, read from the top of this index instead of sorting its transitions.
            models.Index(
                fields=["project", "-effective_on", "-created_at", "-id"],
                name="transition_latest",
            ),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'project')}: {self.from_status} → {self.to_status}"


class ItemCategory(models.Model):
    """The catalogue of renovation items in the national three classes; staff extend it."""

    class ItemClass(models.TextChoices):
        BASIC = "basic", _("basic")
        IMPROVEMENT = "improvement", _("improvement")
        UPGRADE = "upgrade", _("upgrade")

    class Unit(models.TextChoices):
        SQUARE_METRE = "m2", _("m²")
        METRE = "m", _("m")
        KILOMETRE = "km", _("km")
        SPACE = "space", _("spaces")
        PILE = "pile", _("piles")
        LIFT = "lift", _("lifts")
        ROOM = "room", _("rooms")
        SET = "set", _("sets")
        ITEM = "item", _("items")

    class Statistic(models.TextChoices):
        """Physical quantities asked for by the national monthly statistics."""

        NONE = "", _("not counted")
        PIPES_KM = "pipes_km", _("pipes (km)")
        LIFTS = "lifts", _("lifts added")
        PARKING = "parking", _("parking spaces")
        EV_PILES = "ev_piles", _("EV charging piles")
        ELDERLY_ROOMS = "elderly_rooms", _("elderly-care rooms")
        CHILDCARE_ROOMS = "childcare_rooms", _("childcare rooms")

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    item_class = models.CharField(_("class"), max_length=20, choices=ItemClass.choices)
    default_unit = models.CharField(_("default unit"), max_length=10, choices=Unit.choices)
    statistic = models.CharField(
        _("national statistic"), max_length=20, choices=Statistic.choices, blank=True
    )
    is_active = models.BooleanField(_("in use"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    scope_lookups = None  # shared reference data, the same for everyone

    class Meta:
        verbose_name = _("item category")
        verbose_name_plural = _("item catalogue")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class ProjectItem(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    project = models.ForeignKey(
        RenovationProject, on_delete=models.CASCADE, related_name="items", verbose_name=_("project")
    )
    category = models.ForeignKey(
        ItemCategory, on_delete=models.PROTECT, related_name="items", verbose_name=_("category")
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(_("unit"), max_length=10, choices=ItemCategory.Unit.choices)
    budget = models.DecimalField(
        _("budget (yuan)"),
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )

    scope_lookups = scope_via_compound("project__compound")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("project item")
        verbose_name_plural = _("project items")
        ordering = ["project", "category__sort_order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="item_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'category.name')} {self.quantity}{self.get_unit_display()}"


class ProgressUpdate(models.Model):
    """Progress as it stood on a date; the latest one is the project's current progress."""

    project = models.ForeignKey(
        RenovationProject,
        on_delete=models.CASCADE,
        related_name="progress_updates",
        verbose_name=_("project"),
    )
    recorded_on = models.DateField(_("as of"))
    percent = models.PositiveSmallIntegerField(
        _("progress (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    scope_lookups = scope_via_compound("project__compound")

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["project", "-recorded_on"]
        constraints = [
            models.UniqueConstraint(fields=["project", "recorded_on"], name="progress_one_per_day"),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="progress_percent_range"
            ),
        ]
        indexes = [models.Index(fields=["project", "-recorded_on"], name="progress_latest")]

    def __str__(self) -> str:
        return f"{shown(self, 'project')} {self.recorded_on}: {self.percent}%"

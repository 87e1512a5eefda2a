"""The monthly joint-meeting report: one workbook per month, built by a Celery task."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .registry import shown


def report_upload_to(report: "MonthlyReport", filename: str) -> str:
    return f"reports/{report.month:%Y-%m}/{filename}"


class MonthlyReport(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("being built")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    file = models.FileField(_("workbook"), upload_to=report_upload_to, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("Empty when the schedule asked for it."),
    )
    requested_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The Celery task that builds the row: its own retry (a lost database connection, a
    # killed pool process) takes the row back; another task leaves a fresh build alone.
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    queued_at = models.DateTimeField(
        _("queued at"),
        null=True,
        blank=True,
        help_text=_("When the build was handed to the task queue; empty when it could not be."),
    )

    scope_lookups: dict = {}  # district-level: local roles do not see it

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month"]

    def __str__(self) -> str:
        return shown(self, "month", "%Y-%m")

    @property
    def not_queued(self) -> bool:
        """Waiting for a build that no task will make: the task queue could not be reached."""
        return self.status == self.Status.PENDING and self.queued_at is None

    @property
    def filename(self) -> str:
        return f"老旧小区改造联席会议月报-{self.month:%Y-%m}.xlsx"

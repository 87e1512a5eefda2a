"""Meetings of every kind with their votes and decisions, the departments that attend and
answer for them, and the consultation councils where residents' objections are settled."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from renovation.models import Community
from renovation.models.registry import shown

from .branches import TemporaryBranch, _scope


class Department(models.Model):
    """A district department or unit that attends joint meetings and answers for their
    decisions (区住建局, 区财政局 ...). Shared reference data, the same for everyone."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    short_name = models.CharField(_("short name"), max_length=20, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    scope_lookups = None

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.short_name or self.name


class MeetingKind(models.TextChoices):
    JOINT = "joint", _("district joint meeting")
    COORDINATION = "coordination", _("coordination meeting")
    HEARING = "hearing", _("hearing")
    CONSULTATION = "consultation", _("consultation council")
    BRANCH_COMMITTEE = "branch_committee", _("branch committee meeting")
    EXPANDED_COMMITTEE = "expanded_committee", _("expanded branch committee meeting")
    PARTY_ASSEMBLY = "party_assembly", _("party members' assembly")


# Meetings a branch holds (and so need one); the joint meeting is the district's own.
BRANCH_KINDS = (
    MeetingKind.CONSULTATION,
    MeetingKind.BRANCH_COMMITTEE,
    MeetingKind.EXPANDED_COMMITTEE,
    MeetingKind.PARTY_ASSEMBLY,
)
# The article: major matters are voted at an expanded committee or the members' assembly.
VOTING_KINDS = (MeetingKind.EXPANDED_COMMITTEE, MeetingKind.PARTY_ASSEMBLY)


class Meeting(models.Model):
    """Every kind of meeting in one model. District joint meetings have no community, so
    local roles never see them (renovation.access filters a null community out); the
    meetings of a branch or a community are scoped to it.

    A meeting's series is its kind at its place (district, community or branch): open
    decisions of one meeting are carried to the next meeting of the same series."""

    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices)
    branch = models.ForeignKey(
        TemporaryBranch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("branch"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_meetings",
        verbose_name=_("community"),
        help_text=_("Empty for a district-level meeting."),
    )
    title = models.CharField(_("title"), max_length=150)
    held_on = models.DateField(_("held on"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    chair = models.CharField(_("chaired by"), max_length=60, blank=True)
    agenda = models.TextField(_("agenda"), blank=True)
    attendees = models.TextField(
        _("attendees"), blank=True, help_text=_("One person per line, with their unit.")
    )
    attendance = models.PositiveIntegerField(_("people present"), default=0)
    departments = models.ManyToManyField(
        Department, blank=True, related_name="meetings", verbose_name=_("departments attending")
    )
    minutes = models.TextField(_("minutes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    scope_lookups = {"sub_district": "community__sub_district", "community": "community"}

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="joint") | Q(branch__isnull=True, community__isnull=True),
                name="meeting_joint_is_district_level",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in BRANCH_KINDS]) | Q(branch__isnull=False),
                name="meeting_branch_kinds_have_branch",
            ),
            models.CheckConstraint(
                condition=Q(branch__isnull=True) | Q(community__isnull=False),
                name="meeting_branch_has_community",
            ),
        ]
        indexes = [models.Index(fields=["kind", "held_on"], name="meeting_kind_held_on")]

    def __str__(self) -> str:
        return self.title

    def series_filter(self) -> Q:
        """The meetings of the same series as this one."""
        return Q(kind=self.kind, branch_id=self.branch_id, community_id=self.community_id)

    @property
    def is_district_level(self) -> bool:
        return self.community_id is None


class MeetingVote(models.Model):
    """A vote on a major matter at an expanded committee or a party members' assembly:
    carried when more than half of the members entitled to vote agree."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="votes", verbose_name=_("meeting")
    )
    matter = models.CharField(_("matter"), max_length=300)
    entitled = models.PositiveIntegerField(_("members entitled to vote"))
    votes_for = models.PositiveIntegerField(_("for"))
    votes_against = models.PositiveIntegerField(_("against"), default=0)
    abstentions = models.PositiveIntegerField(_("abstentions"), default=0)

    scope_lookups = _scope("meeting", Meeting.scope_lookups)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["meeting", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(entitled__gte=F("votes_for") + F("votes_against") + F("abstentions")),
                name="vote_not_more_than_entitled",
            ),
        ]

    def __str__(self) -> str:
        return self.matter

    @property
    def carried(self) -> bool:
        return self.votes_for * 2 > self.entitled


class DecisionStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    DROPPED = "dropped", _("dropped")


class DecisionQuerySet(models.QuerySet):
    def open(self) -> "DecisionQuerySet":
        return self.filter(status=DecisionStatus.OPEN)

    def overdue(self, today: datetime.date | None = None) -> "DecisionQuerySet":
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def open_on(self, day: datetime.date) -> "DecisionQuerySet":
        """Decisions taken by the end of `day` and not yet closed then."""
        return self.filter(meeting__held_on__lte=day).filter(
            Q(closed_on__isnull=True) | Q(closed_on__gt=day)
        )


class Decision(models.Model):
    """议定事项: something a meeting decided, who answers for it and by when."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("meeting")
    )
    text = models.TextField(_("decision"), max_length=1000)
    responsible_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("responsible department"),
    )
    responsible_unit = models.CharField(
        _("responsible unit"),
        max_length=100,
        blank=True,
        help_text=_("When it is not a district department: a sub-district, the builder ..."),
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    progress_note = models.TextField(_("progress so far"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = DecisionQuerySet.as_manager()

    scope_lookups = _scope("meeting", Meeting.scope_lookups)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(responsible_department__isnull=False) | ~Q(responsible_unit=""),
                name="decision_has_someone_responsible",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True)
                | (~Q(status="open") & Q(closed_on__isnull=False)),
                name="decision_closed_date_with_status",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="decision_status_due")]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def responsible(self) -> str:
        parts = [str(self.responsible_department or ""), self.responsible_unit]
        return "、".join(p for p in parts if p)

    @property
    def is_overdue(self) -> bool:
        return self.status == DecisionStatus.OPEN and self.due_on < timezone.localdate()


class DecisionReport(models.Model):
    """An open decision carried over to a later meeting of the same series, as an item the
    responsible unit reports on there."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="reports", verbose_name=_("meeting")
    )
    decision = models.ForeignKey(
        Decision, on_delete=models.CASCADE, related_name="reports", verbose_name=_("decision")
    )
    note = models.TextField(_("reported"), blank=True)

    scope_lookups = _scope("meeting", Meeting.scope_lookups)

    class Meta:
        verbose_name = _("item to report on")
        verbose_name_plural = _("items to report on")
        ordering = ["meeting", "decision__due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "decision"], name="report_once_per_meeting"),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'meeting')}: {shown(self, 'decision')}"


class ObjectionSettlement(models.Model):
    """An objection settled at a consultation council: the link from the meeting to the
    resident's objection, whose outcome the residents app records on the objection."""

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.PROTECT,
        related_name="settlements",
        verbose_name=_("consultation council"),
    )
    request = models.OneToOneField(
        "residents.ResidentRequest",
        on_delete=models.PROTECT,
        related_name="party_settlement",
        verbose_name=_("objection"),
    )
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("settled by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    scope_lookups = _scope("meeting", Meeting.scope_lookups)

    class Meta:
        verbose_name = _("objection settled")
        verbose_name_plural = _("objections settled")
        ordering = ["meeting", "pk"]

    def __str__(self) -> str:
        return f"{shown(self, 'meeting')}: {self.request_id}"

"""Temporary ("frontline") party branches with their members, building party groups and
volunteer teams; their activities; and their escalations to the community and
sub-district."""

import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from renovation.models import Building, Community, RenovationProject
from renovation.models.registry import shown

# Lookups used by renovation.access, for everything hanging from a branch.
BRANCH_SCOPE = {"sub_district": "community__sub_district", "community": "community"}


def _scope(prefix: str, base: dict[str, str] = BRANCH_SCOPE) -> dict[str, str]:
    return {level: f"{prefix}__{lookup}" for level, lookup in base.items()}


class BranchQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None) -> "BranchQuerySet":
        """Branches founded by `on` (today by default) and not dissolved by then."""
        on = on or timezone.localdate()
        return self.filter(founded_on__lte=on).filter(
            Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=on)
        )

    def active_during(self, first: datetime.date, last: datetime.date) -> "BranchQuerySet":
        """Branches that existed on at least one day between `first` and `last`."""
        return self.filter(founded_on__lte=last).filter(
            Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=first)
        )


class TemporaryBranch(models.Model):
    """临时党支部 / 一线支部: the party branch of a project (or a group of projects) under the
    community party committee. Party members of every unit on the project join it wherever
    their membership is registered; it is dissolved when its projects are accepted."""

    class DissolvedBecause(models.TextChoices):
        ACCEPTED = "accepted", _("projects accepted")
        OTHER = "other", _("other reason")

    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        related_name="party_branches",
        verbose_name=_("community party committee"),
    )
    projects = models.ManyToManyField(
        RenovationProject, related_name="party_branches", verbose_name=_("renovation projects")
    )
    founded_on = models.DateField(_("founded on"))
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    dissolved_because = models.CharField(
        _("dissolved because"), max_length=10, choices=DissolvedBecause.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = BranchQuerySet.as_manager()

    scope_lookups = BRANCH_SCOPE

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("temporary party branch")
        verbose_name_plural = _("temporary party branches")
        ordering = ["community__sub_district__code", "community__code", "-founded_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="branch_name_unique"),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=F("founded_on")),
                name="branch_dissolved_after_founded",
            ),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True, dissolved_because="")
                | (Q(dissolved_on__isnull=False) & ~Q(dissolved_because="")),
                name="branch_dissolution_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.dissolved_on is None or self.dissolved_on > timezone.localdate()


class MemberRole(models.TextChoices):
    FIRST_SECRETARY = "first_secretary", _("first secretary")
    SECRETARY = "secretary", _("secretary")
    DEPUTY = "deputy", _("deputy secretary")
    COMMITTEE_MEMBER = "committee_member", _("committee member")
    MEMBER = "member", _("member")


class UnitKind(models.TextChoices):
    DISTRICT_LEADERSHIP = "district_leadership", _("district leadership")
    LEAD_UNIT = "lead_unit", _("lead unit")
    SUB_DISTRICT = "sub_district", _("sub-district")
    COMMUNITY = "community", _("community")
    BUILDER = "builder", _("builder")
    SUPERVISOR = "supervisor", _("supervisor")
    DISPATCHED_CADRE = "dispatched_cadre", _("dispatched cadre")


class MemberQuerySet(models.QuerySet):
    def current(self, on: datetime.date | None = None) -> "MemberQuerySet":
        """Members who had joined by `on` (today by default) and not left by then."""
        on = on or timezone.localdate()
        return self.filter(joined_on__lte=on).filter(Q(left_on__isnull=True) | Q(left_on__gt=on))


class BranchMember(models.Model):
    """A party member serving in a branch, from whichever unit. A change of role is a new
    row (the old one is closed), so the branch can be reported as it stood on any day."""

    branch = models.ForeignKey(
        TemporaryBranch, on_delete=models.CASCADE, related_name="members", verbose_name=_("branch")
    )
    name = models.CharField(_("name"), max_length=30)
    unit_kind = models.CharField(_("unit kind"), max_length=20, choices=UnitKind.choices)
    unit_name = models.CharField(_("unit"), max_length=100)
    position = models.CharField(_("position in the unit"), max_length=60, blank=True)
    membership_held_at = models.CharField(
        _("party membership held at"),
        max_length=100,
        blank=True,
        help_text=_("The organisation where the member's party membership is registered."),
    )
    role = models.CharField(
        _("role in the branch"),
        max_length=20,
        choices=MemberRole.choices,
        default=MemberRole.MEMBER,
    )
    is_trainee = models.BooleanField(
        _("placed for training"),
        default=False,
        help_text=_("A cadre placed in the branch to be trained on the project (蹲点育苗)."),
    )
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    objects = MemberQuerySet.as_manager()

    scope_lookups = _scope("branch")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("branch member")
        verbose_name_plural = _("branch members")
        ordering = ["branch", "left_on", "role", "name"]
        constraints = [
            # One serving first secretary and one serving secretary per branch.
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(role="first_secretary", left_on__isnull=True),
                name="member_one_first_secretary",
            ),
            models.UniqueConstraint(
                fields=["branch"],
                condition=Q(role="secretary", left_on__isnull=True),
                name="member_one_secretary",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="member_left_after_joined",
            ),
            models.CheckConstraint(
                condition=Q(is_trainee=False) | Q(unit_kind="dispatched_cadre"),
                name="member_trainee_is_dispatched",
            ),
        ]
        indexes = [models.Index(fields=["branch", "role"], name="member_branch_role")]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_role_display()}）"


class BuildingGroup(models.Model):
    """楼栋党小组: the party group of one building of the project's compound."""

    branch = models.ForeignKey(
        TemporaryBranch,
        on_delete=models.CASCADE,
        related_name="building_groups",
        verbose_name=_("branch"),
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="party_groups", verbose_name=_("building")
    )
    leader = models.ForeignKey(
        BranchMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="groups_led",
        verbose_name=_("group leader"),
    )
    members = models.ManyToManyField(
        BranchMember, blank=True, related_name="building_groups", verbose_name=_("members")
    )
    founded_on = models.DateField(_("founded on"))

    scope_lookups = _scope("branch")

    class Meta:
        verbose_name = _("building party group")
        verbose_name_plural = _("building party groups")
        ordering = ["branch", "building__number"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "building"], name="group_one_per_building"),
        ]

    def __str__(self) -> str:
        return _("%(building)s party group") % {"building": shown(self, "building.number")}


class VolunteerTeam(models.Model):
    """A volunteer team formed for the renovation: 管家团, 调解队, 监督队, 邻里守望先锋队, or
    the residents' self-governance group (改造工作自治小组)."""

    class Kind(models.TextChoices):
        STEWARD = "steward", _("steward team")
        MEDIATION = "mediation", _("mediation team")
        SUPERVISION = "supervision", _("supervision team")
        NEIGHBOURHOOD_WATCH = "neighbourhood_watch", _("neighbourhood watch")
        SELF_GOVERNANCE = "self_governance", _("residents' self-governance group")

    branch = models.ForeignKey(
        TemporaryBranch,
        on_delete=models.CASCADE,
        related_name="volunteer_teams",
        verbose_name=_("branch"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60)
    founded_on = models.DateField(_("founded on"))

    scope_lookups = _scope("branch")

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["branch", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "name"], name="team_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class VolunteerMember(models.Model):
    class Kind(models.TextChoices):
        RESIDENT = "resident", _("resident")
        RESIDENT_REPRESENTATIVE = "representative", _("resident representative")
        PARTY_MEMBER = "party_member", _("party member")
        GRID_WORKER = "grid_worker", _("grid worker")
        BUILDING_HEAD = "building_head", _("building head")

    team = models.ForeignKey(
        VolunteerTeam, on_delete=models.CASCADE, related_name="members", verbose_name=_("team")
    )
    name = models.CharField(_("name"), max_length=30)
    kind = models.CharField(_("who"), max_length=20, choices=Kind.choices)
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    is_leader = models.BooleanField(_("team leader"), default=False)

    scope_lookups = _scope("team__branch")

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["team", "-is_leader", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team"], condition=Q(is_leader=True), name="volunteer_one_leader"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """A themed party day held as a door-to-door mobilisation day, an open reception day or
    an opinion collection day, or a branch meeting. The opinions collected are the resident
    requests it produced, linked, so they are counted rather than typed."""

    class Kind(models.TextChoices):
        MOBILISATION_DAY = "mobilisation", _("door-to-door mobilisation day")
        RECEPTION_DAY = "reception", _("open reception day")
        OPINION_DAY = "opinion", _("opinion collection day")
        BRANCH_MEETING = "branch_meeting", _("branch meeting")

    branch = models.ForeignKey(
        TemporaryBranch,
        on_delete=models.CASCADE,
        related_name="activities",
        verbose_name=_("branch"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    held_on = models.DateField(_("held on"))
    place = models.CharField(_("place"), max_length=100)
    participants = models.PositiveIntegerField(_("participants"), validators=[MinValueValidator(1)])
    households_visited = models.PositiveIntegerField(_("households visited"), default=0)
    summary = models.TextField(_("summary"), blank=True)
    requests = models.ManyToManyField(
        "residents.ResidentRequest",
        through="ActivityRequest",
        blank=True,
        related_name="party_activities",
        verbose_name=_("resident requests collected"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    scope_lookups = _scope("branch")

    class Meta:
        verbose_name = _("branch activity")
        verbose_name_plural = _("branch activities")
        ordering = ["branch", "-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(participants__gte=1), name="activity_participants"),
        ]
        indexes = [models.Index(fields=["held_on", "branch"], name="activity_held_on")]

    def __str__(self) -> str:
        return f"{shown(self, 'held_on', '%Y-%m-%d')} {self.get_kind_display()}"


class ActivityRequest(models.Model):
    """A resident request collected at an activity; a request is counted for one activity."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="+", verbose_name=_("activity")
    )
    request = models.OneToOneField(
        "residents.ResidentRequest",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("resident request"),
    )

    scope_lookups = _scope("activity__branch")

    class Meta:
        verbose_name = _("request collected")
        verbose_name_plural = _("requests collected")

    def __str__(self) -> str:
        return f"{self.activity_id} → {self.request_id}"


class EscalationQuerySet(models.QuerySet):
    def late(self, now: datetime.datetime | None = None) -> "EscalationQuerySet":
        """Escalations the community or the sub-district did not answer in time: still
        unanswered after the deadline, or answered after it."""
        now = now or timezone.now()
        return self.filter(
            Q(community_answered_at__isnull=True, respond_by__lt=now)
            | Q(community_answered_at__gt=F("respond_by"))
            | Q(sub_district_answered_at__isnull=True, respond_by__lt=now)
            | Q(sub_district_answered_at__gt=F("respond_by"))
        )

    def open(self) -> "EscalationQuerySet":
        return self.filter(resolved_on__isnull=True)


class Escalation(models.Model):
    """支部吹哨、社街报到: a branch raises a matter it cannot solve alone; the community and
    the sub-district must each answer ("report") by the deadline set when it was raised."""

    branch = models.ForeignKey(
        TemporaryBranch,
        on_delete=models.CASCADE,
        related_name="escalations",
        verbose_name=_("branch"),
    )
    matter = models.TextField(_("matter"), max_length=1000)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
    )
    respond_by = models.DateTimeField(_("answer due by"))
    community_answered_at = models.DateTimeField(_("community answered at"), null=True, blank=True)
    community_answer = models.TextField(_("community's answer"), blank=True)
    community_answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community answered by"),
    )
    sub_district_answered_at = models.DateTimeField(
        _("sub-district answered at"), null=True, blank=True
    )
    sub_district_answer = models.TextField(_("sub-district's answer"), blank=True)
    sub_district_answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sub-district answered by"),
    )
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    objects = EscalationQuerySet.as_manager()

    scope_lookups = _scope("branch")

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(respond_by__gt=F("raised_at")), name="escalation_deadline_after"
            ),
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | ~Q(resolution=""),
                name="escalation_resolution_with_date",
            ),
        ]

    def __str__(self) -> str:
        return self.matter[:60]

    def _late(self, answered_at, now) -> bool:
        return answered_at > self.respond_by if answered_at else now > self.respond_by

    def is_late(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self._late(self.community_answered_at, now) or self._late(
            self.sub_district_answered_at, now
        )

    @property
    def late(self) -> bool:
        return self.is_late()

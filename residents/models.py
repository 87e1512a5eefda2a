"""Residents' voices: wishes, objections, errands and complaints (the two-track intake),
willingness and satisfaction surveys, demand lists, errand bookings at the community station,
and the public page of each compound."""

import datetime
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from renovation.models import (
    Building,
    Community,
    Compound,
    ItemCategory,
    ProjectItem,
    RenovationProject,
)
from renovation.models.registry import scope_via_compound, shown

from .phones import validate_phone

# Lookups used by renovation.access for everything hanging from a compound.
COMPOUND_SCOPE = scope_via_compound("compound")


def _scope(prefix: str) -> dict[str, str]:
    return scope_via_compound(f"{prefix}__compound")


class RequestKind(models.TextChoices):
    WISH = "wish", _("wish")
    OBJECTION = "objection", _("objection during construction")
    ERRAND = "errand", _("errand")
    COMPLAINT = "complaint", _("complaint")


class Channel(models.TextChoices):
    DOOR_TO_DOOR = "door_to_door", _("door to door")
    COUNCIL = "council", _("residents' council")
    PARTY_MEETING = "party_meeting", _("party meeting")
    STATION = "station", _("community station")
    ONLINE = "online", _("online")
    HOTLINE = "hotline", _("hotline")


class RequestStatus(models.TextChoices):
    NEW = "new", _("new")
    UNDER_REVIEW = "under_review", _("under review")
    # Contexts: the same English words name project and item statuses, in other Chinese.
    ACCEPTED = "accepted", pgettext_lazy("request status", "accepted")
    DECLINED = "declined", _("declined")
    DEFERRED = "deferred", _("deferred")
    PLANNED = "planned", pgettext_lazy("request status", "planned")
    RESOLVED = "resolved", _("resolved")


S = RequestStatus
# The workflow: status → the statuses it may move to. Declined and resolved are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.NEW: (S.UNDER_REVIEW,),
    S.UNDER_REVIEW: (S.ACCEPTED, S.DECLINED, S.DEFERRED),
    S.DEFERRED: (S.UNDER_REVIEW,),
    S.ACCEPTED: (S.PLANNED, S.RESOLVED),
    S.PLANNED: (S.RESOLVED,),
    S.DECLINED: (),
    S.RESOLVED: (),
}
CLOSED = (S.DECLINED, S.RESOLVED)
# What the due date promises: for a wish, a decision before the compound's demand list is
# sent; for the other kinds, that the matter is dealt with. Deferring stops the clock.
WISH_WAITING = (S.NEW, S.UNDER_REVIEW)
OTHER_WAITING = (S.NEW, S.UNDER_REVIEW, S.ACCEPTED, S.PLANNED)


def overdue_q(today: datetime.date) -> Q:
    return Q(due_on__lt=today) & (
        Q(kind=RequestKind.WISH, status__in=WISH_WAITING)
        | (~Q(kind=RequestKind.WISH) & Q(status__in=OTHER_WAITING))
    )


class RequestQuerySet(models.QuerySet):
    def overdue(self, today: datetime.date | None = None) -> "RequestQuerySet":
        return self.filter(overdue_q(today or timezone.localdate()))

    def open(self) -> "RequestQuerySet":
        return self.exclude(status__in=CLOSED)


class DemandList(models.Model):
    """需求清单: a compound's accepted wishes grouped by category with household counts,
    reviewed at a residents' council or party meeting, then sent to the housing bureau.
    What is sent is frozen: its items are stored and no longer follow the wishes."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SENT = "sent", _("sent")
        RECEIVED = "received", _("received")

    class Meeting(models.TextChoices):
        COUNCIL = "council", _("residents' council")
        PARTY_MEETING = "party_meeting", _("party meeting")

    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="demand_lists", verbose_name=_("compound")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    send_by = models.DateField(
        _("to be sent by"),
        null=True,
        blank=True,
        help_text=_("Wishes logged while the list is a draft are due by this date."),
    )
    # Review at a meeting. The party-cells app will add a link to its meeting record; until
    # then the date, kind and note are what the meeting decided.
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    reviewed_at = models.CharField(
        _("reviewed at"), max_length=20, choices=Meeting.choices, blank=True
    )
    review_note = models.TextField(_("review note"), blank=True)
    sent_on = models.DateField(_("sent on"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    received_on = models.DateField(_("received on"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    scope_lookups = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("demand list")
        verbose_name_plural = _("demand lists")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One list in the making per compound, so every accepted wish has one home.
            models.UniqueConstraint(
                fields=["compound"], condition=Q(status="draft"), name="demandlist_one_draft"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(sent_on__isnull=False),
                name="demandlist_sent_date_with_status",
            ),
            models.CheckConstraint(
                condition=~Q(status="received") | Q(received_on__isnull=False),
                name="demandlist_received_date_with_status",
            ),
        ]

    def __str__(self) -> str:
        return _("%(compound)s demand list (%(status)s)") % {
            "compound": shown(self, "compound.name"),
            "status": self.get_status_display(),
        }

    @property
    def is_frozen(self) -> bool:
        return self.status != self.Status.DRAFT


class DemandListItem(models.Model):
    """One category line of a sent demand list, frozen when the list was sent."""

    demand_list = models.ForeignKey(
        DemandList, on_delete=models.CASCADE, related_name="items", verbose_name=_("demand list")
    )
    category = models.ForeignKey(
        ItemCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Empty means “other”: not in the item catalogue."),
    )
    households = models.PositiveIntegerField(_("households"))
    requests = models.PositiveIntegerField(_("wishes"))
    summary = models.TextField(_("summary"), blank=True)
    project_item = models.ForeignKey(
        ProjectItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("project item"),
    )

    scope_lookups = _scope("demand_list")

    class Meta:
        verbose_name = _("demand list item")
        verbose_name_plural = _("demand list items")
        ordering = ["demand_list", "category__sort_order", "pk"]

    def __str__(self) -> str:
        return f"{self.category or _('other')}: {self.households}"


class ResidentRequest(models.Model):
    """居民意愿: one wish, objection, errand or complaint, from either track."""

    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.NEW
    )
    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="requests", verbose_name=_("compound")
    )
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("building"),
    )
    unit_number = models.PositiveSmallIntegerField(
        _("stairwell unit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    room = models.CharField(_("room"), max_length=10, blank=True)
    category = models.ForeignKey(
        ItemCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Empty means “other”: not in the item catalogue."),
    )
    description = models.TextField(_("description"), max_length=1000)
    # Only what is needed to call the resident back; never an ID-card number.
    contact_name = models.CharField(_("contact name"), max_length=30, blank=True)
    contact_phone = models.CharField(
        _("contact phone"), max_length=20, blank=True, validators=[validate_phone]
    )
    is_verified = models.BooleanField(
        _("verified"),
        default=True,
        help_text=_("Online wishes stay unverified until community staff review them."),
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged by"),
    )
    logged_at = models.DateTimeField(_("logged at"), default=timezone.now)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    due_on = models.DateField(_("due on"))
    answer = models.TextField(_("answer to the resident"), blank=True)
    project = models.ForeignKey(
        RenovationProject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_requests",
        verbose_name=_("project"),
    )
    project_item = models.ForeignKey(
        ProjectItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resident_requests",
        verbose_name=_("project item"),
    )
    demand_list = models.ForeignKey(
        DemandList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("demand list"),
    )
    # Settling an objection. Hook: the party-cells app adds a nullable link to the
    # consultation meeting (协商议事会) where it was settled; the service takes `meeting=`.
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("settled by"),
    )
    settlement = models.TextField(_("outcome"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RequestQuerySet.as_manager()

    scope_lookups = COMPOUND_SCOPE

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("resident request")
        verbose_name_plural = _("resident requests")
        ordering = ["-logged_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="planned") | Q(project_item__isnull=False),
                name="request_planned_has_item",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(answer=""),
                name="request_declined_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["compound", "status"], name="request_compound_status"),
            models.Index(fields=["status", "due_on"], name="request_status_due"),
            # A grid worker's requests, newest first, in the two parts the list reads them
            # in (residents.selectors.request_parts), with what the counts by status need:
            # both are read from the index alone, never from the requests' rows.
            models.Index(
                fields=["logged_by", "-logged_at", "-id"],
                include=["compound", "status", "kind", "due_on"],
                name="request_logged_by_page",
            ),
            models.Index(
                fields=["assigned_to", "-logged_at", "-id"],
                include=["logged_by", "compound", "status", "kind", "due_on"],
                name="request_assigned_page",
            ),
            # A community's or compound's newest requests, cut to a page from the index alone
            # (see residents.selectors.PageFirst): the lists of community staff and the admin.
            models.Index(fields=["compound", "-logged_at", "-id"], name="request_compound_logged"),
            # Everyone's newest requests, for the district-wide roles' lists: their first
            # page is read from the top of the index instead of sorting a city's requests.
            # (A community's lists keep the index above: PostgreSQL prefers it for them.)
            models.Index(fields=["-logged_at", "-id"], name="request_logged"),
        ]

    def __str__(self) -> str:
        return _("%(kind)s no. %(number)s") % {"kind": self.get_kind_display(), "number": self.pk}

    @property
    def is_overdue(self) -> bool:
        waiting = WISH_WAITING if self.kind == RequestKind.WISH else OTHER_WAITING
        return self.due_on < timezone.localdate() and self.status in waiting

    @property
    def place(self) -> str:
        """Building, stairwell unit and room, as far as they are known."""
        parts = [self.building.number if self.building_id else ""]
        if self.unit_number:
            parts.append(_("unit %(number)s") % {"number": self.unit_number})
        if self.room:
            parts.append(_("room %(room)s") % {"room": self.room})
        return " ".join(p for p in parts if p)


class RequestLog(models.Model):
    """Every status change of a request (and its assignment), with who and when."""

    request = models.ForeignKey(
        ResidentRequest, on_delete=models.CASCADE, related_name="log", verbose_name=_("request")
    )
    from_status = models.CharField(
        _("from status"), max_length=20, choices=RequestStatus.choices, blank=True
    )
    to_status = models.CharField(_("to status"), max_length=20, choices=RequestStatus.choices)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    scope_lookups = _scope("request")

    class Meta:
        verbose_name = _("request history entry")
        verbose_name_plural = _("request history")
        ordering = ["request", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status} → {self.to_status}"


class RequestListVersion(models.Model):
    """The version of what a community's lists of requests show, for keeping a page of them
    in the cache (residents.selectors.request_lists_version): its requests, and the names
    and numbers of its compounds and buildings. Written by database triggers alone
    (migration 0006), in the transaction of the change, whichever way it is made: saves,
    bulk and queryset writes, raw SQL, COPY, cascades. Community 0 stands for the item
    categories, which every list names.

    Every change sets its communities' versions to a new number larger than any given
    before (a sequence on PostgreSQL), so the sum of the versions of a set of communities
    grows with every committed change to any of them, in whatever order the changes
    commit; with their count, it never comes back to a value it had."""

    CATEGORIES = 0  # the community_id of the item categories' version

    community_id = models.BigIntegerField(_("community"), primary_key=True)
    version = models.BigIntegerField(_("version"))

    class Meta:
        verbose_name = _("version of a community's request lists")
        verbose_name_plural = _("versions of communities' request lists")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.community_id}: {self.version}"


class Survey(models.Model):
    """改造意愿 / 满意度: a door-to-door survey of a compound's households."""

    class Kind(models.TextChoices):
        WILLINGNESS = "willingness", _("willingness survey")
        SATISFACTION = "satisfaction", _("satisfaction survey")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("compound")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    project = models.ForeignKey(
        RenovationProject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("project"),
        help_text=_("The completed project a satisfaction survey asks about."),
    )
    started_on = models.DateField(_("started on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    scope_lookups = COMPOUND_SCOPE

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["compound", "kind"], condition=Q(status="open"), name="survey_one_open"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_on__isnull=False),
                name="survey_closed_date_with_status",
            ),
            models.CheckConstraint(
                condition=~Q(kind="satisfaction") | Q(project__isnull=False),
                name="survey_satisfaction_has_project",
            ),
        ]

    def __str__(self) -> str:
        kind = self.get_kind_display()
        return f"{shown(self, 'compound.name')} {kind} {shown(self, 'started_on', '%Y-%m-%d')}"


class SurveyAnswer(models.Model):
    """One household's answer, kept per building and stairwell unit: one household holding
    out on a shared pipe stack stalls the work there."""

    class Answer(models.TextChoices):
        YES = "yes", _("agree")
        NO = "no", _("disagree")
        NOT_REACHED = "not_reached", _("not reached")

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="answers", verbose_name=_("survey")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("building")
    )
    unit_number = models.PositiveSmallIntegerField(
        _("stairwell unit"), validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    room = models.CharField(_("room"), max_length=10)
    answer = models.CharField(_("answer"), max_length=20, choices=Answer.choices)
    answered_on = models.DateField(_("answered on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    scope_lookups = _scope("survey")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("household answer")
        verbose_name_plural = _("household answers")
        ordering = ["survey", "building__number", "unit_number", "room"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "building", "unit_number", "room"],
                name="surveyanswer_one_per_household",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{shown(self, 'building')} {self.unit_number}-{self.room}: {self.get_answer_display()}"
        )


class ServiceHours(models.Model):
    """定时服务: the fixed weekly hours of a community station, open without booking."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    place = models.CharField(_("place"), max_length=100)

    scope_lookups = {"sub_district": "community__sub_district", "community": "community"}

    class Meta:
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")
        ordering = ["community", "weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="servicehours_order"
            ),
        ]

    def __str__(self) -> str:
        hours = f"{shown(self, 'opens_at', '%H:%M')}–{shown(self, 'closes_at', '%H:%M')}"
        return f"{self.get_weekday_display()} {hours}"


class ServiceSlot(models.Model):
    """预约点单: one bookable appointment at the community station."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=100)

    scope_lookups = {"sub_district": "community__sub_district", "community": "community"}

    class Meta:
        verbose_name = _("service slot")
        verbose_name_plural = _("service slots")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="serviceslot_order"
            ),
            models.UniqueConstraint(
                fields=["community", "starts_at", "place"], name="serviceslot_unique"
            ),
        ]

    def __str__(self) -> str:
        if self.starts_at is None:
            return f"— {self.place}"
        start = timezone.localtime(self.starts_at)
        return f"{start:%Y-%m-%d %H:%M} {self.place}"


class ErrandBooking(models.Model):
    """An errand booked into a slot; at most one live booking per slot."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    slot = models.ForeignKey(
        ServiceSlot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot")
    )
    request = models.ForeignKey(
        ResidentRequest,
        on_delete=models.CASCADE,
        related_name="bookings",
        verbose_name=_("errand"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
        help_text=_("Empty when the resident booked online."),
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    scope_lookups = {
        "sub_district": "slot__community__sub_district",
        "community": "slot__community",
    }

    class Meta:
        verbose_name = _("errand booking")
        verbose_name_plural = _("errand bookings")
        ordering = ["slot__starts_at", "pk"]
        constraints = [
            # The database refuses a double booking, whatever path the write takes.
            models.UniqueConstraint(
                fields=["slot"], condition=~Q(status="cancelled"), name="booking_one_per_slot"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_at__isnull=False),
                name="booking_done_time_with_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'slot')}: {shown(self, 'request')}"


def new_token() -> str:
    return secrets.token_urlsafe(18)


class CompoundPage(models.Model):
    """The public page of a compound, reached by the QR code at its gate. The token in the
    address is unguessable, so compounds cannot be walked through by counting."""

    compound = models.OneToOneField(
        Compound, on_delete=models.CASCADE, related_name="public_page", verbose_name=_("compound")
    )
    token = models.CharField(_("token"), max_length=40, unique=True, default=new_token)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    scope_lookups = COMPOUND_SCOPE

    class Meta:
        verbose_name = _("public compound page")
        verbose_name_plural = _("public compound pages")
        ordering = ["compound__community__code", "compound__code"]

    def __str__(self) -> str:
        return shown(self, "compound.name")

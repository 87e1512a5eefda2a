import io
from fractions import Fraction

import segno
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from renovation.access import CHANGE, has_permission
from renovation.admin import ScopedHistoryAdmin, ScopedModelAdmin, ScopedTabularInline
from renovation.selectors import community_list

from .models import (
    CompoundPage,
    DemandList,
    DemandListItem,
    ErrandBooking,
    RequestLog,
    ResidentRequest,
    ServiceHours,
    ServiceSlot,
    Survey,
    SurveyAnswer,
)
from .phones import mask_phone
from .selectors import joins_pay_off, percent, shown_phone, survey_consent
from .services import compound_page_renew_token, errand_done, survey_close


class ReadOnlyInline(ScopedTabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("1", _("yes")), ("0", _("no"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.overdue()
        if self.value() == "0":
            return queryset.exclude(pk__in=queryset.overdue().values("pk"))
        return queryset


class CommunityFilter(admin.SimpleListFilter):
    """The communities the user may see, named with their sub-district in one query
    (the stock related filter looks each sub-district up one by one)."""

    title = _("community")
    parameter_name = "community"
    lookup = "compound__community"

    def lookups(self, request, model_admin):
        # Labels as Community.__str__ gives them, without building a model per community.
        rows = community_list(user=request.user).values_list("pk", "sub_district__name", "name")
        return [(str(pk), f"{sub_district} {name}") for pk, sub_district, name in rows]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.lookup: value}) if value and value.isdigit() else queryset


class SlotCommunityFilter(CommunityFilter):
    lookup = "community"


class BookingCommunityFilter(CommunityFilter):
    lookup = "slot__community"


class RequestLogInline(ReadOnlyInline):
    model = RequestLog
    fields = ["at", "from_status", "to_status", "note", "by"]
    readonly_fields = fields


@admin.register(ResidentRequest)
class ResidentRequestAdmin(ScopedHistoryAdmin):
    """Read-only here: requests are logged and worked on the residents' pages, where the
    workflow service keeps every change and its history."""

    list_display = [
        "number",
        "kind",
        "status",
        "overdue",
        "compound",
        "category",
        "channel",
        "contact_name",
        "phone",
        "logged_at",
        "due_on",
    ]
    list_select_related = ["compound__community", "category", "logged_by"]
    list_filter = [
        "status",
        "kind",
        "channel",
        OverdueFilter,
        "is_verified",
        CommunityFilter,
        # Not date_hierarchy: its year and month links cost a scan of the filtered requests
        # on every page (a city has millions); these fixed ranges cost nothing.
        ("logged_at", admin.DateFieldListFilter),
    ]
    search_fields = ["description", "compound__name", "room"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [RequestLogInline]
    exclude = ["contact_phone"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_select_related(self, request):
        # Beyond a community, join after paging (see residents.selectors.joins_pay_off).
        return self.list_select_related if joins_pay_off(request.user) else ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if joins_pay_off(request.user):
            return queryset
        return queryset.prefetch_related(*self.list_select_related)

    def _phone_column(self, request):
        """The phone as the person looking may see it (the admin instance is shared
        between requests, so the user is bound here, not stored on it). One column per
        request: the form's fields and its read-only fields must name the same one, or the
        version page of the history answers 500."""
        if not hasattr(request, "_phone_column"):
            user = request.user

            def phone(obj):
                return shown_phone(user, obj)

            phone.short_description = _("contact phone")
            request._phone_column = phone
        return request._phone_column

    def get_list_display(self, request):
        phone = self._phone_column(request)
        return [phone if name == "phone" else name for name in self.list_display]

    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in self.model._meta.fields if f.name != "contact_phone"]
        return [*fields, self._phone_column(request)]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("number"), ordering="pk")
    def number(self, obj):
        return format_html('<a href="{}">#{}</a>', reverse("request-detail", args=[obj.pk]), obj.pk)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description=_("contact phone"))
    def phone(self, obj):
        return mask_phone(obj.contact_phone)  # replaced per request by _phone_column


@admin.register(RequestLog)
class RequestLogAdmin(ScopedModelAdmin):
    list_display = ["request", "at", "from_status", "to_status", "by"]
    list_select_related = ["request", "by"]
    list_filter = ["to_status", ("at", admin.DateFieldListFilter)]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SurveyAnswerInline(ReadOnlyInline):
    model = SurveyAnswer
    fields = ["building", "unit_number", "room", "answer", "answered_on", "recorded_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("building__compound", "recorded_by")


@admin.register(Survey)
class SurveyAdmin(ScopedHistoryAdmin):
    list_display = ["compound", "kind", "status", "started_on", "closed_on", "answered", "rate"]
    list_select_related = ["compound__community"]
    list_filter = ["kind", "status", CommunityFilter]
    search_fields = ["compound__name", "compound__code"]
    autocomplete_fields = ["compound"]
    actions = ["close_surveys"]
    readonly_fields = ["consent"]
    inlines = [SurveyAnswerInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                answered_count=Count("answers"),
                agree_count=Count("answers", filter=Q(answers__answer=SurveyAnswer.Answer.YES)),
            )
            .order_by(*Survey._meta.ordering)
        )

    def has_add_permission(self, request, obj=None):
        return False  # opened on the survey pages, through the service and its rules

    def has_change_permission(self, request, obj=None):
        return False  # answers are recorded door to door on the survey page

    @admin.display(description=_("answers"), ordering="answered_count")
    def answered(self, obj):
        return obj.answered_count

    @admin.display(description=_("consent (%)"))
    def rate(self, obj):
        # The list shows agreeing households over all households in the registry.
        base = max(obj.compound.households, obj.answered_count)
        return f"{percent(_fraction(obj.agree_count, base))}"

    @admin.display(description=_("consent"))
    def consent(self, obj):
        consent = survey_consent(obj)
        return f"{consent.percent}% ({consent.agree}/{consent.base})"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_permission(request.user, Survey, CHANGE):
            actions.pop("close_surveys", None)
        return actions

    @admin.action(description=_("Close the selected surveys"))
    def close_surveys(self, request, queryset):
        for survey in queryset:
            try:
                survey_close(survey=survey, user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{survey}: {' '.join(error.messages)}", messages.ERROR)


def _fraction(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


class DemandListItemInline(ReadOnlyInline):
    model = DemandListItem
    fields = ["category", "households", "requests", "project_item"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category", "project_item__category")


@admin.register(DemandList)
class DemandListAdmin(ScopedModelAdmin):
    """Read-only here: lists are drafted, reviewed, sent and received on their own pages."""

    list_display = ["compound", "status", "send_by", "reviewed_on", "sent_on", "received_on"]
    list_select_related = ["compound__community"]
    list_filter = ["status", CommunityFilter]
    search_fields = ["compound__name"]
    inlines = [DemandListItemInline]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceHours)
class ServiceHoursAdmin(ScopedModelAdmin):
    list_display = ["community", "weekday", "opens_at", "closes_at", "place"]
    list_select_related = ["community__sub_district"]
    list_filter = [SlotCommunityFilter, "weekday"]


@admin.register(ServiceSlot)
class ServiceSlotAdmin(ScopedModelAdmin):
    list_display = ["starts_at", "ends_at", "place", "community", "booked"]
    list_select_related = ["community__sub_district"]
    list_filter = [SlotCommunityFilter]
    date_hierarchy = "starts_at"

    def get_queryset(self, request):
        live = Q(bookings__status__in=[ErrandBooking.Status.BOOKED, ErrandBooking.Status.DONE])
        return super().get_queryset(request).annotate(live=Count("bookings", filter=live))

    @admin.display(description=_("booked"), boolean=True)
    def booked(self, obj):
        return obj.live > 0


@admin.register(ErrandBooking)
class ErrandBookingAdmin(ScopedModelAdmin):
    list_display = ["slot", "request", "status", "booked_by", "booked_at", "done_at"]
    list_select_related = ["slot", "request", "booked_by"]
    list_filter = ["status", BookingCommunityFilter]
    actions = ["mark_done"]

    def has_add_permission(self, request, obj=None):
        return False  # booked from the errand's page, where the double-booking rule holds

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_permission(request.user, ErrandBooking, CHANGE):
            actions.pop("mark_done", None)
        return actions

    @admin.action(description=_("Mark the selected errands done"))
    def mark_done(self, request, queryset):
        for booking in queryset:
            try:
                errand_done(booking=booking, user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{booking}: {' '.join(error.messages)}", messages.ERROR)


@admin.register(CompoundPage)
class CompoundPageAdmin(ScopedModelAdmin):
    """The public page of each compound and its printable QR code."""

    list_display = ["compound", "community", "is_active", "created_at", "qr_code"]
    list_select_related = ["compound__community"]
    list_filter = ["is_active", CommunityFilter]
    search_fields = ["compound__name", "compound__code"]
    autocomplete_fields = ["compound"]
    fields = ["compound", "is_active", "token"]
    readonly_fields = ["token"]
    actions = ["renew_tokens"]

    @admin.display(description=_("community"), ordering="compound__community__code")
    def community(self, obj):
        return obj.compound.community.name

    @admin.display(description=_("QR code"))
    def qr_code(self, obj):
        url = reverse("admin:residents_compoundpage_qr", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("print"))

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/qr/",
                self.admin_site.admin_view(self.qr_view),
                name="residents_compoundpage_qr",
            ),
        ]
        return custom + super().get_urls()

    def qr_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        page = self.get_object(request, object_id)
        url = request.build_absolute_uri(reverse("public-compound", args=[page.token]))
        buffer = io.BytesIO()
        segno.make(url, error="m").save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
        context = {"page": page, "url": url, "svg": buffer.getvalue().decode()}
        return TemplateResponse(request, "admin/residents/compoundpage/qr.html", context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_permission(request.user, CompoundPage, CHANGE):
            actions.pop("renew_tokens", None)
        return actions

    @admin.action(description=_("Give the selected pages a new address (old QR codes stop)"))
    def renew_tokens(self, request, queryset):
        for page in queryset:
            compound_page_renew_token(page=page)
        self.message_user(request, _("New addresses made: print the new QR codes."))

    def response_add(self, request, obj, post_url_continue=None):
        return redirect("admin:residents_compoundpage_changelist")

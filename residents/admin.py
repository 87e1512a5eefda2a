import datetime
import functools
import io
from fractions import Fraction

import segno
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
)
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.exceptions import (
    FieldDoesNotExist,
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import models
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, get_urlconf, path, reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from renovation.access import CHANGE, has_permission, scope_key
from renovation.admin import ScopedHistoryAdmin, ScopedModelAdmin, ScopedTabularInline
from renovation.cache import FRAGMENT_TIMEOUT, cached, fragment_key, rows_shown
from renovation.filters import COMMUNITY_CHOICES_MAX
from renovation.models import Community, SubDistrict
from renovation.selectors import community_list, sub_district_list

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
    overdue_q,
)
from .phones import mask_phone
from .selectors import KeptPageFirst, PageFirst, percent, shown_phone, survey_consent
from .services import compound_page_renew_token, errand_done, survey_close

_NUMBER = 9876543210  # stands in for a request's number in _request_url_pattern


@functools.lru_cache(maxsize=8)
def _request_url_pattern(script_prefix: str, urlconf: str | None) -> str:
    """A request page's address with `{}` for its number: the list reverses it once, not
    once per row (the arguments are what reverse() depends on besides the number)."""
    return reverse("request-detail", args=[_NUMBER]).replace(str(_NUMBER), "{}")


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


class SubDistrictFilter(admin.SimpleListFilter):
    """The sub-districts the user may see: in a city, the way to its communities (see
    CommunityFilter)."""

    title = _("sub-district")
    parameter_name = "sub_district"
    lookup = "compound__community__sub_district"

    def lookups(self, request, model_admin):
        return _area_choices(request)["sub_districts"]

    def has_output(self):
        # Only a choice to make is shown; one made is applied (the admin applies the
        # filters it shows), even one outside the user's area, which finds nothing.
        return len(self.lookup_choices) > 1 or self.value() is not None

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.lookup: value}) if value and value.isdigit() else queryset

    def choices(self, changelist):
        # As SimpleListFilter's, but choosing a sub-district drops the chosen community: it
        # lies in one sub-district, and kept it would empty the list.
        lookups = [None, *(lookup for lookup, _title in self.lookup_choices)]
        for lookup, choice in zip(lookups, super().choices(changelist), strict=True):
            params = {self.parameter_name: lookup, CommunityFilter.parameter_name: None}
            yield {**choice, "query_string": changelist.get_query_string(params)}


class CommunityFilter(admin.SimpleListFilter):
    """The communities the user may see, named with their sub-district in one query
    (the stock related filter looks each sub-district up one by one).

    Beyond COMMUNITY_CHOICES_MAX communities (a city has hundreds, each a link rendered on
    every page), only those of the chosen sub-district are offered, or of the chosen
    community's sub-district, as on the compound list."""

    title = _("community")
    parameter_name = "community"
    lookup = "compound__community"

    def lookups(self, request, model_admin):
        return _area_choices(request)["communities"]

    @classmethod
    def rows(cls, request) -> QuerySet:
        """The communities to offer, as (id, sub-district's name, name)."""
        communities = community_list(user=request.user)
        sub_district = request.GET.get(SubDistrictFilter.parameter_name, "")
        community = request.GET.get(cls.parameter_name, "")
        narrowed = True
        if sub_district.isdigit():
            communities = communities.filter(sub_district=sub_district)
        elif community.isdigit():
            chosen = Community.objects.filter(pk=community).values("sub_district")
            communities = communities.filter(sub_district__in=chosen)
        else:
            narrowed = False
        # Labels as Community.__str__ gives them, without building a model per community.
        rows = communities.values_list("pk", "sub_district__name", "name")
        return rows if narrowed else rows[: COMMUNITY_CHOICES_MAX + 1]  # enough to tell

    @staticmethod
    def choices_of(rows) -> list[tuple[str, str]]:
        choices = [(str(pk), f"{sub_district} {name}") for pk, sub_district, name in rows]
        return [] if len(choices) > COMMUNITY_CHOICES_MAX else choices

    def has_output(self):
        return bool(self.lookup_choices) or self.value() is not None  # see SubDistrictFilter

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.lookup: value}) if value and value.isdigit() else queryset


def _area_choices(request) -> dict:
    """The choices of SubDistrictFilter and CommunityFilter on this request's page, worked
    out together and kept in the cache while sub-districts and communities are unchanged
    (renovation.cache.cached), under what they are worked out from: the user's area
    (scope_key) and the sub-district or community chosen. Two queries of every admin list
    in three, and then most of its time. (District codes, which order the sub-districts,
    are not watched: a district's code is set when it is created.)"""
    if not hasattr(request, "_area_choices"):

        def work_out() -> dict:
            sub_districts = sub_district_list(user=request.user).values_list("pk", "name")
            return {
                "sub_districts": [(str(pk), name) for pk, name in sub_districts],
                "communities": CommunityFilter.choices_of(CommunityFilter.rows(request)),
            }

        chosen = [
            request.GET.get(parameter, "")
            for parameter in (SubDistrictFilter.parameter_name, CommunityFilter.parameter_name)
        ]
        digest = fragment_key(scope_key(request.user), chosen)  # fragment_key: and language
        request._area_choices = cached(f"admin-areas:{digest}", (Community, SubDistrict), work_out)
    return request._area_choices


class SlotSubDistrictFilter(SubDistrictFilter):
    lookup = "community__sub_district"


class SlotCommunityFilter(CommunityFilter):
    lookup = "community"


class BookingSubDistrictFilter(SubDistrictFilter):
    lookup = "slot__community__sub_district"


class BookingCommunityFilter(CommunityFilter):
    lookup = "slot__community"


class QuickRowsChangeList(ChangeList):
    """A change list whose rows are the cells Django's admin renders (items_for_result)
    for a list where no column links to the change page and nothing is edited, with what
    is the same on every row of a column (which field it shows and how, its choices'
    labels, the date format) worked out once per page rather than once per cell: for 50
    rows of 11 columns that was half the page's time. Its template is
    admin/<app>/<model>/change_list.html, rendering `rows` and `headers`."""

    def __init__(self, request, *args, **kwargs):
        self.user = request.user  # whose rows (the phone column), for rows_key
        super().__init__(request, *args, **kwargs)

    def get_results(self, request):
        super().get_results(request)
        rows = self.paginator.object_list
        if isinstance(self.result_list, QuerySet) and isinstance(rows, PageFirst):
            # A list on one page (or shown all at once) is read whole from the queryset by
            # Django's admin: here as the page it is, as every other page is (PageFirst,
            # kept in the cache by KeptPageFirst).
            self.result_list = rows[0 : self.result_count]

    @cached_property
    def headers(self):
        return list(result_headers(self))

    @cached_property
    def num_sorted_fields(self):
        return sum(1 for header in self.headers if header["sortable"] and header["sorted"])

    @cached_property
    def rows(self):
        # The rows' HTML is kept in the cache under everything it is worked out from (see
        # rows_key); a row changed, added or gone makes another key.
        key = f"admin-rows:{self.rows_key}"
        html = cache.get(key)
        if html is None:
            columns = [self._column(index, name) for index, name in enumerate(self.list_display)]
            # One piece of HTML per row, its cells joined here: the results template then
            # writes each row at once instead of going through its loop cell by cell.
            html = ["".join(column(obj) for column in columns) for obj in self.result_list]
            cache.set(key, html, FRAGMENT_TIMEOUT)
        return [ResultList(None, [mark_safe(row)]) for row in html]

    @cached_property
    def rows_key(self) -> str:
        """What the rows show depends on: every value loaded for each row and its related
        rows (the request, its compound, its category), or the name of the page they were
        kept under in the cache (KeptRows), the columns, who is looking (the phone
        column), the day (whether overdue) and the language (fragment_key)."""
        return fragment_key(
            rows_shown(self.result_list),
            [getattr(name, "__qualname__", name) for name in self.list_display],
            self.model_admin.__class__.__qualname__,
            self.user.pk,
            timezone.localdate(),
        )

    @cached_property
    def results_key(self) -> str:
        """What the table shows depends on: its rows (rows_key) and its headers, whose
        links sort the list as the parameters say and keep them."""
        return fragment_key(self.rows_key, sorted(self.params.items()))

    @cached_property
    def filters_key(self) -> str | None:
        """What the filter side bar shows depends on, for the template to keep it in the
        cache (its links took a sixth of the page): the parameters its links are built
        from, the choices each filter worked out (the areas are the user's own, the date
        ranges today's), and the language. Never kept when it shows counts."""
        if self.add_facets:
            return None
        return fragment_key(
            sorted(self.params.items()),
            sorted(self.filter_params.items()),
            self.is_facets_optional,
            [
                (
                    type(spec).__qualname__,
                    str(getattr(spec, "title", "")),
                    getattr(spec, "lookup_choices", None),
                    getattr(spec, "links", None),
                )
                for spec in self.filter_specs
            ],
            self.model_admin.__class__.__qualname__,
            timezone.localdate(),
        )

    @cached_property
    def _empty(self):
        return self.model_admin.get_empty_value_display()

    @cached_property
    def _icons(self):
        return {
            value: display_for_value(value, self._empty, boolean=True)
            for value in (True, False, None)
        }

    def _column(self, index, name):
        """A function giving a row's cell of the column `name`."""
        css = (
            "action-checkbox"
            if name == "action_checkbox"
            else f"field-{_coerce_field_name(name, index)}"
        )
        try:
            field = _get_non_gfk_field(self.lookup_opts, name)
        except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            field = None
        if field is None or field.auto_created:
            return functools.partial(self._computed_cell, name, css)
        shown = self._field_display(field)
        nowrap = isinstance(field, (models.DateField, models.TimeField, models.ForeignKey))
        shown_css = f"{css} nowrap" if nowrap else css

        def cell(obj):
            try:
                value = getattr(obj, name)
            except ObjectDoesNotExist:
                return f'<td class="{css}">{self._empty}</td>'
            if isinstance(value, str) and not value.strip():
                value = ""
            return f'<td class="{shown_css}">{conditional_escape(shown(value))}</td>'

        return cell

    def _field_display(self, field):
        """display_for_field for `field`, with what does not depend on the value found."""
        empty = self._empty
        if isinstance(field.remote_field, models.ManyToOneRel):
            return lambda value: empty if value is None else value
        if field.flatchoices:
            labels = {value: conditional_escape(label) for value, label in field.flatchoices}
            return lambda value: labels.get(value, empty)
        if isinstance(field, models.BooleanField):

            def boolean(value):
                if value is None or isinstance(value, bool):
                    return self._icons[value]
                return display_for_field(value, field, empty)

            return boolean
        if isinstance(field, models.DateField):  # and DateTimeField
            local = timezone.template_localtime if isinstance(field, models.DateTimeField) else None
            formats = {
                datetime.datetime: get_format("DATETIME_FORMAT"),
                datetime.date: get_format("DATE_FORMAT"),
            }

            def date(value):
                if value in field.empty_values or type(value) not in formats:
                    return display_for_field(value, field, empty)
                value = local(value) if local else value
                return dateformat.format(value, formats[type(value)])

            return date
        return functools.partial(display_for_field, field=field, empty_value_display=empty)

    def _computed_cell(self, name, css, obj):
        """A cell of a method's, property's or callable's column (items_for_result)."""
        empty = self._empty
        try:
            _field, attr, value = lookup_field(name, obj, self.model_admin)
        except ObjectDoesNotExist:
            return f'<td class="{css}">{empty}</td>'
        if isinstance(value, str) and not value.strip():
            value = ""
        boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            boolean = getattr(attr.fget, "boolean", False)
        if boolean and (value is None or isinstance(value, bool)):
            shown = self._icons[value]
        else:
            shown = display_for_value(value, getattr(attr, "empty_value_display", empty), boolean)
        if isinstance(value, (datetime.date, datetime.time)):
            css += " nowrap"
        return f'<td class="{css}">{conditional_escape(shown)}</td>'


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
    # The number links to the request's own page, where it is worked on; a link to this
    # read-only admin page around it would nest one link in another.
    list_display_links = None
    # What the rows show: joined to the page's rows only, after it is cut (get_paginator).
    list_select_related = ["compound", "category"]
    list_filter = [
        "status",
        "kind",
        "channel",
        OverdueFilter,
        "is_verified",
        SubDistrictFilter,
        CommunityFilter,
        # Not date_hierarchy: its year and month links cost a scan of the filtered requests
        # on every page (a city has millions); these fixed ranges cost nothing.
        ("logged_at", admin.DateFieldListFilter),
    ]
    # The number only for those who see it in full (renovation.admin_phones).
    search_fields = ["description", "compound__name", "room", "contact_phone"]
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

    def get_changelist(self, request, **kwargs):
        return QuickRowsChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # A page's ids first, from the index of a community's newest requests (PageFirst),
        # and the count and page kept in the cache while the requests of the communities
        # the list may show are unchanged (KeptPageFirst).
        # Kept under the day too, which decides the rows' is_overdue_today (get_queryset).
        day = timezone.localdate()
        rows = KeptPageFirst(queryset, self._communities_listed(request), also=day)
        return super().get_paginator(request, rows, per_page, orphans, allow_empty_first_page)

    def _communities_listed(self, request):
        """The communities whose requests the list may show: the user's, narrowed to the
        community or sub-district chosen in the filters (as their queryset() reads them)."""
        communities = community_list(user=request.user)
        for parameter, lookup in (
            (CommunityFilter.parameter_name, "pk"),
            (SubDistrictFilter.parameter_name, "sub_district"),
        ):
            value = request.GET.get(parameter, "")
            if value.isdigit():
                communities = communities.filter(**{lookup: value})
        return communities

    def get_queryset(self, request):
        # Whether each request is overdue, worked out with the rows (as the overdue filter
        # selects them) rather than row by row against today's date.
        overdue = ExpressionWrapper(overdue_q(timezone.localdate()), output_field=BooleanField())
        return super().get_queryset(request).annotate(is_overdue_today=overdue)

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
        url = _request_url_pattern(get_script_prefix(), get_urlconf()).format(obj.pk)
        return format_html('<a href="{}">#{}</a>', url, obj.pk)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue_today

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
    list_filter = ["kind", "status", SubDistrictFilter, CommunityFilter]
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
    list_filter = ["status", SubDistrictFilter, CommunityFilter]
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
    list_filter = [SlotSubDistrictFilter, SlotCommunityFilter, "weekday"]


@admin.register(ServiceSlot)
class ServiceSlotAdmin(ScopedModelAdmin):
    list_display = ["starts_at", "ends_at", "place", "community", "booked"]
    list_select_related = ["community__sub_district"]
    list_filter = [SlotSubDistrictFilter, SlotCommunityFilter]
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
    list_filter = ["status", BookingSubDistrictFilter, BookingCommunityFilter]
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
    list_filter = ["is_active", SubDistrictFilter, CommunityFilter]
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

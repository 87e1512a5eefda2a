import datetime
import functools
import logging
from contextlib import contextmanager

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, router, transaction
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_history_manager_for_model

from .access import (
    ADD,
    ADMIN_ROLES,
    CHANGE,
    DELETE,
    DELETED,
    VIEW,
    get_role,
    has_permission,
    scope_queryset,
)
from .admin_phones import PhoneLookupsGuard
from .forms import (
    AllocationAdminForm,
    DisbursementAdminForm,
    FundingSourceAdminForm,
    StaffProfileForm,
    TransitionForm,
    add_service_errors,
)
from .models import (
    Building,
    Community,
    Compound,
    Disbursement,
    District,
    FundingAllocation,
    FundingSource,
    ItemCategory,
    MonthlyReport,
    ProgressUpdate,
    ProjectItem,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
    StaffProfile,
    SubDistrict,
)
from .models.projects import FINISHED, PREPARATION
from .models.registry import shown
from .selectors import latest_progress_subquery, project_totals, sum_subquery
from .selectors.report import Month
from .services import (
    allocation_create,
    allowed_transitions,
    disbursement_create,
    funding_source_create,
    funding_source_set_amount,
    project_transition,
    report_request,
)

logger = logging.getLogger(__name__)


class _PostedIdsOnly:
    """Django's autocomplete widget looks up whatever was posted to show it again, and a
    value that is no id (text, a number past the column) answered 500; only ids are kept."""

    def optgroups(self, name, value, attr=None):
        pk = self.field.remote_field.model._meta.pk
        kept = []
        for item in value:
            try:
                number = pk.to_python(item)
            except ValidationError:
                continue
            if not isinstance(number, int) or -(2**63) <= number < 2**63:
                kept.append(item)
        return super().optgroups(name, kept, attr)


class SafeAutocompleteSelect(_PostedIdsOnly, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_PostedIdsOnly, AutocompleteSelectMultiple):
    pass


def _refused_form(form_class: type, refusal: ValidationError) -> type:
    """`form_class`, with `refusal` (a ValidationError) among its errors."""

    class RefusedForm(form_class):
        def clean(self):
            cleaned = super().clean()
            add_service_errors(self, refusal)
            return cleaned

    return RefusedForm


class RefusalsOnTheFormAdmin(admin.ModelAdmin):
    """A rule refused while the admin saves shows on the form, or as a message, and nothing
    is saved: never a 500. The refusal is a service's ValidationError in save_model,
    save_related or delete_model (the form checks first, but without the service's lock,
    so a rule broken by someone else meanwhile is only seen there), or the database's
    IntegrityError (a constraint broken by a write committed meanwhile, such as a payment
    out of the allocation being deleted).

    The admin saves a POST in one transaction, which the refusal rolls back on its way
    out; the same POST is then shown again with the refusal among its form's errors."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST" or hasattr(request, "admin_refusal"):
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            with _messages_dropped_if_refused(request):
                return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, IntegrityError) as refusal:
            request.admin_refusal = _as_validation_error(refusal, NOT_SAVED)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "admin_refusal", None)
        return form if refusal is None else _refused_form(form, refusal)

    def get_actions(self, request):
        return {
            name: (_refusals_as_message(function), name, description)
            for name, (function, name, description) in super().get_actions(request).items()
        }

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        try:
            with _messages_dropped_if_refused(request):
                return super().delete_view(request, object_id, extra_context)
        except (ValidationError, IntegrityError) as refusal:
            refusal = _as_validation_error(refusal, NOT_DELETED)
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return redirect(request.path)  # the page says what stands in the way now


NOT_SAVED = _(
    "Nothing was saved: a related change was saved at the same moment. Check the form "
    "and save again."
)
NOT_DELETED = _(
    "Nothing was deleted: records that depend on it were saved at the same moment. "
    "Check them and try again."
)


def _refusals_as_message(action):
    """`action` (an admin action) in one transaction: a refusal (as above) rolls back what
    it did and becomes a message."""

    @functools.wraps(action)
    def run(modeladmin, request, queryset):
        try:
            with (
                _messages_dropped_if_refused(request),
                transaction.atomic(using=router.db_for_write(modeladmin.model)),
            ):
                return action(modeladmin, request, queryset)
        except (ValidationError, IntegrityError) as refusal:
            deleting = action.__name__ == "delete_selected"
            refusal = _as_validation_error(refusal, NOT_DELETED if deleting else NOT_SAVED)
            modeladmin.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return None

    return run


@contextmanager
def _messages_dropped_if_refused(request):
    """The messages the admin adds while it saves, dropped if the save is refused: a
    constraint checked at commit fails after the admin said "deleted successfully"."""
    storage = messages.get_messages(request)
    earlier = len(storage)
    try:
        yield
    except (ValidationError, IntegrityError):
        for message in list(storage)[:earlier]:  # read all: only those added again are kept
            messages.add_message(
                request, message.level, message.message, extra_tags=message.extra_tags
            )
        raise


def _as_validation_error(refusal: Exception, database_message) -> ValidationError:
    """The refusal as a ValidationError: the database's own words are for the log."""
    if isinstance(refusal, ValidationError):
        return refusal
    logger.warning("The database refused an admin write", exc_info=refusal)
    return ValidationError(database_message, code="conflict")


class ScopedModelAdmin(PhoneLookupsGuard, RefusalsOnTheFormAdmin):
    """Admin whose rows, choices and permissions all come from renovation.access.

    An object outside the user's area answers 404, the same as one that does not exist."""

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("No such record, or it is outside your area."))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "scope_lookups"):
            kwargs["queryset"] = scope_queryset(request.user, related._default_manager.all())
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            using = kwargs.get("using")
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=using)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            using = kwargs.get("using")
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=using
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return request.user.is_superuser or (
            get_role(request.user) in ADMIN_ROLES and self.has_view_permission(request)
        )

    def has_view_permission(self, request, obj=None):
        return has_permission(request.user, self.model, VIEW) or self.has_change_permission(
            request, obj
        )

    def has_add_permission(self, request, obj=None):
        return has_permission(request.user, self.model, ADD)

    def has_change_permission(self, request, obj=None):
        return has_permission(request.user, self.model, CHANGE)

    def has_delete_permission(self, request, obj=None):
        return has_permission(request.user, self.model, DELETE)


class ScopedHistoryMixin(SimpleHistoryAdmin):
    """The record's change history (who changed which field, when) on a scoped admin.

    The history of a record outside the user's area answers 404, like the record."""

    def history_view(self, request, object_id, extra_context=None):
        if not self.is_deleted_and_readable(request, object_id):
            self.get_object(request, object_id)  # 404 outside the user's area
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple_history reads the old version without the user's scope, and saves a
        # POSTed version for anyone who may view the record, around the services' rules
        # (a read-only leader renamed a project that way): here a version is shown, in
        # the user's area only, and never written back.
        if not self.is_deleted_and_readable(request, object_id):
            self.get_object(request, object_id)  # 404 outside the user's area
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def is_deleted_and_readable(self, request, object_id) -> bool:
        """Whether `object_id` names a deleted row whose history the user may read (the
        DELETED rule of renovation.access); simple_history then shows its last version."""
        if not has_permission(request.user, self.model, DELETED):
            return False
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            return False
        history = get_history_manager_for_model(self.model)
        return (
            not self.model._default_manager.filter(pk=pk).exists()
            and history.filter(**{self.model._meta.pk.attname: pk, "history_type": "-"}).exists()
        )

    def revert_disabled(self, request, obj=None):
        return True

    def has_view_history_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)


class ScopedHistoryAdmin(ScopedHistoryMixin, ScopedModelAdmin):
    pass


class ScopedTabularInline(admin.TabularInline):
    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request))

    def has_view_permission(self, request, obj=None):
        return has_permission(request.user, self.model, VIEW)

    def has_add_permission(self, request, obj=None):
        return has_permission(request.user, self.model, ADD)

    def has_change_permission(self, request, obj=None):
        return has_permission(request.user, self.model, CHANGE)

    def has_delete_permission(self, request, obj=None):
        return has_permission(request.user, self.model, DELETE)


@admin.register(District)
class DistrictAdmin(ScopedModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(SubDistrict)
class SubDistrictAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "district", "community_count"]
    list_select_related = ["district"]
    list_filter = ["district"]
    search_fields = ["name", "code"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(community_count=Count("communities"))
        return queryset.order_by(*SubDistrict._meta.ordering)

    @admin.display(description=_("communities"), ordering="community_count")
    def community_count(self, obj):
        return obj.community_count


@admin.register(Community)
class CommunityAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "sub_district", "compound_count"]
    list_select_related = ["sub_district"]
    list_filter = [("sub_district", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code", "sub_district__name"]
    autocomplete_fields = ["sub_district"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(compound_count=Count("compounds"))
        return queryset.order_by(*Community._meta.ordering)

    @admin.display(description=_("compounds"), ordering="compound_count")
    def compound_count(self, obj):
        return obj.compound_count


class BuildingInline(ScopedTabularInline):
    model = Building
    extra = 0
    fields = ["number", "floors", "units", "households"]


@admin.register(Compound)
class CompoundAdmin(ScopedModelAdmin):
    change_list_template = "admin/renovation/compound/change_list.html"
    list_display = [
        "name",
        "code",
        "community",
        "build_year",
        "is_old",
        "households",
        "building_count",
        "building_households",
        "property_management",
    ]
    list_select_related = ["community__sub_district"]
    list_filter = [
        "is_old",
        "origin",
        "property_management",
        ("community__sub_district", admin.RelatedOnlyFieldListFilter),
        ("community", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "code", "address", "original_owner_unit", "community__name"]
    autocomplete_fields = ["community"]
    inlines = [BuildingInline]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["community", "name", "code", "address"]}),
        (
            _("history and condition"),
            {"fields": ["build_year", "is_old", "origin", "original_owner_unit", "notes"]},
        ),
        (
            _("size and management"),
            {"fields": ["households", "declared_building_count", "property_management"]},
        ),
        (_("location"), {"fields": ["latitude", "longitude"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                building_count=Count("buildings"),
                building_households=Sum("buildings__households"),
            )
            .order_by(*Compound._meta.ordering)
        )

    @admin.display(description=_("buildings"), ordering="building_count")
    def building_count(self, obj):
        return obj.building_count

    @admin.display(description=_("households in buildings"), ordering="building_households")
    def building_households(self, obj):
        return obj.building_households or 0

    def get_urls(self):
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="renovation_compound_import",
            ),
        ]
        return custom + super().get_urls()

    def import_view(self, request):
        from .admin_import import registry_import_view

        return registry_import_view(self, request)


@admin.register(Building)
class BuildingAdmin(ScopedModelAdmin):
    list_display = ["number", "compound", "floors", "units", "households"]
    list_select_related = ["compound__community__sub_district"]
    list_filter = [("compound__community__sub_district", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["number", "compound__name", "compound__code"]
    autocomplete_fields = ["compound"]
    list_per_page = 100
    show_full_result_count = False


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    form = StaffProfileForm
    can_delete = False
    autocomplete_fields = ["sub_district", "community"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class XinshengUserAdmin(PhoneLookupsGuard, UserAdmin):
    """User accounts are kept by the superuser only; each carries one staff profile."""

    inlines = [StaffProfileInline]
    list_display = ["username", "last_name", "first_name", "role", "is_active", "is_staff"]
    list_select_related = ["staff_profile"]
    list_filter = ["staff_profile__role", "is_active", "is_staff"]

    @admin.display(description=_("role"), ordering="staff_profile__role")
    def role(self, obj):
        profile = getattr(obj, "staff_profile", None)
        return profile.get_role_display() if profile else "—"


class DelayedFilter(admin.SimpleListFilter):
    title = _("delayed")
    parameter_name = "delayed"

    def lookups(self, request, model_admin):
        return [("1", _("yes")), ("0", _("no"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.delayed()
        if self.value() == "0":
            return queryset.exclude(pk__in=queryset.delayed().values("pk"))
        return queryset


def _as_of(request) -> datetime.date | None:
    """The "as of" date chosen in the project list, if any and valid."""
    try:
        return datetime.date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        return None


class AsOfFilter(admin.SimpleListFilter):
    """Show projects as they stood at the end of a half-year, from their transitions."""

    title = _("as of")
    parameter_name = "as_of"

    def lookups(self, request, model_admin):
        first = ProjectTransition.objects.order_by("effective_on").first()
        if first is None:
            return []
        today = timezone.localdate()
        days = []
        for year in range(first.effective_on.year, today.year + 1):
            days += [d for d in (datetime.date(year, 6, 30), datetime.date(year, 12, 31))]
        return [(d.isoformat(), d.isoformat()) for d in reversed(days) if d <= today]

    def queryset(self, request, queryset):
        return queryset  # the annotation is made in get_queryset, for the stage filter too


class BatchesUpToFilter(admin.SimpleListFilter):
    """All batches up to a year, for figures such as "renovated in 2018–2021"."""

    title = _("batches up to")
    parameter_name = "batch_to"

    def lookups(self, request, model_admin):
        years = model_admin.model.objects.order_by("-batch_year").values_list(
            "batch_year", flat=True
        )
        return [(year, _("%(year)s and earlier") % {"year": year}) for year in dict.fromkeys(years)]

    def queryset(self, request, queryset):
        value = self.value()
        return (
            queryset.filter(batch_year__lte=int(value)) if value and value.isdigit() else queryset
        )


class StageFilter(admin.SimpleListFilter):
    """Lifecycle stage now, or as of the chosen date, with the groups the article counts."""

    title = _("status")
    parameter_name = "stage"
    GROUPS = {
        "preparation": [s.value for s in PREPARATION],
        "finished": [s.value for s in FINISHED],
    }

    def lookups(self, request, model_admin):
        return [
            *ProjectStatus.choices,
            ("preparation", _("in preparation (pipeline to plan approved)")),
            ("finished", _("completed or accepted")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        field = "status_then" if _as_of(request) else "status"
        return queryset.filter(**{f"{field}__in": self.GROUPS.get(value, [value])})


class ProjectItemInline(ScopedTabularInline):
    model = ProjectItem
    extra = 0
    fields = ["category", "description", "quantity", "unit", "budget", "status"]
    autocomplete_fields = ["category"]


class ProgressUpdateInline(ScopedTabularInline):
    model = ProgressUpdate
    extra = 0
    fields = ["recorded_on", "percent", "note", "recorded_by"]
    readonly_fields = fields
    ordering = ["-recorded_on"]

    def has_add_permission(self, request, obj=None):
        return False  # progress is reported through the project page or the monthly import

    def has_change_permission(self, request, obj=None):
        return False


class ProjectTransitionInline(ScopedTabularInline):
    model = ProjectTransition
    extra = 0
    fields = ["effective_on", "from_status", "to_status", "reason", "by", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RenovationProject)
class RenovationProjectAdmin(ScopedHistoryAdmin):
    """Projects are created through the pipeline form (the willingness gate) and change
    status through the lifecycle form; both call the services that hold the rules."""

    change_form_template = "admin/renovation/renovationproject/change_form.html"
    change_list_template = "admin/renovation/renovationproject/change_list.html"
    list_display = [
        "name",
        "community",
        "batch_year",
        "kind",
        "is_key",
        "status",
        "progress",
        "households_benefited",
        "budget",
        "allocated",
        "paid",
        "planned_finish",
        "delayed",
    ]
    list_filter = [
        "batch_year",
        BatchesUpToFilter,
        AsOfFilter,
        StageFilter,
        "kind",
        "is_key",
        DelayedFilter,
        ("compound__community__sub_district", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "compound__name", "compound__code", "builder", "lead_unit"]
    autocomplete_fields = ["compound"]
    filter_horizontal = ["buildings"]
    inlines = [ProjectItemInline, ProgressUpdateInline, ProjectTransitionInline]
    list_per_page = 50
    readonly_fields = [
        "compound",
        "batch_year",
        "status",
        "feasibility_on",
        "plan_approved_on",
        "actual_start",
        "actual_finish",
        "accepted_on",
        "willingness_confirmed_by",
        "willingness_confirmed_at",
    ]
    fieldsets = [
        (None, {"fields": ["compound", "batch_year", "name", "kind", "is_key", "status"]}),
        (_("units"), {"fields": ["lead_unit", "builder", "supervisor"]}),
        (
            _("scope and budget"),
            {"fields": ["buildings", "households_benefited", "buildings_benefited", "budget"]},
        ),
        (
            _("dates"),
            {
                "fields": [
                    "planned_start",
                    "planned_finish",
                    "feasibility_on",
                    "plan_approved_on",
                    "actual_start",
                    "actual_finish",
                    "accepted_on",
                ]
            },
        ),
        (_("plan"), {"fields": ["plan", "willingness_confirmed_by", "willingness_confirmed_at"]}),
    ]

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if _as_of(request):
            columns.insert(columns.index("status") + 1, "status_then")
        return columns

    @admin.display(description=_("status then"))
    def status_then(self, obj):
        status = getattr(obj, "status_then", None)
        return ProjectStatus(status).label if status else "—"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        as_of = _as_of(request) if request.resolver_match.url_name.endswith("changelist") else None
        if as_of:
            queryset = queryset.as_of(as_of)
        return queryset.select_related("compound__community__sub_district").annotate(
            allocated_total=sum_subquery(FundingAllocation.objects.all(), "project"),
            paid_total=sum_subquery(Disbursement.objects.all(), "project"),
            progress_now=latest_progress_subquery(),
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "buildings":
            object_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Building.objects.filter(
                compound__projects__pk=object_id
            ).select_related("compound")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("community"), ordering="compound__community__code")
    def community(self, obj):
        return f"{obj.compound.community.name} · {obj.compound.name}"

    @admin.display(description=_("progress (%)"), ordering="progress_now")
    def progress(self, obj):
        return obj.progress_now

    @admin.display(description=_("allocated (yuan)"), ordering="allocated_total")
    def allocated(self, obj):
        return f"{obj.allocated_total:,.2f}"

    @admin.display(description=_("paid (yuan)"), ordering="paid_total")
    def paid(self, obj):
        return f"{obj.paid_total:,.2f}"

    @admin.display(description=_("delayed"), boolean=True)
    def delayed(self, obj):
        return obj.is_delayed()

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("project-create")

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["totals"] = project_totals(context["cl"].queryset)
        return response

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="renovation_renovationproject_transition",
            ),
        ]
        return custom + super().get_urls()

    def transition_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        project = self.get_object(request, object_id)
        allowed = allowed_transitions(project)
        form = TransitionForm(request.POST or None, project=project, allowed=allowed)
        if request.method == "POST" and form.is_valid():
            try:
                project_transition(project=project, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                self.message_user(request, _("The project's status has changed."))
                return redirect("admin:renovation_renovationproject_change", project.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": project,
            "form": form,
            "title": _("Change status"),
        }
        return TemplateResponse(
            request, "admin/renovation/renovationproject/transition.html", context
        )


@admin.register(ItemCategory)
class ItemCategoryAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "item_class", "default_unit", "statistic", "is_active"]
    list_filter = ["item_class", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["name", "code"]


@admin.register(ProjectItem)
class ProjectItemAdmin(ScopedHistoryAdmin):
    list_display = ["category", "project", "quantity", "unit", "budget", "status"]
    list_select_related = ["category", "project__compound"]
    list_filter = ["category__item_class", "category", "status", "project__batch_year"]
    search_fields = ["project__name", "description"]
    autocomplete_fields = ["project", "category"]
    show_full_result_count = False


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ScopedHistoryAdmin):
    list_display = ["project", "recorded_on", "percent", "note", "recorded_by"]
    list_select_related = ["project__compound", "recorded_by"]
    list_filter = ["recorded_on", "project__batch_year"]
    search_fields = ["project__name"]
    date_hierarchy = "recorded_on"
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False  # through the project page or the monthly Excel import

    def has_change_permission(self, request, obj=None):
        return False


class DeletedRecordsAdmin(ScopedHistoryAdmin):
    """A list of the deleted rows ("deleted/"), newest first, each linking to its history,
    for the roles the DELETED rule of renovation.access names; linked from the list."""

    change_list_template = "admin/renovation/deleted_records_change_list.html"
    # The fields of a deleted row the list shows, besides when and by whom it was deleted.
    deleted_list_display: list[str] = []
    deleted_per_page = 100

    def get_urls(self):
        opts = self.model._meta
        custom = [
            path(
                "deleted/",
                self.admin_site.admin_view(self.deleted_view),
                name=f"{opts.app_label}_{opts.model_name}_deleted",
            ),
        ]
        return custom + super().get_urls()

    def deleted_view(self, request):
        if not has_permission(request.user, self.model, DELETED):
            raise PermissionDenied
        opts = self.model._meta
        history = get_history_manager_for_model(self.model)
        related = [
            name
            for name in self.deleted_list_display
            if history.model._meta.get_field(name).is_relation
        ]
        records = (
            history.filter(history_type="-")
            .select_related("history_user", *related)
            .order_by("-history_date", "-history_id")
        )
        page = Paginator(records, self.deleted_per_page).get_page(request.GET.get(PAGE_VAR))
        history_url = f"admin:{opts.app_label}_{opts.model_name}_history"
        rows = [
            {
                "deleted_at": record.history_date,
                "deleted_by": record.history_user,
                "cells": [shown(record, name) for name in self.deleted_list_display],
                "history_url": reverse(history_url, args=[getattr(record, opts.pk.attname)]),
            }
            for record in page
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "title": _("Deleted %(name)s") % {"name": opts.verbose_name_plural},
            "headers": [
                history.model._meta.get_field(name).verbose_name
                for name in self.deleted_list_display
            ],
            "rows": rows,
            "page": page,
            "page_var": PAGE_VAR,
        }
        return TemplateResponse(request, "admin/renovation/deleted_records.html", context)

    def changelist_view(self, request, extra_context=None):
        if has_permission(request.user, self.model, DELETED):
            opts = self.model._meta
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_deleted")
            extra_context = {**(extra_context or {}), "deleted_url": url}
        return super().changelist_view(request, extra_context)


def _saved_as(obj, created) -> None:
    """Make the admin's unsaved `obj` the row a service created from it, for what the admin
    does with it next: its log entry, its message and its history link name that row."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(created, field.attname))
    obj._state.adding, obj._state.db = False, created._state.db


class MoneyAdmin(DeletedRecordsAdmin):
    """Money rows are append-only: a mistake is deleted and entered again, so every rule is
    checked by the service on the way in."""

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)


@admin.register(FundingSource)
class FundingSourceAdmin(DeletedRecordsAdmin):
    form = FundingSourceAdminForm
    deleted_list_display = ["name", "document_number", "year", "amount"]
    list_display = ["name", "kind", "year", "document_number", "amount_yuan", "allocated", "paid"]
    list_filter = ["year", "kind"]
    search_fields = ["name", "document_number"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                allocated_total=sum_subquery(FundingAllocation.objects.all(), "source"),
                paid_total=sum_subquery(Disbursement.objects.all(), "allocation__source"),
            )
        )

    @admin.display(description=_("amount (yuan)"), ordering="amount")
    def amount_yuan(self, obj):
        return f"{obj.amount:,.2f}"

    @admin.display(description=_("allocated (yuan)"), ordering="allocated_total")
    def allocated(self, obj):
        return f"{obj.allocated_total:,.2f}"

    @admin.display(description=_("paid (yuan)"), ordering="paid_total")
    def paid(self, obj):
        return f"{obj.paid_total:,.2f}"

    def save_model(self, request, obj, form, change):
        if change:
            amount = form.cleaned_data["amount"]
            obj.amount = FundingSource.objects.get(pk=obj.pk).amount
            obj.save()
            funding_source_set_amount(source=obj, amount=amount, user=request.user)
            obj.refresh_from_db()
            return
        fields = ["kind", "year", "name", "document_number", "amount", "received_on", "notes"]
        created = funding_source_create(
            user=request.user, **{f: form.cleaned_data[f] for f in fields}
        )
        _saved_as(obj, created)


@admin.register(FundingAllocation)
class FundingAllocationAdmin(MoneyAdmin):
    form = AllocationAdminForm
    list_display = ["source", "project", "amount", "allocated_on", "by"]
    list_select_related = ["source", "project__compound", "by"]
    list_filter = ["source__year", "source__kind"]
    search_fields = ["project__name", "source__name", "source__document_number"]
    autocomplete_fields = ["source", "project"]
    fields = ["source", "project", "amount", "allocated_on", "note"]
    deleted_list_display = ["source", "project", "amount", "allocated_on", "by"]

    def save_model(self, request, obj, form, change):
        created = allocation_create(
            source=obj.source,
            project=obj.project,
            amount=obj.amount,
            on=obj.allocated_on,
            user=request.user,
            note=obj.note,
        )
        _saved_as(obj, created)


@admin.register(Disbursement)
class DisbursementAdmin(MoneyAdmin):
    form = DisbursementAdminForm
    list_display = ["project", "allocation", "amount", "paid_on", "voucher", "by"]
    list_select_related = ["project__compound", "allocation__source", "by"]
    list_filter = ["paid_on"]
    search_fields = ["project__name", "voucher"]
    autocomplete_fields = ["allocation"]
    fields = ["allocation", "amount", "paid_on", "voucher"]
    deleted_list_display = ["project", "allocation", "amount", "paid_on", "voucher", "by"]
    date_hierarchy = "paid_on"

    def save_model(self, request, obj, form, change):
        created = disbursement_create(
            allocation=obj.allocation,
            amount=obj.amount,
            on=obj.paid_on,
            user=request.user,
            voucher=obj.voucher,
        )
        _saved_as(obj, created)


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ScopedModelAdmin):
    """Reports are asked for through the service (one row per month, one build at a time);
    the admin lists them, asks again, and downloads."""

    list_display = ["__str__", "status", "requested_by", "requested_at", "finished_at", "link"]
    list_filter = ["status"]
    list_select_related = ["requested_by"]
    readonly_fields = [
        "month",
        "status",
        "file",
        "requested_by",
        "requested_at",
        "started_at",
        "finished_at",
        "error",
        "attempts",
    ]
    actions = ["build_again"]

    def has_add_permission(self, request, obj=None):
        return False  # asked for from the report page, which validates the month

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("workbook"))
    def link(self, obj):
        if obj.status != MonthlyReport.Status.DONE:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("report-download", args=[obj.pk]), _("Download")
        )

    @admin.action(description=_("Build the selected reports again"), permissions=["change"])
    def build_again(self, request, queryset):
        for report in queryset:
            report_request(month=Month.of(report.month), user=request.user)
        self.message_user(request, _("The reports have been asked for again."))

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "request_url": reverse("report-list")}
        return super().changelist_view(request, extra_context)

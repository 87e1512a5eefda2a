from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, Sum
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _

from .access import ADD, ADMIN_ROLES, CHANGE, DELETE, VIEW, get_role, has_permission, scope_queryset
from .models import Building, Community, Compound, District, StaffProfile, SubDistrict


class ScopedModelAdmin(admin.ModelAdmin):
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
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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
    can_delete = False
    autocomplete_fields = ["sub_district", "community"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class XinshengUserAdmin(UserAdmin):
    """User accounts are kept by the superuser only; each carries one staff profile."""

    inlines = [StaffProfileInline]
    list_display = ["username", "last_name", "first_name", "role", "is_active", "is_staff"]
    list_select_related = ["staff_profile"]
    list_filter = ["staff_profile__role", "is_active", "is_staff"]

    @admin.display(description=_("role"), ordering="staff_profile__role")
    def role(self, obj):
        profile = getattr(obj, "staff_profile", None)
        return profile.get_role_display() if profile else "—"

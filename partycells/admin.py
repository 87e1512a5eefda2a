"""Admin for party cells. Branches, members, building groups and volunteer teams are kept
here by the organisation department and the programme office, through forms that run the
services' checks. Activities, meetings, decisions, escalations and settlements are recorded
on the pages, whose services hold their rules (carry-over, deadlines, the objection
settlement); the admin shows them and lets minutes be corrected."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from renovation.access import has_permission, scope_queryset
from renovation.admin import ScopedHistoryMixin, ScopedModelAdmin, ScopedTabularInline

from .forms import BranchMemberAdminForm, BuildingGroupAdminForm, TemporaryBranchAdminForm
from .models import (
    Activity,
    ActivityRequest,
    BranchMember,
    BuildingGroup,
    Decision,
    DecisionReport,
    Department,
    Escalation,
    Meeting,
    MeetingVote,
    ObjectionSettlement,
    TemporaryBranch,
    VolunteerMember,
    VolunteerTeam,
)
from .selectors import count_subquery


class PartyModelAdmin(ScopedModelAdmin):
    """Scoped admin whose many-to-many choices are scoped too."""

    def counted(self, queryset, **counts):
        """`queryset` with `counts` (Count annotations), in the model's order again: a
        grouped query does not take it, and the autocomplete's pages need it to be stable
        (Django warns of an unordered list)."""
        return queryset.annotate(**counts).order_by(*self.model._meta.ordering)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "scope_lookups"):
            kwargs["queryset"] = scope_queryset(request.user, related._default_manager.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyAdmin(PartyModelAdmin):
    """Shown in the admin, written on the pages."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ScopedTabularInline):
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Department)
class DepartmentAdmin(PartyModelAdmin):
    list_display = ["name", "short_name", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "short_name"]


class MemberInline(ReadOnlyInline):
    model = BranchMember
    fields = ["name", "unit_kind", "unit_name", "role", "is_trainee", "joined_on", "left_on"]


class GroupInline(ReadOnlyInline):
    model = BuildingGroup
    fields = ["building", "leader", "founded_on"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("building", "leader")


@admin.register(TemporaryBranch)
class TemporaryBranchAdmin(ScopedHistoryMixin, PartyModelAdmin):
    form = TemporaryBranchAdminForm
    list_display = [
        "name",
        "community",
        "founded_on",
        "dissolved_on",
        "member_count",
        "group_count",
    ]
    list_select_related = ["community__sub_district"]
    list_filter = [
        ("community__sub_district", admin.RelatedOnlyFieldListFilter),
        "dissolved_because",
    ]
    search_fields = ["name", "community__name", "projects__name"]
    autocomplete_fields = ["community", "projects"]
    readonly_fields = ["dissolved_on", "dissolved_because"]
    inlines = [MemberInline, GroupInline]
    list_per_page = 50

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=count_subquery(BranchMember.objects.current(), "branch"),
                group_count=count_subquery(BuildingGroup.objects.all(), "branch"),
            )
            .order_by(*TemporaryBranch._meta.ordering)
        )

    @admin.display(description=_("serving members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description=_("building groups"), ordering="group_count")
    def group_count(self, obj):
        return obj.group_count


@admin.register(BranchMember)
class BranchMemberAdmin(ScopedHistoryMixin, PartyModelAdmin):
    form = BranchMemberAdminForm
    list_display = [
        "name",
        "branch",
        "unit_kind",
        "unit_name",
        "role",
        "is_trainee",
        "joined_on",
        "left_on",
    ]
    list_select_related = ["branch"]
    list_filter = ["role", "unit_kind", "is_trainee"]
    search_fields = ["name", "unit_name", "branch__name"]
    autocomplete_fields = ["branch"]
    list_per_page = 100


@admin.register(BuildingGroup)
class BuildingGroupAdmin(PartyModelAdmin):
    form = BuildingGroupAdminForm
    list_display = ["building", "branch", "leader", "member_count", "founded_on"]
    list_select_related = ["building__compound", "branch", "leader"]
    search_fields = ["building__number", "building__compound__name", "branch__name"]
    autocomplete_fields = ["branch", "building", "leader", "members"]

    def get_queryset(self, request):
        return self.counted(super().get_queryset(request), member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


class VolunteerInline(ScopedTabularInline):
    model = VolunteerMember
    extra = 0
    fields = ["name", "kind", "building", "is_leader"]
    autocomplete_fields = ["building"]


@admin.register(VolunteerTeam)
class VolunteerTeamAdmin(PartyModelAdmin):
    list_display = ["name", "kind", "branch", "founded_on", "member_count"]
    list_select_related = ["branch"]
    list_filter = ["kind"]
    search_fields = ["name", "branch__name"]
    autocomplete_fields = ["branch"]
    inlines = [VolunteerInline]

    def get_queryset(self, request):
        return self.counted(super().get_queryset(request), member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(VolunteerMember)
class VolunteerMemberAdmin(PartyModelAdmin):
    list_display = ["name", "kind", "team", "building", "is_leader"]
    list_select_related = ["team", "building"]
    list_filter = ["kind", "team__kind"]
    search_fields = ["name", "team__name"]
    autocomplete_fields = ["team", "building"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = [
        "held_on",
        "kind",
        "branch",
        "place",
        "participants",
        "households_visited",
        "opinions",
    ]
    list_select_related = ["branch"]
    list_filter = ["kind"]
    search_fields = ["place", "branch__name", "summary"]
    date_hierarchy = "held_on"
    exclude = ["requests"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(opinions=count_subquery(ActivityRequest.objects.all(), "activity"))
        )

    @admin.display(description=_("opinions collected"), ordering="opinions")
    def opinions(self, obj):
        return obj.opinions


@admin.register(ActivityRequest)
class ActivityRequestAdmin(ReadOnlyAdmin):
    list_display = ["activity", "request"]
    list_select_related = ["activity", "request"]


class VoteInline(ReadOnlyInline):
    model = MeetingVote
    fields = ["matter", "entitled", "votes_for", "votes_against", "abstentions"]


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ["text", "responsible_department", "responsible_unit", "due_on", "status"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("responsible_department")


@admin.register(Meeting)
class MeetingAdmin(PartyModelAdmin):
    """Meetings are recorded on the meeting page (which carries open decisions over); here
    their agenda, attendance and minutes can be corrected."""

    list_display = ["title", "kind", "held_on", "community", "branch", "decision_count"]
    list_select_related = ["community", "branch"]
    list_filter = ["kind", ("community__sub_district", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "agenda", "minutes"]
    date_hierarchy = "held_on"
    readonly_fields = ["kind", "branch", "community", "held_on", "recorded_by", "created_at"]
    fields = [
        "kind",
        "title",
        "branch",
        "community",
        "held_on",
        "place",
        "chair",
        "agenda",
        "attendees",
        "attendance",
        "departments",
        "minutes",
        "recorded_by",
        "created_at",
    ]
    filter_horizontal = ["departments"]
    inlines = [VoteInline, DecisionInline]

    def get_queryset(self, request):
        return self.counted(super().get_queryset(request), decision_count=Count("decisions"))

    @admin.display(description=_("decisions"), ordering="decision_count")
    def decision_count(self, obj):
        return obj.decision_count

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is not None and obj.is_district_level:
            return allowed and has_permission(request.user, Meeting, "district")
        return allowed


@admin.register(Decision)
class DecisionAdmin(ScopedHistoryMixin, ReadOnlyAdmin):
    list_display = ["text", "meeting", "responsible", "due_on", "status", "overdue"]
    list_select_related = ["meeting", "responsible_department"]
    list_filter = ["status", "responsible_department", "meeting__kind"]
    search_fields = ["text", "responsible_unit", "meeting__title"]
    date_hierarchy = "due_on"

    @admin.display(description=_("responsible"))
    def responsible(self, obj):
        return obj.responsible

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj):
        return obj.is_overdue


@admin.register(DecisionReport)
class DecisionReportAdmin(ReadOnlyAdmin):
    list_display = ["decision", "meeting", "note"]
    list_select_related = ["decision", "meeting"]


@admin.register(MeetingVote)
class MeetingVoteAdmin(ReadOnlyAdmin):
    list_display = ["matter", "meeting", "entitled", "votes_for", "votes_against", "carried"]
    list_select_related = ["meeting"]

    @admin.display(description=_("carried"), boolean=True)
    def carried(self, obj):
        return obj.carried


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = [
        "matter",
        "branch",
        "raised_at",
        "respond_by",
        "community_answered_at",
        "sub_district_answered_at",
        "late",
        "resolved_on",
    ]
    list_select_related = ["branch"]
    search_fields = ["matter", "branch__name"]

    @admin.display(description=_("not answered in time"), boolean=True)
    def late(self, obj):
        return obj.late


@admin.register(ObjectionSettlement)
class ObjectionSettlementAdmin(ReadOnlyAdmin):
    list_display = ["request", "meeting", "settled_by", "created_at"]
    list_select_related = ["request", "meeting", "settled_by"]

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renovation.selectors import community_list, sub_district_list

from .models import (
    Decision,
    DecisionStatus,
    Department,
    Meeting,
    MeetingKind,
    TemporaryBranch,
)


def _sub_districts(request):
    return sub_district_list(user=request.user) if request else None


def _communities(request):
    return community_list(user=request.user) if request else None


DATE = forms.DateInput(attrs={"type": "date"})


class DecisionFilter(django_filters.FilterSet):
    """The decisions board: by department or unit, status, due dates, overdue."""

    department = django_filters.ModelChoiceFilter(
        field_name="responsible_department",
        queryset=Department.objects.all(),
        label=_("responsible department"),
    )
    unit = django_filters.CharFilter(
        field_name="responsible_unit", lookup_expr="icontains", label=_("responsible unit")
    )
    status = django_filters.ChoiceFilter(choices=DecisionStatus.choices, label=_("status"))
    due_from = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label=_("due from"), widget=DATE
    )
    due_to = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("due by"), widget=DATE
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
    kind = django_filters.ChoiceFilter(
        field_name="meeting__kind", choices=MeetingKind.choices, label=_("meeting")
    )
    sub_district = django_filters.ModelChoiceFilter(
        field_name="meeting__community__sub_district",
        queryset=_sub_districts,
        label=_("sub-district"),
    )

    class Meta:
        model = Decision
        fields = ["department", "unit", "status", "due_from", "due_to", "overdue", "kind"]

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status=DecisionStatus.OPEN, due_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class MeetingFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices, label=_("kind"))
    held_from = django_filters.DateFilter(
        field_name="held_on", lookup_expr="gte", label=_("held from"), widget=DATE
    )
    held_to = django_filters.DateFilter(
        field_name="held_on", lookup_expr="lte", label=_("held until"), widget=DATE
    )
    community = django_filters.ModelChoiceFilter(queryset=_communities, label=_("community"))

    class Meta:
        model = Meeting
        fields = ["kind", "held_from", "held_to", "community"]


class BranchFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label=_("name contains")
    )
    active = django_filters.BooleanFilter(method="filter_active", label=_("serving"))
    sub_district = django_filters.ModelChoiceFilter(
        field_name="community__sub_district", queryset=_sub_districts, label=_("sub-district")
    )
    community = django_filters.ModelChoiceFilter(queryset=_communities, label=_("community"))

    class Meta:
        model = TemporaryBranch
        fields = ["q", "active", "sub_district", "community"]

    def filter_active(self, queryset, name, value):
        active = TemporaryBranch.objects.active().values("pk")
        return queryset.filter(pk__in=active) if value else queryset.exclude(pk__in=active)

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renovation.access import scope_queryset
from renovation.filters import RowChoiceFilter
from renovation.models import Compound
from renovation.widgets import (
    QuickNullBooleanSelect,
    QuickSelect,
    QuickSelectMultiple,
)

from .models import Channel, RequestKind, RequestStatus, ResidentRequest, overdue_q


def _compounds(request):
    # Only what the choice shows: the registry list's building counts cost a grouped query
    # over every building in the area.
    if request is None:
        return None
    compounds = Compound.objects.order_by(*Compound._meta.ordering).only("pk", "name")
    return scope_queryset(request.user, compounds)


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("text contains"))
    status = django_filters.MultipleChoiceFilter(
        choices=RequestStatus.choices, label=_("status"), widget=QuickSelectMultiple
    )
    kind = django_filters.ChoiceFilter(
        choices=RequestKind.choices, label=_("kind"), widget=QuickSelect
    )
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, label=_("channel"), widget=QuickSelect
    )
    # Built from the compounds' names alone: a district-wide list holds every compound.
    compound = RowChoiceFilter(queryset=_compounds, label=_("compound"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("overdue"), widget=QuickNullBooleanSelect
    )
    is_verified = django_filters.BooleanFilter(label=_("verified"), widget=QuickNullBooleanSelect)

    class Meta:
        model = ResidentRequest
        fields = ["q", "status", "kind", "channel", "compound", "overdue", "is_verified"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(description__icontains=value) | Q(room__icontains=value))

    def filter_overdue(self, queryset, name, value):
        # Every column of the rule is NOT NULL, so excluding it is its exact opposite (and
        # PostgreSQL need not compare each request with the list of overdue ones).
        overdue = overdue_q(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renovation.access import scope_queryset
from renovation.models import Compound

from .models import Channel, RequestKind, RequestStatus, ResidentRequest


def _compounds(request):
    # Only what the choice shows: the registry list's building counts cost a grouped query
    # over every building in the area.
    if request is None:
        return None
    compounds = Compound.objects.order_by(*Compound._meta.ordering).only("pk", "name")
    return scope_queryset(request.user, compounds)


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("text contains"))
    status = django_filters.MultipleChoiceFilter(choices=RequestStatus.choices, label=_("status"))
    kind = django_filters.ChoiceFilter(choices=RequestKind.choices, label=_("kind"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    compound = django_filters.ModelChoiceFilter(queryset=_compounds, label=_("compound"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
    is_verified = django_filters.BooleanFilter(label=_("verified"))

    class Meta:
        model = ResidentRequest
        fields = ["q", "status", "kind", "channel", "compound", "overdue", "is_verified"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(description__icontains=value) | Q(room__icontains=value))

    def filter_overdue(self, queryset, name, value):
        overdue = queryset.overdue()
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

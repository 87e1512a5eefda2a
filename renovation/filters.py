import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Compound
from .selectors import community_list, sub_district_list


def _sub_districts(request):
    return sub_district_list(user=request.user) if request else None


def _communities(request):
    return community_list(user=request.user) if request else None


class CompoundFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label=_("name contains")
    )
    sub_district = django_filters.ModelChoiceFilter(
        field_name="community__sub_district", queryset=_sub_districts, label=_("sub-district")
    )
    community = django_filters.ModelChoiceFilter(queryset=_communities, label=_("community"))
    is_old = django_filters.BooleanFilter(label=_("old compound"))
    property_management = django_filters.ChoiceFilter(
        choices=Compound.PropertyManagement.choices, label=_("property management")
    )

    class Meta:
        model = Compound
        fields = ["q", "sub_district", "community", "is_old", "property_management"]

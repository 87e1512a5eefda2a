import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Compound, ProjectStatus, RenovationProject
from .selectors import community_list, sub_district_list
from .widgets import (
    QuickNullBooleanSelect,
    QuickSelect,
    QuickSelectMultiple,
    RowChoiceField,
    options_key,
)


class RowChoiceFilter(django_filters.ModelChoiceFilter):
    """A choice of rows whose options are built from a few of their columns (see
    RowChoiceField): a district-wide list offers hundreds of them."""

    field_class = RowChoiceField


def filter_form_key(filterset: django_filters.FilterSet) -> str:
    """Everything a filter form's HTML depends on (options_key): what was asked, and the
    options it offers. Rendering its widgets took a quarter of a list page."""
    asked = [(name, filterset.data.getlist(name)) for name in filterset.form.fields]
    return options_key(filterset.form, asked)


def _sub_districts(request):
    return sub_district_list(user=request.user) if request else None


# Above this many communities in a user's area (a city has hundreds), the community choice
# lists only those of the chosen sub-district: a select of every community is slow to
# render on every page and of no use to pick from.
COMMUNITY_CHOICES_MAX = 100


def _communities(request):
    if request is None:
        return None
    communities = community_list(user=request.user)
    chosen = request.GET.get("sub_district", "")
    if chosen.isdigit():
        return communities.filter(sub_district=chosen)
    if communities.count() > COMMUNITY_CHOICES_MAX:
        return communities.none()
    return communities


class CompoundFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label=_("name contains")
    )
    sub_district = RowChoiceFilter(
        field_name="community__sub_district", queryset=_sub_districts, label=_("sub-district")
    )
    community = RowChoiceFilter(
        queryset=_communities,
        label=_("community"),
        columns=("sub_district__name", "name"),
        label_from_row=lambda row: f"{row['sub_district__name']} {row['name']}",  # __str__
    )
    is_old = django_filters.BooleanFilter(label=_("old compound"), widget=QuickNullBooleanSelect)
    property_management = django_filters.ChoiceFilter(
        choices=Compound.PropertyManagement.choices,
        label=_("property management"),
        widget=QuickSelect,
    )

    class Meta:
        model = Compound
        fields = ["q", "sub_district", "community", "is_old", "property_management"]


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("name contains"))
    batch_year = django_filters.NumberFilter(label=_("batch year"))
    batch_from = django_filters.NumberFilter(
        field_name="batch_year", lookup_expr="gte", label=_("batch from")
    )
    batch_to = django_filters.NumberFilter(
        field_name="batch_year", lookup_expr="lte", label=_("batch to")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=ProjectStatus.choices, label=_("status"), widget=QuickSelectMultiple
    )
    sub_district = RowChoiceFilter(
        field_name="compound__community__sub_district",
        queryset=_sub_districts,
        label=_("sub-district"),
    )
    kind = django_filters.ChoiceFilter(
        choices=RenovationProject.Kind.choices, label=_("kind"), widget=QuickSelect
    )
    is_key = django_filters.BooleanFilter(label=_("key project"), widget=QuickNullBooleanSelect)
    delayed = django_filters.BooleanFilter(label=_("delayed"), widget=QuickNullBooleanSelect)

    class Meta:
        model = RenovationProject
        fields = ["q", "batch_year", "status", "sub_district", "kind", "is_key", "delayed"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(compound__name__icontains=value))

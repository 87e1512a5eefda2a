"""Reads of the registry, already scoped to the person asking and already joined."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ..access import scope_queryset
from ..models import Building, Community, Compound, SubDistrict


def compound_list(*, user) -> QuerySet[Compound]:
    """Compounds the user may see, with their place names and building figures.

    The figures are subqueries, not a GROUP BY: PostgreSQL then works them out for the page
    of compounds shown, after sorting, instead of for every building of the area first."""
    buildings = Building.objects.filter(compound=OuterRef("pk")).order_by().values("compound")
    queryset = Compound.objects.select_related("community__sub_district__district").annotate(
        building_count=Coalesce(
            Subquery(buildings.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
            Value(0),
        ),
        building_households=Subquery(
            buildings.annotate(total=Sum("households")).values("total"),
            output_field=IntegerField(),
        ),
    )
    queryset = queryset.order_by(*Compound._meta.ordering)
    return scope_queryset(user, queryset)


def compound_get(*, user, pk: int) -> Compound:
    """One compound the user may see; raises Compound.DoesNotExist otherwise, so a guessed
    id outside the user's area looks exactly like one that does not exist."""
    return compound_list(user=user).get(pk=pk)


def building_list(*, user, compound: Compound | None = None) -> QuerySet[Building]:
    queryset = Building.objects.select_related("compound__community__sub_district")
    if compound is not None:
        queryset = queryset.filter(compound=compound)
    return scope_queryset(user, queryset)


def community_list(*, user) -> QuerySet[Community]:
    return scope_queryset(user, Community.objects.select_related("sub_district__district"))


def sub_district_list(*, user) -> QuerySet[SubDistrict]:
    return scope_queryset(user, SubDistrict.objects.select_related("district"))


def registry_totals(*, user) -> dict:
    """Compounds, old compounds, their share, buildings and households in the user's area."""
    compounds = scope_queryset(user, Compound.objects.all())
    figures = compounds.aggregate(
        compounds=Count("pk"),
        households=Sum("households"),
    )
    figures["old"] = compounds.filter(is_old=True).count()
    figures["buildings"] = scope_queryset(user, Building.objects.all()).count()
    figures["households"] = figures["households"] or 0
    figures["old_share"] = (
        round(100 * figures["old"] / figures["compounds"], 2) if figures["compounds"] else 0
    )
    return figures

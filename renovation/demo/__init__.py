"""Fictional demo data for Liubei District, calibrated to the figures the source article
publishes (see DESIGN.md, "Calibration").

Everything is generated from fixed seeds, so loading twice gives the same rows and each
part skips what already exists."""

from django.db import transaction

from partycells.demo import partycells_load, partycells_reset
from residents.demo import residents_load, residents_reset

from ..models import Building, Compound, District, ProjectStatus, RenovationProject
from .projects import projects_load, projects_reset
from .registry import DEMO_PASSWORD, DEMO_USERS, DISTRICT, registry_load, registry_reset

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "demo_load", "demo_reset"]


@transaction.atomic
def demo_load() -> dict:
    """Load every part of the demo; return the headline figures that now stand."""
    district = registry_load()
    projects_load(district)
    residents_load(district)
    partycells_load(district)
    compounds = Compound.objects.filter(community__sub_district__district=district)
    projects = RenovationProject.objects.filter(compound__in=compounds)
    return {
        "compounds": compounds.count(),
        "old": compounds.filter(is_old=True).count(),
        "buildings": Building.objects.filter(compound__in=compounds).count(),
        "renovated_2018_2021": projects.filter(
            batch_year__range=(2018, 2021),
            status__in=[ProjectStatus.COMPLETED, ProjectStatus.ACCEPTED],
        ).count(),
        "batch_2022": projects.filter(batch_year=2022).count(),
    }


@transaction.atomic
def demo_reset() -> None:
    """Remove the demo district with everything hanging from it, and the demo users."""
    district = District.objects.filter(code=DISTRICT[1]).first()
    if district is None:
        return
    partycells_reset(district)
    residents_reset(district)
    projects_reset(district)
    registry_reset(district)

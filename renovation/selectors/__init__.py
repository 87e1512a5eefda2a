"""Reads, scoped to the person asking and joined for the page that shows them."""

from .projects import (
    allocation_list,
    funding_source_get,
    funding_source_list,
    funding_totals,
    latest_progress_subquery,
    project_get,
    project_list,
    project_page,
    project_scope,
    project_totals,
    rate,
    sum_subquery,
)
from .registry import (
    building_list,
    community_list,
    compound_get,
    compound_list,
    registry_totals,
    sub_district_list,
)

__all__ = [
    "allocation_list",
    "building_list",
    "community_list",
    "compound_get",
    "compound_list",
    "funding_source_get",
    "funding_source_list",
    "funding_totals",
    "latest_progress_subquery",
    "project_get",
    "project_list",
    "project_page",
    "project_scope",
    "project_totals",
    "rate",
    "registry_totals",
    "sub_district_list",
    "sum_subquery",
]

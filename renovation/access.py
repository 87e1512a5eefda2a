"""Roles and scoping: the one place that decides what a person may see and do.

Every queryset shown to a person (admin, pages, exports) goes through `scope_queryset`, and
every page or admin action asks `has_permission`. A model takes part by declaring
`scope_lookups`: the lookups from it to its SubDistrict and its Community.
"""

from collections.abc import Iterable

from django.db.models import Model, QuerySet

from .models import Role, StaffProfile

DISTRICT_WIDE_ROLES = frozenset(
    {Role.PROGRAMME_OFFICE, Role.FINANCE, Role.ORGANISATION, Role.PUBLICITY, Role.LEADER}
)
ALL_ROLES = frozenset(Role)
# Roles that work in the browser admin; grid workers use the phone pages only.
ADMIN_ROLES = ALL_ROLES - {Role.GRID_WORKER}

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

_REGISTRY_AREAS = {
    VIEW: ALL_ROLES,
    ADD: {Role.PROGRAMME_OFFICE},
    CHANGE: {Role.PROGRAMME_OFFICE},
    DELETE: {Role.PROGRAMME_OFFICE},
}
_REGISTRY_COMPOUNDS = {
    VIEW: ALL_ROLES,
    # Sub-districts keep their own compound lists and may correct them.
    ADD: {Role.PROGRAMME_OFFICE, Role.SUB_DISTRICT_STAFF},
    CHANGE: {Role.PROGRAMME_OFFICE, Role.SUB_DISTRICT_STAFF},
    DELETE: {Role.PROGRAMME_OFFICE},
}

_PROJECTS = {
    VIEW: ALL_ROLES,
    ADD: {Role.PROGRAMME_OFFICE},
    CHANGE: {Role.PROGRAMME_OFFICE},
    DELETE: {Role.PROGRAMME_OFFICE},
}
# Sub-districts send the monthly progress of the projects in their area.
_PROGRESS = {**_PROJECTS, ADD: {Role.PROGRAMME_OFFICE, Role.SUB_DISTRICT_STAFF}}
_MONEY = {
    VIEW: DISTRICT_WIDE_ROLES | {Role.SUB_DISTRICT_STAFF, Role.COMMUNITY_STAFF},
    ADD: {Role.PROGRAMME_OFFICE, Role.FINANCE},
    CHANGE: {Role.PROGRAMME_OFFICE, Role.FINANCE},
    DELETE: {Role.FINANCE},
}
_CATALOGUE = {VIEW: ALL_ROLES, ADD: {Role.PROGRAMME_OFFICE}, CHANGE: {Role.PROGRAMME_OFFICE}}

# model label → action → roles allowed. A model missing here is superuser-only.
PERMISSIONS: dict[str, dict[str, Iterable[Role]]] = {
    "renovation.district": _REGISTRY_AREAS,
    "renovation.subdistrict": _REGISTRY_AREAS,
    "renovation.community": _REGISTRY_AREAS,
    "renovation.compound": _REGISTRY_COMPOUNDS,
    "renovation.building": _REGISTRY_COMPOUNDS,
    "renovation.renovationproject": _PROJECTS,
    "renovation.projectitem": _PROJECTS,
    "renovation.projecttransition": {VIEW: ALL_ROLES},
    "renovation.progressupdate": _PROGRESS,
    "renovation.itemcategory": _CATALOGUE,
    "renovation.fundingsource": {**_MONEY, VIEW: DISTRICT_WIDE_ROLES},
    "renovation.fundingallocation": _MONEY,
    "renovation.disbursement": _MONEY,
}


def get_profile(user) -> StaffProfile | None:
    """The user's staff profile, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_xinsheng_profile"):
        user._xinsheng_profile = (
            StaffProfile.objects.select_related("sub_district", "community")
            .filter(user=user)
            .first()
        )
    return user._xinsheng_profile


def get_role(user) -> Role | None:
    profile = get_profile(user)
    return Role(profile.role) if profile else None


def has_role(user, *roles: Role) -> bool:
    return get_role(user) in roles


def has_permission(user, model: type[Model] | Model, action: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    role = get_role(user)
    if role is None:
        return False
    allowed = PERMISSIONS.get(model._meta.label_lower, {}).get(action, ())
    return role in allowed


def scope_queryset(user, queryset: QuerySet) -> QuerySet:
    """Limit `queryset` to the rows `user` may see: everything for district-wide roles,
    the user's sub-district or community for local roles, nothing for anyone else.

    `scope_lookups = None` marks shared reference data (the same for everyone);
    an empty dict marks district-level data that local roles do not see."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    profile = get_profile(user)
    if profile is None:
        return queryset.none()
    if profile.role in DISTRICT_WIDE_ROLES:
        return queryset
    lookups = queryset.model.scope_lookups
    if lookups is None:
        return queryset
    if not lookups:
        return queryset.none()
    if profile.role == Role.SUB_DISTRICT_STAFF:
        return queryset.filter(**{lookups["sub_district"]: profile.sub_district_id})
    return queryset.filter(**{lookups["community"]: profile.community_id})

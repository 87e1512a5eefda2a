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
DELETED = "deleted"  # reading the history of deleted rows

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
    # The history of deleted rows (renovation.admin.DeletedRecordsAdmin): district-wide
    # roles only, as deleted rows are not scoped to an area.
    DELETED: {Role.PROGRAMME_OFFICE, Role.FINANCE},
}
_CATALOGUE = {VIEW: ALL_ROLES, ADD: {Role.PROGRAMME_OFFICE}, CHANGE: {Role.PROGRAMME_OFFICE}}

# Party cells: the organisation department and the programme office keep branches, members
# and building groups; sub-district and community staff record the branches' work in their
# area. "district" marks district-level meetings (the joint meeting) and their decisions.
_BRANCH_KEEPERS = {Role.PROGRAMME_OFFICE, Role.ORGANISATION}
_LOCAL_STAFF = {Role.SUB_DISTRICT_STAFF, Role.COMMUNITY_STAFF}
_BRANCH_RECORDS = {
    VIEW: ALL_ROLES,
    ADD: _BRANCH_KEEPERS,
    CHANGE: _BRANCH_KEEPERS,
    DELETE: {Role.ORGANISATION},
}
_BRANCH_WORK = {
    VIEW: ALL_ROLES,
    ADD: {Role.ORGANISATION} | _LOCAL_STAFF,
    CHANGE: {Role.ORGANISATION} | _LOCAL_STAFF,
}
_VOLUNTEERS = {
    VIEW: ALL_ROLES,
    ADD: _BRANCH_KEEPERS | _LOCAL_STAFF,
    CHANGE: _BRANCH_KEEPERS | _LOCAL_STAFF,
    DELETE: _BRANCH_KEEPERS | _LOCAL_STAFF,
}
_MEETINGS = {
    VIEW: ADMIN_ROLES,
    ADD: _BRANCH_KEEPERS | _LOCAL_STAFF,
    CHANGE: _BRANCH_KEEPERS | _LOCAL_STAFF,
    "district": {Role.PROGRAMME_OFFICE},
}

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
    # The joint-meeting report and dashboard are district-level: every department reads
    # them, the programme office asks for them.
    "renovation.monthlyreport": {
        VIEW: DISTRICT_WIDE_ROLES,
        ADD: {Role.PROGRAMME_OFFICE},
        CHANGE: {Role.PROGRAMME_OFFICE},
    },
    # Residents (residents app). Grid workers log requests and see only those they logged
    # or were assigned (residents.selectors.request_list); community staff work the queue.
    "residents.residentrequest": {
        VIEW: ALL_ROLES,
        ADD: {Role.COMMUNITY_STAFF, Role.GRID_WORKER},
        CHANGE: {Role.COMMUNITY_STAFF},
    },
    "residents.requestlog": {VIEW: ALL_ROLES},
    "residents.survey": {
        VIEW: ALL_ROLES,
        ADD: {Role.COMMUNITY_STAFF, Role.SUB_DISTRICT_STAFF},
        CHANGE: {Role.COMMUNITY_STAFF, Role.SUB_DISTRICT_STAFF},
    },
    "residents.surveyanswer": {
        VIEW: ALL_ROLES,
        ADD: {Role.COMMUNITY_STAFF, Role.SUB_DISTRICT_STAFF, Role.GRID_WORKER},
    },
    # The community drafts, reviews and sends its list; the housing bureau receives it and
    # turns it into project items.
    "residents.demandlist": {
        VIEW: ALL_ROLES,
        ADD: {Role.COMMUNITY_STAFF},
        CHANGE: {Role.COMMUNITY_STAFF},
        "receive": {Role.PROGRAMME_OFFICE},
    },
    "residents.demandlistitem": {VIEW: ALL_ROLES},
    "residents.servicehours": {
        VIEW: ALL_ROLES,
        ADD: {Role.COMMUNITY_STAFF},
        CHANGE: {Role.COMMUNITY_STAFF},
        DELETE: {Role.COMMUNITY_STAFF},
    },
    "residents.serviceslot": {
        VIEW: ALL_ROLES,
        ADD: {Role.COMMUNITY_STAFF},
        CHANGE: {Role.COMMUNITY_STAFF},
        DELETE: {Role.COMMUNITY_STAFF},
    },
    "residents.errandbooking": {
        VIEW: ALL_ROLES,
        ADD: {Role.COMMUNITY_STAFF, Role.GRID_WORKER},
        CHANGE: {Role.COMMUNITY_STAFF},
    },
    "residents.compoundpage": {
        VIEW: ADMIN_ROLES,
        ADD: ADMIN_ROLES - {Role.FINANCE, Role.ORGANISATION, Role.LEADER},
        CHANGE: ADMIN_ROLES - {Role.FINANCE, Role.ORGANISATION, Role.LEADER},
    },
    "partycells.department": {
        VIEW: ALL_ROLES,
        ADD: {Role.PROGRAMME_OFFICE},
        CHANGE: {Role.PROGRAMME_OFFICE},
    },
    # Grid workers see their community's branch page (members, groups, activities) only.
    "partycells.temporarybranch": {**_BRANCH_RECORDS, "coverage": ADMIN_ROLES},
    "partycells.branchmember": _BRANCH_RECORDS,
    "partycells.buildinggroup": _BRANCH_RECORDS,
    "partycells.volunteerteam": _VOLUNTEERS,
    "partycells.volunteermember": _VOLUNTEERS,
    "partycells.activity": _BRANCH_WORK,
    "partycells.activityrequest": {VIEW: ALL_ROLES},
    "partycells.meeting": _MEETINGS,
    "partycells.meetingvote": {VIEW: ADMIN_ROLES, ADD: _MEETINGS[ADD]},
    "partycells.decision": {VIEW: ADMIN_ROLES, ADD: _MEETINGS[ADD], CHANGE: _MEETINGS[CHANGE]},
    "partycells.decisionreport": {VIEW: ADMIN_ROLES},
    # A branch blows the whistle; its community and sub-district answer ("社街报到").
    "partycells.escalation": {
        VIEW: ADMIN_ROLES,
        ADD: {Role.ORGANISATION} | _LOCAL_STAFF,
        CHANGE: {Role.ORGANISATION} | _LOCAL_STAFF,
        "answer": _LOCAL_STAFF,
    },
    # Objections are settled at a consultation council, recorded by the local staff.
    "partycells.objectionsettlement": {VIEW: ADMIN_ROLES, ADD: _LOCAL_STAFF},
}


def get_profile(user) -> StaffProfile | None:
    """The user's staff profile, cached on the user object for the request (read with the
    user itself when it comes from renovation.backends.ProfileModelBackend)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_xinsheng_profile"):
        if _PROFILE.is_cached(user):  # joined to the user (None: the user has none)
            user._xinsheng_profile = _PROFILE.get_cached_value(user)
        else:
            user._xinsheng_profile = (
                StaffProfile.objects.select_related("sub_district", "community")
                .filter(user=user)
                .first()
            )
    return user._xinsheng_profile


# The user's side of the one-to-one field, which holds a profile read with the user.
_PROFILE = StaffProfile._meta.get_field("user").remote_field


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


def scope_key(user) -> tuple:
    """What scope_queryset's answer depends on for `user`, for the key under which what is
    worked out of a scoped queryset is kept in the cache (keep it in step with the function
    below): building and compiling the queryset only to name it took longer than the rest."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ("nobody",)
    if user.is_superuser:
        return ("everything",)
    profile = get_profile(user)
    if profile is None:
        return ("nobody",)
    if profile.role in DISTRICT_WIDE_ROLES:
        return ("everything",)
    return (profile.role, profile.sub_district_id, profile.community_id)


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

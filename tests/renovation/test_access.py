import pytest
from django.db import IntegrityError

from renovation.access import has_permission, scope_queryset
from renovation.models import Building, Community, Compound, District, Role, SubDistrict
from tests.factories import StaffProfileFactory, UserFactory

DISTRICT_WIDE = ["programme_office", "finance", "organisation", "publicity", "leader"]


def visible_compound_communities(user):
    return set(
        scope_queryset(user, Compound.objects.all()).values_list("community__code", flat=True)
    )


@pytest.mark.parametrize("role", DISTRICT_WIDE)
def test_district_wide_roles_see_every_compound(users, role):
    assert visible_compound_communities(users[role]) == {"GY", "BQ", "JN"}


def test_sub_district_staff_see_only_their_sub_district(users):
    assert visible_compound_communities(users["sub_district_staff"]) == {"GY", "BQ"}


@pytest.mark.parametrize("role", ["community_staff", "grid_worker"])
def test_community_roles_see_only_their_community(users, role):
    assert visible_compound_communities(users[role]) == {"GY"}


def test_user_without_role_sees_nothing(users):
    assert not scope_queryset(users["no_role"], Compound.objects.all()).exists()


def test_anonymous_sees_nothing(registry):
    from django.contrib.auth.models import AnonymousUser

    assert not scope_queryset(AnonymousUser(), Compound.objects.all()).exists()


def test_inactive_user_sees_nothing(users):
    user = users["programme_office"]
    user.is_active = False
    assert not scope_queryset(user, Compound.objects.all()).exists()
    assert not has_permission(user, Compound, "view")


@pytest.mark.parametrize(
    ("model", "role", "expected"),
    [
        (District, "sub_district_staff", {"LB"}),
        (SubDistrict, "sub_district_staff", {"YR"}),
        (SubDistrict, "community_staff", {"YR"}),
        (Community, "sub_district_staff", {"GY", "BQ"}),
        (Community, "community_staff", {"GY"}),
        (Building, "community_staff", {"GY"}),
    ],
)
def test_every_registry_level_is_scoped(users, model, role, expected):
    rows = scope_queryset(users[role], model.objects.all())
    if model is Building:
        codes = set(rows.values_list("compound__community__code", flat=True))
    else:
        codes = set(rows.values_list("code", flat=True))
    assert codes == expected


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        ("programme_office", "change", True),
        ("programme_office", "delete", True),
        ("sub_district_staff", "change", True),
        ("sub_district_staff", "delete", False),
        ("community_staff", "change", False),
        ("leader", "view", True),
        ("leader", "change", False),
        ("finance", "change", False),
        ("grid_worker", "view", True),
        ("grid_worker", "add", False),
        ("no_role", "view", False),
    ],
)
def test_compound_permissions_follow_the_role_table(users, role, action, allowed):
    assert has_permission(users[role], Compound, action) is allowed


def test_only_programme_office_changes_communities(users):
    assert has_permission(users["programme_office"], Community, "change")
    assert not has_permission(users["sub_district_staff"], Community, "change")


@pytest.mark.django_db
def test_profile_area_must_match_role(registry):
    with pytest.raises(IntegrityError):
        StaffProfileFactory(user=UserFactory(username="bad"), role=Role.GRID_WORKER)


@pytest.mark.django_db
def test_district_wide_profile_cannot_carry_an_area(registry):
    with pytest.raises(IntegrityError):
        StaffProfileFactory(
            user=UserFactory(username="bad2"), role=Role.LEADER, community=registry["a1"]
        )

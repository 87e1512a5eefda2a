"""Shared fixtures: a small registry with two sub-districts, and one user per role.

In CI (CI=true) the suite must run on PostgreSQL; a missing server fails the run."""

import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from renovation.models import Role
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    DistrictFactory,
    StaffProfileFactory,
    SubDistrictFactory,
    UserFactory,
)


def pytest_report_header(config):
    return f"database: {connection.vendor}"


@pytest.fixture(scope="session", autouse=True)
def _ci_runs_on_postgresql():
    if os.environ.get("CI", "").lower() == "true" and connection.vendor != "postgresql":
        pytest.fail("CI must run the suite on PostgreSQL: set DATABASE_URL", pytrace=False)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Pages keep figures and fragments in the cache under the version of their tables
    (renovation.cache) or what they show. A test's rows are rolled back after it, and on
    SQLite the next test takes the same ids again, so the same version could stand for
    other rows: each test starts with an empty cache."""
    cache.clear()


@pytest.fixture(autouse=True)
def _request_list_versions_at_once(request):
    """On PostgreSQL the triggers that touch the request lists' versions (residents/0006)
    are deferred to the commit, which a test inside a transaction never reaches: there they
    run at the end of each statement instead, as on SQLite. Tests that commit for real
    (transaction=True) keep them deferred, and test_request_list_versions checks that."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", marker.args[:1] == (True,))
    )
    uses_db = marker is not None or "db" in request.fixturenames
    if uses_db and not transactional and connection.vendor == "postgresql":
        request.getfixturevalue("db")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS touches_request_lists IMMEDIATE")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher costs a second per user; tests need passwords, not their strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def english():
    """Service messages in their English source form, for readable assertions; the pages'
    tests check the Chinese that users see."""
    with translation.override("en"):
        yield


@pytest.fixture
def registry(db):
    """Two sub-districts (A, B), each with communities; A1 and A2 under A, B1 under B."""
    district = DistrictFactory()
    sub_a = SubDistrictFactory(district=district, name="雅儒街道", code="YR")
    sub_b = SubDistrictFactory(district=district, name="解放街道", code="JF")
    a1 = CommunityFactory(sub_district=sub_a, name="广跃社区", code="GY")
    a2 = CommunityFactory(sub_district=sub_a, name="北雀社区", code="BQ")
    b1 = CommunityFactory(sub_district=sub_b, name="解放南社区", code="JN")
    compounds = {}
    for community in (a1, a2, b1):
        compound = CompoundFactory(community=community, name=f"{community.name}一号院")
        BuildingFactory.create_batch(2, compound=compound)
        compounds[community.code] = compound
    return {
        "district": district,
        "sub_a": sub_a,
        "sub_b": sub_b,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "compounds": compounds,
    }


@pytest.fixture
def make_user(db):
    def make(role: Role | None, *, sub_district=None, community=None, username=None, **extra):
        user = UserFactory(username=username or f"{role or 'norole'}-{id(object())}", **extra)
        if role is not None:
            StaffProfileFactory(
                user=user, role=role, sub_district=sub_district, community=community
            )
        return user

    return make


@pytest.fixture
def users(registry, make_user):
    """One user per role; local roles sit in sub-district A / community A1 (广跃社区)."""
    return {
        "programme_office": make_user(Role.PROGRAMME_OFFICE, username="office"),
        "finance": make_user(Role.FINANCE, username="finance"),
        "organisation": make_user(Role.ORGANISATION, username="organisation"),
        "publicity": make_user(Role.PUBLICITY, username="publicity"),
        "leader": make_user(Role.LEADER, username="leader"),
        "sub_district_staff": make_user(
            Role.SUB_DISTRICT_STAFF, sub_district=registry["sub_a"], username="subdistrict"
        ),
        "community_staff": make_user(
            Role.COMMUNITY_STAFF, community=registry["a1"], username="community"
        ),
        "grid_worker": make_user(
            Role.GRID_WORKER, community=registry["a1"], username="grid", is_staff=False
        ),
        "no_role": make_user(None, username="norole"),
    }


@pytest.fixture
def willing(registry):
    """Every compound of the registry has passed its willingness survey, so it may enter
    the project pipeline."""
    from tests.factories import passed_willingness_survey

    for compound in registry["compounds"].values():
        passed_willingness_survey(compound)
    return registry

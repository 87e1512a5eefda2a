"""What the city-scale tuning changed (docs/performance.md): lists that page before they
join for broad areas, a community choice that narrows by sub-district in a large area, and
the admin request list without date_hierarchy. Same rows, same rules, fixed queries."""

import pytest
from django.urls import reverse

from renovation import filters
from residents.models import ResidentRequest
from residents.selectors import joins_pay_off, request_list, request_rows
from tests.factories import CompoundFactory


@pytest.fixture
def logged(registry, make_request):
    """Requests in each community, newest last."""
    return [make_request(registry["compounds"][code]) for code in ("GY", "BQ", "JN", "GY", "JN")]


@pytest.mark.parametrize(
    ("role", "joined"),
    [
        ("programme_office", False),
        ("leader", False),
        ("sub_district_staff", False),
        ("community_staff", True),
        ("grid_worker", True),
    ],
)
def test_only_a_community_joins_its_request_rows(users, role, joined):
    assert joins_pay_off(users[role]) is joined


def test_broad_lists_show_the_same_rows_in_the_same_order(users, logged):
    office = users["programme_office"]
    joined = list(request_list(user=office).values_list("pk", flat=True))
    paged = request_rows(request_list(user=office), user=office)
    assert [r.pk for r in paged] == joined
    first = paged[0]
    assert first.compound.community.sub_district.name  # fetched by prefetch, no query per row


def test_office_request_list_runs_a_fixed_number_of_queries(
    client, users, registry, make_request, logged, django_assert_max_num_queries
):
    client.force_login(users["programme_office"])
    client.get(reverse("request-list"))
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("request-list"))
    for _ in range(12):
        make_request(CompoundFactory(community=registry["b1"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("request-list"))
    assert len(response.context["page"].object_list) == ResidentRequest.objects.count()


def test_community_choice_waits_for_a_sub_district_in_a_large_area(
    rf, users, registry, monkeypatch
):
    monkeypatch.setattr(filters, "COMMUNITY_CHOICES_MAX", 2)
    request = rf.get("/registry/compounds/")
    request.user = users["programme_office"]
    assert list(filters._communities(request)) == []
    request = rf.get("/registry/compounds/", {"sub_district": registry["sub_a"].pk})
    request.user = users["programme_office"]
    assert set(filters._communities(request)) == {registry["a1"], registry["a2"]}


def test_community_choice_lists_a_districts_communities(rf, users, registry):
    request = rf.get("/registry/compounds/")
    request.user = users["programme_office"]
    assert set(filters._communities(request)) == {registry["a1"], registry["a2"], registry["b1"]}


def test_community_choice_stays_within_the_users_area(rf, users, registry):
    request = rf.get("/registry/compounds/", {"sub_district": registry["sub_b"].pk})
    request.user = users["sub_district_staff"]  # of sub-district A
    assert list(filters._communities(request)) == []


def test_admin_request_list_filters_by_date_without_a_date_hierarchy(client, users, logged):
    client.force_login(users["programme_office"])
    url = reverse("admin:residents_residentrequest_changelist")
    response = client.get(url, {"logged_at__gte": "2000-01-01 00:00:00+08:00"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == len(logged)
    assert response.context["cl"].date_hierarchy is None

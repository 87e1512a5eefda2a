"""The admin list of requests (docs/performance.md): rows rendered as Django renders them,
the number linking to the request's page, communities offered by sub-district in a large
area, and a fixed number of queries."""

import datetime

import pytest
from django.contrib.admin.templatetags.admin_list import items_for_result
from django.urls import get_script_prefix, get_urlconf, reverse

from renovation.models import Compound, ItemCategory
from residents import admin as residents_admin
from residents.models import RequestKind, RequestStatus, ResidentRequest
from residents.selectors import PageFirst
from tests.factories import CommunityFactory

URL = "/admin/residents/residentrequest/"


@pytest.fixture
def varied(registry, make_request):
    """Requests whose cells differ: overdue or not, with and without a category, a
    contact name, in each community."""
    roof = ItemCategory.objects.get(code="roof_waterproofing")
    requests = [
        make_request(registry["compounds"][code], category=roof) for code in ("GY", "BQ", "JN")
    ]
    requests.append(make_request(kind=RequestKind.ERRAND, contact_name=""))
    ResidentRequest.objects.filter(pk=requests[0].pk).update(
        due_on=datetime.date(2020, 1, 1), status=RequestStatus.UNDER_REVIEW
    )
    ResidentRequest.objects.filter(pk=requests[1].pk).update(
        due_on=datetime.date(2020, 1, 1), status=RequestStatus.RESOLVED
    )
    return requests


def _filter(response, parameter):
    """The list's filter of `parameter`, or None when it has nothing to offer."""
    specs = response.context["cl"].filter_specs  # those with something to offer
    return next((s for s in specs if getattr(s, "parameter_name", None) == parameter), None)


@pytest.mark.parametrize("role", ["programme_office", "community_staff"])
def test_rows_are_the_cells_django_renders(client, users, varied, role):
    client.force_login(users[role])
    response = client.get(URL)
    changelist = response.context["cl"]
    assert len(changelist.rows) == len(changelist.result_list) > 0
    for obj, row in zip(changelist.result_list, changelist.rows, strict=True):
        assert row == ["".join(items_for_result(changelist, obj, None))]
        assert obj.is_overdue_today is obj.is_overdue  # worked out in SQL, as the model does
    assert any(obj.is_overdue for obj in changelist.result_list)


def test_the_number_links_to_the_requests_page_only(client, users, varied):
    client.force_login(users["programme_office"])
    page = client.get(URL).content.decode()
    pk = varied[0].pk
    assert f'<td class="field-number"><a href="/residents/{pk}/">#{pk}</a></td>' in page
    assert f"/admin/residents/residentrequest/{pk}/change/" not in page


def test_the_request_address_pattern_is_the_reversed_address(db):
    pattern = residents_admin._request_url_pattern(get_script_prefix(), get_urlconf())
    for pk in (1, 42, 9876543210, 10**12):
        assert pattern.format(pk) == reverse("request-detail", args=[pk])


def test_a_large_area_offers_communities_once_a_sub_district_is_chosen(
    client, users, registry, varied, monkeypatch
):
    monkeypatch.setattr(residents_admin, "COMMUNITY_CHOICES_MAX", 2)
    client.force_login(users["programme_office"])
    response = client.get(URL)
    assert _filter(response, "community") is None
    assert set(_filter(response, "sub_district").lookup_choices) == {
        (str(registry["sub_a"].pk), registry["sub_a"].name),
        (str(registry["sub_b"].pk), registry["sub_b"].name),
    }
    response = client.get(URL, {"sub_district": registry["sub_a"].pk})
    communities = _filter(response, "community").lookup_choices
    assert {pk for pk, _label in communities} == {str(registry["a1"].pk), str(registry["a2"].pk)}
    assert {r.compound.community for r in response.context["cl"].result_list} == {
        registry["a1"],
        registry["a2"],
    }


def test_a_chosen_community_is_offered_among_its_sub_districts(
    client, users, registry, varied, monkeypatch
):
    monkeypatch.setattr(residents_admin, "COMMUNITY_CHOICES_MAX", 2)
    client.force_login(users["programme_office"])
    response = client.get(URL, {"community": registry["a1"].pk})
    assert set(_filter(response, "community").lookup_choices) == {
        (str(registry["a1"].pk), f"{registry['sub_a'].name} {registry['a1'].name}"),
        (str(registry["a2"].pk), f"{registry['sub_a'].name} {registry['a2'].name}"),
    }
    assert {r.compound.community for r in response.context["cl"].result_list} == {registry["a1"]}
    page = response.content.decode()
    assert f'<li class="selected">\n    <a href="?community={registry["a1"].pk}">' in page


def test_choosing_a_sub_district_drops_the_chosen_community(client, users, registry, varied):
    client.force_login(users["programme_office"])
    response = client.get(URL, {"community": registry["a1"].pk, "status": "new"})
    choices = list(_filter(response, "sub_district").choices(response.context["cl"]))
    assert {c["query_string"] for c in choices} == {
        "?status=new",
        f"?status=new&sub_district={registry['sub_a'].pk}",
        f"?status=new&sub_district={registry['sub_b'].pk}",
    }


def test_a_district_lists_all_its_communities(client, users, registry, varied):
    client.force_login(users["programme_office"])
    communities = _filter(client.get(URL), "community").lookup_choices
    assert {pk for pk, _label in communities} == {
        str(registry[code].pk) for code in ("a1", "a2", "b1")
    }


def test_local_staff_see_their_own_area_only(client, users, registry, varied):
    client.force_login(users["sub_district_staff"])  # of sub-district A
    response = client.get(URL)
    assert _filter(response, "sub_district") is None  # one sub-district: nothing to choose
    assert {pk for pk, _label in _filter(response, "community").lookup_choices} == {
        str(registry["a1"].pk),
        str(registry["a2"].pk),
    }
    for outside in ({"sub_district": registry["sub_b"].pk}, {"community": registry["b1"].pk}):
        assert list(client.get(URL, outside).context["cl"].result_list) == []


def test_the_list_of_a_community_runs_a_fixed_number_of_queries(
    client, users, registry, make_request, django_assert_num_queries
):
    # Session, the user with their profile; the version of sub-districts and communities
    # (their choices kept in the cache), the version of the community's requests; when the
    # community's requests changed: their count, the page (its ids, then its rows joined to
    # their compounds and categories, in one query).
    client.force_login(users["programme_office"])
    community = {"community": registry["a1"].pk}
    client.get(URL, community)
    make_request(category=ItemCategory.objects.get(code="roof_waterproofing"))
    with django_assert_num_queries(6):
        client.get(URL, community)
    for _ in range(5):
        make_request()
    with django_assert_num_queries(6):
        client.get(URL, community)
    with django_assert_num_queries(4):
        client.get(URL, community)


def _rows_html(response) -> str:
    page = response.content.decode()
    return page[page.index('<table id="result_list">') : page.index("</table>")]


def _filters_html(response) -> str:
    page = response.content.decode()
    return page[
        page.index('<nav id="changelist-filter"') : page.index(
            "</nav>", page.index('<nav id="changelist-filter"')
        )
    ]


def test_rows_kept_in_the_cache_show_every_change_at_once(
    client, users, registry, varied, make_request
):
    """The rows and the filter side bar are kept in the cache under what they show: a
    changed request, a renamed compound or category and a new request show on the very
    next page, and what comes from the cache is what Django would render."""
    client.force_login(users["programme_office"])
    client.get(URL)  # rows and filters now in the cache
    ResidentRequest.objects.filter(pk=varied[1].pk).update(contact_name="赵师傅")
    Compound.objects.filter(pk=varied[2].compound_id).update(name="改了名的小区")
    ItemCategory.objects.filter(code="roof_waterproofing").update(name="屋面防水（新）")
    response = client.get(URL)  # the same requests, each shown differently
    for shown in ("赵师傅", "改了名的小区", "屋面防水（新）"):
        assert shown in _rows_html(response)
    added = make_request(contact_name="钱大姐")
    assert f"#{added.pk}<" in _rows_html(client.get(URL))
    response = client.get(URL)  # from the cache
    changelist = response.context["cl"]
    for obj, row in zip(changelist.result_list, changelist.rows, strict=True):
        assert row == ["".join(items_for_result(changelist, obj, None))]


def test_rows_kept_in_the_cache_are_each_users_own(client, users, registry, make_request):
    """Community staff of the request's community see its phone in full, the programme
    office masked: the same rows from the cache must not show one the other's."""
    make_request(contact_phone="13812345678")
    client.force_login(users["community_staff"])
    assert "13812345678" in _rows_html(client.get(URL))
    client.force_login(users["programme_office"])
    rows = _rows_html(client.get(URL))
    assert "13812345678" not in rows and "138****5678" in rows


def test_filters_kept_in_the_cache_show_a_new_community_and_the_choice_at_once(
    client, users, registry, varied
):
    client.force_login(users["programme_office"])
    before = _filters_html(client.get(URL))
    assert "清除所有筛选" not in before
    added = CommunityFactory(sub_district=registry["sub_a"], name="新设社区")
    assert "新设社区" in _filters_html(client.get(URL))
    chosen = _filters_html(client.get(URL, {"community": added.pk}))
    assert f'<li class="selected">\n    <a href="?community={added.pk}">' in chosen
    assert "清除所有筛选" in chosen


def test_a_long_list_is_cut_to_a_page_on_ids_first_in_the_same_order(client, users, make_request):
    for _ in range(55):  # more than a page of 50
        make_request()
    expected = list(
        ResidentRequest.objects.order_by("-logged_at", "-pk").values_list("pk", flat=True)
    )
    client.force_login(users["programme_office"])
    first = client.get(URL).context["cl"]
    second = client.get(URL, {"p": 2}).context["cl"]
    assert isinstance(first.paginator.object_list, PageFirst)
    shown = [obj.pk for cl in (first, second) for obj in cl.result_list]
    assert shown == expected
    assert all(hasattr(obj, "is_overdue_today") for obj in second.result_list)

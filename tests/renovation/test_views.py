import pytest
from django.urls import reverse


def test_anonymous_is_sent_to_login(client, registry):
    response = client.get(reverse("compound-list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_user_without_role_is_forbidden(client, users):
    client.force_login(users["no_role"])
    assert client.get(reverse("compound-list")).status_code == 403
    assert client.get(reverse("home")).status_code == 403


def test_community_staff_list_shows_only_their_community(client, users, registry):
    client.force_login(users["community_staff"])
    response = client.get(reverse("compound-list"))
    assert response.status_code == 200
    names = [c.name for c in response.context["page"]]
    assert names == [registry["compounds"]["GY"].name]


@pytest.mark.parametrize("role", ["community_staff", "grid_worker", "sub_district_staff"])
def test_guessing_another_areas_compound_id_gives_404(client, users, registry, role):
    client.force_login(users[role])
    other = registry["compounds"]["JN"]
    assert client.get(reverse("compound-detail", args=[other.pk])).status_code == 404


def test_compound_detail_shows_its_buildings(client, users, registry):
    client.force_login(users["grid_worker"])
    compound = registry["compounds"]["GY"]
    response = client.get(reverse("compound-detail", args=[compound.pk]))
    assert response.status_code == 200
    assert len(response.context["buildings"]) == 2


def test_compound_list_filters_by_sub_district(client, users, registry):
    client.force_login(users["programme_office"])
    response = client.get(reverse("compound-list"), {"sub_district": registry["sub_b"].pk})
    assert [c.name for c in response.context["page"]] == [registry["compounds"]["JN"].name]


def test_compound_list_query_count_does_not_grow_with_rows(
    client, users, registry, django_assert_max_num_queries
):
    from tests.factories import BuildingFactory, CompoundFactory

    client.force_login(users["programme_office"])
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("compound-list"))
    for _ in range(30):
        BuildingFactory.create_batch(2, compound=CompoundFactory(community=registry["a1"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("compound-list"))
    assert response.context["page"].paginator.count == 33


def test_home_shows_figures_for_the_users_area(client, users):
    client.force_login(users["sub_district_staff"])
    response = client.get(reverse("home"))
    assert response.context["totals"]["compounds"] == 2
    assert response.context["totals"]["buildings"] == 4


def test_pages_are_chinese_by_default(client, users):
    client.force_login(users["programme_office"])
    response = client.get(reverse("compound-list"))
    assert response["Content-Language"] == "zh-hans"
    assert "小区" in response.content.decode()


def test_pages_stay_chinese_for_an_english_browser(client, users):
    client.force_login(users["programme_office"])
    response = client.get(reverse("compound-list"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "zh-hans"


def test_language_can_be_switched_to_english(client, users):
    client.force_login(users["programme_office"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("compound-list"))
    assert response["Content-Language"] == "en"
    assert "Compounds" in response.content.decode()


def test_registry_template_needs_add_permission(client, users):
    client.force_login(users["leader"])
    assert client.get(reverse("registry-template")).status_code == 403


def test_grid_worker_starts_from_their_requests(client, users):
    client.force_login(users["grid_worker"])
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("request-list")


def _filter_form(response) -> str:
    page = response.content.decode()
    start = page.index('<form method="get" class="filters">')
    return page[start : page.index("</form>", start)]


def test_compound_filter_kept_in_the_cache_shows_changes_and_the_choice_at_once(
    client, users, registry
):
    """The filter form is kept in the cache under what it offers and what was asked: a new
    community and a renamed sub-district show on the next page, labelled as Django labels
    them (the community's __str__), and the chosen one is selected."""
    from tests.factories import CommunityFactory

    client.force_login(users["programme_office"])
    client.get(reverse("compound-list"))
    added = CommunityFactory(sub_district=registry["sub_a"], name="新设社区")
    registry["sub_b"].name = "改名街道"
    registry["sub_b"].save()
    form = _filter_form(client.get(reverse("compound-list")))
    assert f'<option value="{added.pk}">{added}</option>' in form
    assert f'<option value="{registry["sub_b"].pk}">改名街道</option>' in form
    chosen = _filter_form(client.get(reverse("compound-list"), {"community": added.pk}))
    assert f'<option value="{added.pk}" selected>{added}</option>' in chosen


def test_a_filter_form_with_a_model_choice_that_cannot_key_the_cache_is_refused(rf, users):
    import django_filters
    from django.http import QueryDict

    from renovation.filters import CompoundFilter, filter_form_key
    from renovation.models import Community

    class Unkeyed(CompoundFilter):
        community = django_filters.ModelChoiceFilter(queryset=Community.objects.all())

    request = rf.get("/")
    request.user = users["programme_office"]
    with pytest.raises(TypeError, match="community"):
        filter_form_key(Unkeyed(QueryDict(), request=request))
    assert filter_form_key(CompoundFilter(QueryDict(), request=request))


def test_the_menu_offers_each_person_only_the_pages_they_may_open(client, users):
    """The menu's links are kept in the cache under what decides them: one role after
    another, each sees exactly the pages it may open, and the admin only if it is staff."""
    import re

    offered = {}
    for role, user in users.items():
        if role == "no_role":
            continue
        client.force_login(user)
        page = client.get(reverse("compound-list")).content.decode()
        menu = page[page.index("<nav>") : page.index(f'action="{reverse("logout")}"')]
        links = re.findall(r'href="([^"]+)"', menu)
        assert (reverse("admin:index") in links) is user.is_staff, role
        for link in links:
            assert client.get(link).status_code == 200, (role, link)
        offered[role] = links
    assert len({tuple(links) for links in offered.values()}) > 2  # roles differ

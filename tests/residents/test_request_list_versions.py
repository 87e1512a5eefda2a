"""The versions of communities' request lists (RequestListVersion, written by the triggers of
migration residents 0006), and the request lists kept in the cache under them: every change,
however it is written, shows on the very next view, and a change in another community does
not cost a view its cache."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from renovation.access import scope_key
from renovation.models import Building, Community, Compound, ItemCategory
from residents.models import RequestListVersion, RequestStatus, ResidentRequest
from residents.selectors import KeptPageFirst, PageFirst, request_lists_version
from residents.services import request_create, request_transition
from tests.factories import CompoundFactory
from tests.threads import open_in_thread

ADMIN_URL = "/admin/residents/residentrequest/"

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="TRUNCATE and open transactions: PostgreSQL"
)


def versions() -> dict[int, int]:
    return dict(RequestListVersion.objects.values_list("community_id", "version"))


def touched_by(change) -> set[int]:
    """The communities whose version `change()` changed; each new version is larger than
    every version before the change."""
    before = versions()
    change()
    after = versions()
    changed = {
        community for community, version in after.items() if before.get(community) != version
    }
    assert before.keys() <= after.keys()  # versions are never taken away
    highest = max(before.values(), default=0)
    assert all(after[community] > highest for community in changed)
    return changed


@pytest.fixture
def each(registry, make_request):
    """A request in each community's compound: GY (a1), BQ (a2), JN (b1)."""
    return {code: make_request(registry["compounds"][code]) for code in ("GY", "BQ", "JN")}


def _raw_update(compound):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE residents_residentrequest SET room = '301' WHERE compound_id = %s",
            [compound.pk],
        )


WRITES = {
    # name: (what it does, the communities it touches)
    "a request logged": (lambda r, e, mk: mk(r["compounds"]["GY"]), {"a1"}),
    "a request logged in bulk": (
        lambda r, e, mk: ResidentRequest.objects.bulk_create([_copy(e["BQ"]), _copy(e["BQ"])]),
        {"a2"},
    ),
    "a status set by QuerySet.update": (
        lambda r, e, mk: ResidentRequest.objects.filter(pk=e["GY"].pk).update(
            status=RequestStatus.UNDER_REVIEW
        ),
        {"a1"},
    ),
    "a request moved to another community": (
        lambda r, e, mk: ResidentRequest.objects.filter(pk=e["GY"].pk).update(
            compound=r["compounds"]["JN"]
        ),
        {"a1", "b1"},
    ),
    "a request changed in raw SQL": (lambda r, e, mk: _raw_update(r["compounds"]["BQ"]), {"a2"}),
    "a request deleted": (
        lambda r, e, mk: ResidentRequest.objects.filter(pk=e["JN"].pk).delete(),
        {"b1"},
    ),
    "a compound renamed": (
        lambda r, e, mk: Compound.objects.filter(pk=r["compounds"]["GY"].pk).update(name="新名"),
        {"a1"},
    ),
    "a compound moved to another community": (
        lambda r, e, mk: Compound.objects.filter(pk=r["compounds"]["GY"].pk).update(
            community=r["b1"]
        ),
        {"a1", "b1"},
    ),
    "a compound added": (lambda r, e, mk: CompoundFactory(community=r["a2"]), {"a2"}),
    "a building renumbered": (
        lambda r, e, mk: Building.objects.filter(
            pk=Building.objects.filter(compound=r["compounds"]["JN"]).values("pk")[:1]
        ).update(number="9栋"),
        {"b1"},
    ),
    "a community moved to another sub-district": (
        lambda r, e, mk: Community.objects.filter(pk=r["a2"].pk).update(sub_district=r["sub_b"]),
        {"a2"},
    ),
    "an item category renamed": (
        lambda r, e, mk: ItemCategory.objects.filter(code="roof_waterproofing").update(name="屋面"),
        {"categories"},
    ),
}


def _copy(request: ResidentRequest) -> ResidentRequest:
    copy = ResidentRequest.objects.get(pk=request.pk)
    copy.pk = None
    return copy


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_write_touches_the_versions_of_its_communities_alone(
    registry, each, make_request, write
):
    change, communities = WRITES[write]
    expected = {
        RequestListVersion.CATEGORIES if name == "categories" else registry[name].pk
        for name in communities
    }
    assert touched_by(lambda: change(registry, each, make_request)) == expected


def test_a_set_of_communities_has_a_new_version_after_each_change_to_any_of_them(
    registry, each, make_request
):
    area_a = Community.objects.filter(sub_district=registry["sub_a"])
    seen = [request_lists_version(area_a)]
    make_request(registry["compounds"]["BQ"])
    seen.append(request_lists_version(area_a))
    make_request(registry["compounds"]["JN"])  # in sub-district B: area A keeps its version
    assert request_lists_version(area_a) == seen[-1]
    ItemCategory.objects.filter(code="roof_waterproofing").update(name="屋面")  # every list
    seen.append(request_lists_version(area_a))
    Compound.objects.filter(pk=registry["compounds"]["GY"].pk).update(name="新名")
    seen.append(request_lists_version(area_a))
    Community.objects.filter(pk=registry["a2"].pk).update(sub_district=registry["sub_b"])
    seen.append(request_lists_version(area_a))  # one community fewer
    assert len(set(seen)) == len(seen)
    assert request_lists_version(Community.objects.none()) != seen[-1]  # the categories only
    every = set(Community.objects.values_list("pk", flat=True))
    assert every | {RequestListVersion.CATEGORIES} <= set(versions())  # each from the start


@postgres_only
def test_truncating_the_requests_touches_every_community(registry, each):
    every = set(Community.objects.values_list("pk", flat=True)) | {RequestListVersion.CATEGORIES}

    def truncate():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's foreign keys checked
            cursor.execute("TRUNCATE residents_residentrequest CASCADE")

    assert touched_by(truncate) == every


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_write_holds_no_version_until_it_commits(registry, users):
    """The versions are touched when a transaction commits (deferred triggers): a request
    logged and left open does not hold its community's version, so another request in the
    same community commits meanwhile, and each commit gives the community a new version."""
    grid, compound = users["grid_worker"], registry["compounds"]["GY"]

    def log(description):
        return request_create(
            user=grid,
            kind="wish",
            channel="door_to_door",
            compound=compound,
            description=description,
            contact_name="李师傅",
            contact_phone="13912345678",
        )

    _open, commit = open_in_thread(lambda: log("楼道灯不亮。"))
    try:
        first = versions()[registry["a1"].pk]
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # a held version would fail this
        log("单元门坏了。")
        second = versions()[registry["a1"].pk]
        assert second > first
    finally:
        commit()
    assert versions()[registry["a1"].pk] > second


# --- The grid worker's list -------------------------------------------------------------------


def _cards(response) -> str:
    page = response.content.decode()
    return page[
        page.index('<ul class="cards">') : page.index("</ul>", page.index('<ul class="cards">'))
    ]


def test_a_grid_workers_list_is_kept_until_their_communitys_requests_change(
    client, users, registry, each, make_request, django_assert_num_queries
):
    grid = users["grid_worker"]
    client.force_login(grid)
    url = reverse("request-list")
    client.get(url)
    # Kept: session, user, the version, the compounds the filter offers.
    with django_assert_num_queries(4):
        kept = client.get(url)
    make_request(registry["compounds"]["JN"])  # another community's request
    with django_assert_num_queries(4):
        assert _cards(client.get(url)) == _cards(kept)

    request_transition(
        request=each["GY"], to_status=RequestStatus.UNDER_REVIEW, user=users["community_staff"]
    )
    with django_assert_num_queries(6):  # worked out again: the counts and the page's rows
        changed = client.get(url)
    assert '<span class="tag status-under_review">' in _cards(changed)
    assert changed.context["summary"]["by_status"] != kept.context["summary"]["by_status"]
    cache.clear()
    assert _cards(client.get(url)) == _cards(changed)  # what was kept is what is worked out


def test_a_grid_workers_next_pages_are_kept_each_under_their_own_number(
    client, users, registry, make_request, monkeypatch
):
    monkeypatch.setattr("residents.views.PER_PAGE", 2)
    requests = [make_request() for _ in range(5)]
    client.force_login(users["grid_worker"])
    url = reverse("request-list")
    for _ in range(2):  # worked out, then kept
        shown = [
            [r.pk for r in client.get(url, {"page": number}).context["page"]]
            for number in (1, 2, 3)
        ]
        assert shown == [[r.pk for r in reversed(requests)][n : n + 2] for n in (0, 2, 4)]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_request_committed_after_the_list_was_kept_shows_on_the_next_view(
    client, users, registry
):
    """A request logged in a transaction still open while the list is worked out and kept:
    the version read then is the one before it, and its commit changes the version."""
    grid = users["grid_worker"]
    client.force_login(grid)
    url = reverse("request-list")
    logged, commit = open_in_thread(
        lambda: request_create(
            user=grid,
            kind="wish",
            channel="door_to_door",
            compound=registry["compounds"]["GY"],
            description="楼道灯不亮。",
            contact_name="李师傅",
            contact_phone="13912345678",
        )
    )
    assert client.get(url).context["summary"]["total"] == 0  # worked out and kept
    commit()
    response = client.get(url)
    assert response.context["summary"]["total"] == 1
    assert [r.pk for r in response.context["page"]] == [logged.pk]


# --- The admin's list -------------------------------------------------------------------------


def _table(response) -> str:
    page = response.content.decode()
    return page[page.index('<table id="result_list">') : page.index("</table>")]


def test_the_admin_list_of_a_community_is_kept_until_its_requests_change(
    client, users, registry, each, make_request, django_assert_num_queries
):
    client.force_login(users["programme_office"])
    community = {"community": registry["a1"].pk}
    client.get(ADMIN_URL, community)
    with django_assert_num_queries(4):  # session, user; the two versions
        kept = client.get(ADMIN_URL, community)
    make_request(registry["compounds"]["JN"])  # in another community
    with django_assert_num_queries(4):
        assert _table(client.get(ADMIN_URL, community)) == _table(kept)

    ItemCategory.objects.filter(code="roof_waterproofing").update(name="屋面防水（改）")
    ResidentRequest.objects.filter(pk=each["GY"].pk).update(
        category=ItemCategory.objects.get(code="roof_waterproofing"), contact_name="赵师傅"
    )
    changed = client.get(ADMIN_URL, community)
    assert "屋面防水（改）" in _table(changed) and "赵师傅" in _table(changed)
    cache.clear()
    assert _table(client.get(ADMIN_URL, community)) == _table(changed)


def test_the_admin_list_on_several_pages_keeps_each_page(
    client, users, registry, make_request, monkeypatch
):
    from residents.admin import ResidentRequestAdmin

    monkeypatch.setattr(ResidentRequestAdmin, "list_per_page", 2)
    requests = [make_request() for _ in range(5)]
    client.force_login(users["programme_office"])
    newest_first = [r.pk for r in reversed(requests)]
    for _ in range(2):  # worked out, then kept
        for number, expected in ((1, newest_first[:2]), (3, newest_first[4:])):
            changelist = client.get(ADMIN_URL, {"p": number}).context["cl"]
            assert len(changelist.result_list) == len(expected)
            assert [r.pk for r in changelist.result_list] == expected


def test_a_kept_page_knows_its_length_without_reading_its_rows(registry, make_request):
    for _ in range(5):
        make_request()
    requests = ResidentRequest.objects.all()
    kept = KeptPageFirst(requests, Community.objects.all())
    last = kept[4:6]
    assert len(last) == 1 and "_rows" not in last.__dict__
    assert list(last) == PageFirst(requests)[4:6]
    assert last.key is not None


def test_the_admin_area_choices_are_kept_for_each_area_apart(client, users, registry):
    """The office's choices, kept first, are never shown to a sub-district's staff; and a
    community renamed shows at once."""
    client.force_login(users["programme_office"])
    office = client.get(ADMIN_URL).context["cl"]
    assert len(office.filter_specs) and scope_key(users["programme_office"]) == ("everything",)
    client.force_login(users["sub_district_staff"])
    offered = {
        spec.parameter_name: dict(spec.lookup_choices)
        for spec in client.get(ADMIN_URL).context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) in ("community", "sub_district")
    }
    assert set(offered["community"]) == {str(registry["a1"].pk), str(registry["a2"].pk)}
    a2 = Community.objects.get(pk=registry["a2"].pk)
    a2.name = "北雀新社区"
    a2.save()
    choices = dict(
        next(
            spec
            for spec in client.get(ADMIN_URL).context["cl"].filter_specs
            if getattr(spec, "parameter_name", None) == "community"
        ).lookup_choices
    )
    assert choices[str(a2.pk)].endswith("北雀新社区")


@pytest.mark.parametrize(
    "first, second, same",
    [
        ("programme_office", "leader", True),  # both see everything
        ("community_staff", "grid_worker", False),  # one community, two roles
        ("sub_district_staff", "community_staff", False),
        ("no_role", "programme_office", False),
    ],
)
def test_the_scope_key_tells_areas_apart(users, first, second, same):
    assert (scope_key(users[first]) == scope_key(users[second])) is same

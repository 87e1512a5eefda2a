"""What the city-scale tuning changed (docs/performance.md): request lists that page before
they join, a community choice that narrows by sub-district in a large area, and
the admin request list without date_hierarchy. Same rows, same rules, fixed queries."""

import pytest
from django import forms
from django.core.cache import cache
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe

from renovation import filters
from renovation.access import scope_queryset
from renovation.models import Building, Compound, ItemCategory
from renovation.selectors import building_list
from renovation.widgets import QuickNullBooleanSelect, QuickSelect, QuickSelectMultiple
from residents.forms import RequestForm
from residents.models import RequestKind, RequestStatus, ResidentRequest
from residents.selectors import (
    request_list,
    request_parts,
    request_rows,
    request_scope,
    request_summary,
)
from residents.templatetags.residents import display
from tests.factories import CompoundFactory
from tests.residents.test_pages import form_data


@pytest.fixture
def logged(registry, make_request):
    """Requests in each community, newest last."""
    return [make_request(registry["compounds"][code]) for code in ("GY", "BQ", "JN", "GY", "JN")]


@pytest.mark.parametrize("role", ["programme_office", "community_staff", "grid_worker"])
def test_request_rows_page_the_same_rows_in_the_same_order(
    users, logged, role, django_assert_num_queries
):
    user = users[role]
    ordered = list(request_list(user=user).values_list("pk", flat=True))
    rows = request_rows(request_list(user=user))
    assert [r.pk for r in rows[0:100]] == ordered
    expected = [
        (r.pk, r.compound.name, r.building, r.category)
        for r in ResidentRequest.objects.filter(pk__in=ordered[1:3]).order_by("-logged_at", "-pk")
    ]
    with django_assert_num_queries(1):  # sorted and cut, then joined, in one query
        page = rows[1:3]
        assert [(r.pk, r.compound.name, r.building, r.category) for r in page] == expected


@pytest.fixture
def worker_requests(registry, users, make_request, django_user_model):
    """In the grid worker's community: requests they logged, some given to them as well,
    some given to a colleague; requests logged by others, given to the worker or to
    nobody; one logged by nobody (its author's account gone) and given to the worker."""
    worker, colleague = users["grid_worker"], users["community_staff"]
    gy = registry["compounds"]["GY"]
    mine = [make_request(gy) for _ in range(4)]
    theirs = [make_request(gy, user=colleague) for _ in range(5)]
    for request, to in [(mine[0], worker), (mine[1], colleague), (theirs[0], worker)]:
        ResidentRequest.objects.filter(pk=request.pk).update(assigned_to=to)
    ResidentRequest.objects.filter(pk__in=[theirs[1].pk, theirs[2].pk]).update(assigned_to=worker)
    ResidentRequest.objects.filter(pk=theirs[2].pk).update(logged_by=None)
    ResidentRequest.objects.filter(pk=theirs[3].pk).update(due_on="2021-01-01")
    ResidentRequest.objects.filter(pk=mine[2].pk).update(due_on="2021-01-01")
    return worker


def test_a_grid_workers_parts_are_exactly_their_requests(worker_requests):
    worker = worker_requests
    seen = request_list(user=worker)
    parts = request_parts(user=worker, requests=request_scope(user=worker))
    ids = [list(part.values_list("pk", flat=True)) for part in parts]
    assert len(parts) == 2 and not set(ids[0]) & set(ids[1])  # disjoint: nothing twice
    assert sorted(ids[0] + ids[1]) == sorted(seen.values_list("pk", flat=True))
    assert len(ids[0]) == 4 and len(ids[1]) == 3  # given, logged by someone else or nobody


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_a_grid_workers_pages_merge_their_parts_in_order(
    worker_requests, size, django_assert_num_queries
):
    worker = worker_requests
    ordered = list(request_list(user=worker).values_list("pk", flat=True))
    rows = request_rows(request_parts(user=worker, requests=request_scope(user=worker)))
    pages = []
    for start in range(0, len(ordered), size):
        with django_assert_num_queries(1):  # the parts cut and merged, then joined
            pages.append([r.pk for r in rows[start : start + size]])
    assert [pk for page in pages for pk in page] == ordered
    assert all(len(page) == size for page in pages[:-1])


def test_a_grid_workers_summary_adds_up_their_parts(worker_requests, django_assert_num_queries):
    worker = worker_requests
    seen = request_list(user=worker)
    parts = request_parts(user=worker, requests=request_scope(user=worker))
    with django_assert_num_queries(1):
        summary = request_summary(parts)
    assert summary == request_summary(seen)
    assert summary["total"] == seen.count() == 7
    assert summary["overdue"] == seen.overdue().count() == 1


def test_a_grid_workers_filtered_list_on_the_page(client, worker_requests):
    worker = worker_requests
    client.force_login(worker)
    for query in ["", "?status=new", "?overdue=true", "?overdue=false"]:
        response = client.get(reverse("request-list") + query)
        expected = request_list(user=worker)
        if "status" in query:
            expected = expected.filter(status="new")
        elif "true" in query:
            expected = expected.overdue()
        elif "false" in query:
            expected = expected.exclude(pk__in=expected.overdue())
        shown = [r.pk for r in response.context["page"].object_list]
        assert shown == list(expected.values_list("pk", flat=True))
        assert response.context["summary"]["total"] == expected.count()


def test_office_request_list_runs_a_fixed_number_of_queries(
    client, users, registry, make_request, logged, django_assert_max_num_queries
):
    client.force_login(users["programme_office"])
    client.get(reverse("request-list"))
    cache.clear()  # the page worked out, not kept in the cache
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("request-list"))
    for _ in range(12):
        make_request(CompoundFactory(community=registry["b1"]))
    cache.clear()
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


# --- the grid worker's pages: options, labels, cards and the summary -----------------------


CHOICES = [("", "---"), ("2", "two & <b>"), ("g<", [("x<", "ex"), (3, mark_safe("<i>3</i>"))])]


@pytest.mark.parametrize(
    ("quick", "django_widget", "values"),
    [
        (QuickSelect, forms.Select, [None, "", "2", "x<", 3]),
        (QuickSelectMultiple, forms.SelectMultiple, [None, ["2", "x<"], ["3"]]),
        (QuickNullBooleanSelect, forms.NullBooleanSelect, [None, True, False, "true"]),
    ],
)
def test_quick_selects_write_the_html_of_the_sites_select_template(quick, django_widget, values):
    attrs = {"id": "id_x", "required": True, "data-a": '<">', "disabled": False}
    for value in values:
        ours, theirs = quick(attrs={"class": "c"}), django_widget(attrs={"class": "c"})
        if quick is not QuickNullBooleanSelect:
            ours.choices = theirs.choices = CHOICES
        for extra in (None, attrs):
            assert ours.render("nm<", value, extra) == theirs.render("nm<", value, extra)


def test_request_form_pickers_label_and_select_from_rows(registry, users, gy):
    grid = users["grid_worker"]
    building = gy.buildings.order_by("number").first()
    compounds = scope_queryset(grid, Compound.objects.order_by("code"))
    buildings = building_list(user=grid).order_by("compound__code", "number")
    data = {"compound": gy.pk, "building": building.pk, "category": ""}
    form = RequestForm(data, compounds=compounds, buildings=buildings)
    html = str(form["building"])
    assert (
        f'<option value="{building.pk}" selected data-compound="{gy.pk}">'
        f"{gy.name} · {building.number}</option>"
    ) in html
    assert html.count("<option") == 1 + buildings.count()
    assert f'<option value="{gy.pk}" selected>{gy.name}</option>' in str(form["compound"])
    assert not form.is_valid()  # no kind nor description; the pickers still clean to rows
    assert form.cleaned_data["building"] == building
    assert form.cleaned_data["compound"] == gy


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_display_filter_gives_what_get_display_gives(make_request, language):
    request = make_request()
    template = Template('{% load residents %}{{ r|display:"kind" }}|{{ r|display:"status" }}')
    with translation.override(language):
        shown = template.render(Context({"r": request}))
        assert shown == f"{request.get_kind_display()}|{request.get_status_display()}"
        request.status = "not-a-status"
        assert display(request, "status") == "not-a-status"


def test_request_summary_counts_in_one_query(
    registry, users, make_request, django_assert_num_queries
):
    staff = users["community_staff"]
    late = make_request()
    ResidentRequest.objects.filter(pk=late.pk).update(due_on="2021-01-01")
    make_request()
    done = make_request(kind=RequestKind.ERRAND)
    ResidentRequest.objects.filter(pk=done.pk).update(due_on="2021-01-01", status="resolved")
    requests = request_list(user=staff)
    with django_assert_num_queries(1):
        summary = request_summary(requests)
    assert summary["total"] == requests.count() == 3
    assert summary["overdue"] == requests.overdue().count() == 1
    assert dict(summary["by_status"]) == {
        status: requests.filter(status=status).count() for status in RequestStatus
    }


def test_request_card_shows_the_request_escaped(client, users, make_request):
    request = make_request(description="<script>alert(1)</script>" + "长" * 100)
    ResidentRequest.objects.filter(pk=request.pk).update(due_on="2021-01-01", is_verified=False)
    with translation.override("zh-hans"):  # what the card's template wrote
        cut = Template("{{ d|truncatechars:80 }}").render(Context({"d": request.description}))
    for role, tick in [("community_staff", True), ("grid_worker", False)]:
        client.force_login(users[role])
        page = client.get(reverse("request-list")).content.decode()
        assert '<li class="card request overdue">' in page
        assert f"<p>{cut}</p>" in page and cut.startswith("&lt;script&gt;alert(1)")
        assert "<script>alert" not in page
        assert "已逾期" in page and "线上提交，未核实" in page
        assert f'href="{reverse("request-detail", args=[request.pk])}"' in page
        assert "王阿姨 13812345678 · 时限 2021-01-01</p>" in page
        assert (f'name="requests" value="{request.pk}"' in page) is tick


def test_request_cards_kept_in_the_cache_show_every_change_at_once(client, users, make_request):
    """The cards are kept in the cache under what they show: a changed request or a renamed
    compound shows on the next page, and viewers who may see different things (the phone in
    full, the tick box) never get each other's cards."""
    request = make_request()  # logged by the grid worker, who sees the phone in full
    tick = f'name="requests" value="{request.pk}"'
    client.force_login(users["grid_worker"])
    client.get(reverse("request-list"))
    ResidentRequest.objects.filter(pk=request.pk).update(status=RequestStatus.UNDER_REVIEW)
    Compound.objects.filter(pk=request.compound_id).update(name="改了名的小区")
    page = client.get(reverse("request-list")).content.decode()
    assert '<span class="tag status-under_review">' in page and "改了名的小区" in page
    assert "13812345678" in page and tick not in page
    client.force_login(users["sub_district_staff"])  # no tick box either, the phone masked
    page = client.get(reverse("request-list")).content.decode()
    assert "改了名的小区" in page and "138****5678" in page and "13812345678" not in page
    assert tick not in page
    client.force_login(users["community_staff"])  # the phone in full, and a tick box
    page = client.get(reverse("request-list")).content.decode()
    assert "13812345678" in page and tick in page


def test_request_list_filter_form_shows_a_new_compound_at_once(client, users, registry):
    client.force_login(users["grid_worker"])
    assert "新建小区" not in client.get(reverse("request-list")).content.decode()
    CompoundFactory(community=registry["a1"], name="新建小区")
    page = client.get(reverse("request-list"), {"kind": "wish"}).content.decode()
    assert "新建小区" in page
    assert '<option value="wish" selected>' in page  # the form shows what was asked


def test_grid_workers_pages_run_the_same_few_queries(
    client, users, registry, make_request, django_assert_num_queries
):
    client.force_login(users["grid_worker"])
    for _ in range(3):
        make_request()
    # Session, user and profile; the list's version (request_lists_version), the compounds
    # the filter offers; and when the page is not kept: the counts, the page's rows.
    for name, queries in [("request-list", 4), ("request-create", 5)]:
        client.get(reverse(name))  # warm the session
        with django_assert_num_queries(queries):
            client.get(reverse(name))
    make_request()
    with django_assert_num_queries(6):
        client.get(reverse("request-list"))


def _form_html(page) -> str:
    """The logging form's fields, without the CSRF token (different on every page)."""
    html = page.content.decode()
    return html[html.index('class="card phone-form"') :]


def test_logging_form_kept_in_the_cache_shows_what_changed_at_once(client, grid, gy):
    """The empty form's HTML is kept under its options: a renamed building or category and
    the compound chosen last show on the very next page, and what is served from the cache
    is what would be rendered."""
    client.force_login(grid)
    first = client.get(reverse("request-create"))
    again = client.get(reverse("request-create"))
    assert _form_html(again).count("<option") == _form_html(first).count("<option") > 3
    building = Building.objects.filter(compound=gy).first()
    building.number = "99栋"
    building.save()
    category = ItemCategory.objects.filter(is_active=True).first()
    category.name = "新设的改造项目"
    category.save()
    page = _form_html(client.get(reverse("request-create")))
    assert f"{gy.name} · 99栋" in page and "新设的改造项目" in page
    client.post(reverse("request-create"), form_data(gy))
    assert f'<option value="{gy.pk}" selected>' in _form_html(client.get(reverse("request-create")))


def test_logging_form_with_errors_is_never_the_cached_one(client, grid, gy):
    client.force_login(grid)
    client.get(reverse("request-create"))  # the empty form, now in the cache
    page = client.post(reverse("request-create"), form_data(gy, description="")).content.decode()
    assert "has-error" in page and "李大爷" in page  # what was typed is kept
    assert "has-error" not in client.get(reverse("request-create")).content.decode()


def test_logging_form_kept_in_the_cache_follows_the_language(client, grid):
    client.force_login(grid)
    chinese = _form_html(client.get(reverse("request-create")))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = _form_html(client.get(reverse("request-create")))
    assert "居民诉求" in chinese and "what the resident asks for" not in chinese
    assert "what the resident asks for" in english and "居民诉求" not in english

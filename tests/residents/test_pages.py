import re
from pathlib import Path

import pytest
from django.urls import reverse

from residents.models import RequestKind, RequestStatus, ResidentRequest, Survey
from residents.services import request_transition
from tests.factories import BuildingFactory, CompoundFactory, willingness_survey

S = RequestStatus
ROOT = Path(__file__).resolve().parents[2]


def form_data(compound, **changes):
    return {
        "kind": "wish",
        "compound": compound.pk,
        "building": "",
        "unit_number": "",
        "room": "",
        "category": "",
        "description": "楼道灯坏了，晚上看不见。",
        "contact_name": "李大爷",
        "contact_phone": "13912345678",
        "channel": "door_to_door",
        **changes,
    }


# --- logging page -----------------------------------------------------------------------


def test_grid_worker_logs_a_request_and_the_compound_is_remembered(client, grid, gy):
    client.force_login(grid)
    response = client.post(reverse("request-create"), form_data(gy))
    logged = ResidentRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "request-detail", args=[logged.pk]
    )
    assert (logged.logged_by, logged.channel, logged.status) == (grid, "door_to_door", S.NEW)
    page = client.get(reverse("request-create"))
    assert page.context["form"].initial["compound"] == gy.pk


def test_logging_pickers_hold_only_the_workers_community(client, grid, registry):
    client.force_login(grid)
    form = client.get(reverse("request-create")).context["form"]
    assert {c.community_id for c in form.fields["compound"].queryset} == {registry["a1"].pk}
    assert {b.compound.community_id for b in form.fields["building"].queryset} == {
        registry["a1"].pk
    }


def test_logging_for_another_community_is_refused(client, grid, registry):
    client.force_login(grid)
    response = client.post(reverse("request-create"), form_data(registry["compounds"]["JN"]))
    assert response.status_code == 200
    assert not ResidentRequest.objects.exists()


@pytest.mark.parametrize(
    ("changes", "chinese"),
    [
        ({"contact_phone": "12345"}, "请输入大陆手机号"),
        ({"description": ""}, "此项为必填项"),
        ({"description": "长" * 1001}, "1000"),
        ({"unit_number": "3"}, "请先选择单元所在楼栋"),
    ],
)
def test_logging_errors_are_chinese_and_keep_what_was_typed(client, grid, gy, changes, chinese):
    client.force_login(grid)
    response = client.post(reverse("request-create"), form_data(gy, **changes))
    page = response.content.decode()
    assert response.status_code == 200 and chinese in page
    assert "李大爷" in page  # what was typed is still there
    assert not ResidentRequest.objects.exists()


def test_logging_page_runs_a_fixed_number_of_queries(
    client, grid, registry, django_assert_max_num_queries
):
    client.force_login(grid)
    client.get(reverse("request-create"))  # warm the session and the profile
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("request-create"))
    for _ in range(15):
        compound = CompoundFactory(community=registry["a1"])
        BuildingFactory.create_batch(3, compound=compound)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("request-create"))
    assert len(response.context["form"].fields["building"].queryset) == 2 + 45


@pytest.mark.parametrize("role", ["leader", "sub_district_staff", "finance", "no_role"])
def test_only_grid_workers_and_community_staff_log_requests(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("request-create")).status_code == 403


def test_logging_needs_a_login(client):
    response = client.get(reverse("request-create"))
    assert response.status_code == 302 and "login" in response.url


# --- my requests and the queue ----------------------------------------------------------


def test_grid_worker_sees_only_what_they_logged_or_were_given(
    client, grid, staff, make_request, make_user, registry
):
    colleague = make_user("grid_worker", community=registry["a1"], username="grid2")
    mine = make_request()
    theirs = make_request(user=colleague)
    given = make_request(user=colleague)
    from residents.services import request_assign

    request_assign(request=given, assignee=grid, user=staff)
    client.force_login(grid)
    response = client.get(reverse("request-list"))
    assert {r.pk for r in response.context["page"]} == {mine.pk, given.pk}
    assert "我登记的诉求" in response.content.decode()
    assert client.get(reverse("request-detail", args=[theirs.pk])).status_code == 404


def test_community_staff_work_the_whole_community_queue(client, staff, make_request, registry):
    here = [make_request(), make_request()]
    make_request(registry["compounds"]["JN"])
    client.force_login(staff)
    response = client.get(reverse("request-list"))
    assert {r.pk for r in response.context["page"]} == {r.pk for r in here}
    assert response.context["can_change"]


def test_sub_district_and_district_roles_see_their_area(client, users, make_request, registry):
    (
        make_request(),
        make_request(registry["compounds"]["BQ"]),
        make_request(registry["compounds"]["JN"]),
    )
    for role, expected in [("sub_district_staff", 2), ("leader", 3), ("programme_office", 3)]:
        client.force_login(users[role])
        response = client.get(reverse("request-list"))
        assert response.context["page"].paginator.count == expected, role
        assert not response.context["can_change"]


def test_status_filter_and_overdue_flag(client, staff, make_request):
    late = make_request()
    ResidentRequest.objects.filter(pk=late.pk).update(due_on="2021-01-01")
    request_transition(request=make_request(), to_status=S.UNDER_REVIEW, user=staff)
    client.force_login(staff)
    response = client.get(reverse("request-list"), {"status": "under_review"})
    assert response.context["page"].paginator.count == 1
    response = client.get(reverse("request-list"), {"overdue": "true"})
    assert [r.pk for r in response.context["page"]] == [late.pk]
    assert "已逾期" in response.content.decode()


def test_request_list_runs_a_fixed_number_of_queries(
    client, staff, make_request, django_assert_max_num_queries
):
    make_request()
    client.force_login(staff)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("request-list"))
    for _ in range(20):
        make_request()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("request-list"))


# --- a request's page -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "sub_district_staff"])
def test_request_of_another_community_is_404_by_id(client, users, make_request, registry, role):
    other = make_request(registry["compounds"]["JN"])
    client.force_login(users[role])
    for name in ["request-detail"]:
        assert client.get(reverse(name, args=[other.pk])).status_code == 404


@pytest.mark.parametrize("name", ["request-transition", "request-assign", "request-answer"])
def test_grid_worker_cannot_change_a_request(client, grid, make_request, registry, name):
    own = make_request()
    other = make_request(registry["compounds"]["JN"])
    client.force_login(grid)
    for target in (own, other):
        response = client.post(reverse(name, args=[target.pk]), {"to_status": "under_review"})
        assert response.status_code == 403
    own.refresh_from_db()
    assert own.status == S.NEW


def test_community_staff_cannot_change_another_communitys_request(
    client, staff, make_request, registry
):
    other = make_request(registry["compounds"]["JN"])
    client.force_login(staff)
    response = client.post(
        reverse("request-transition", args=[other.pk]), {"to_status": "under_review"}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == S.NEW


def test_request_page_shows_the_history(client, grid, staff, make_request):
    request = make_request()
    request_transition(request=request, to_status=S.UNDER_REVIEW, user=staff)
    client.force_login(grid)
    response = client.get(reverse("request-detail", args=[request.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "新登记 → 研判中" in page
    assert "transition_form" not in response.context


def test_staff_change_status_from_the_page_with_chinese_errors(client, staff, make_request):
    request = make_request()
    client.force_login(staff)
    url = reverse("request-transition", args=[request.pk])
    response = client.post(url, {"to_status": "resolved"})
    assert response.status_code == 200 and "只能转为" in response.content.decode()
    assert client.post(url, {"to_status": "under_review"}).status_code == 302
    response = client.post(url, {"to_status": "declined", "note": ""})
    assert "不予采纳须写明" in response.content.decode()
    request.refresh_from_db()
    assert request.status == S.UNDER_REVIEW


def test_staff_bulk_change_from_the_queue(client, staff, make_request, registry):
    mine = [make_request(), make_request()]
    other = make_request(registry["compounds"]["JN"])
    client.force_login(staff)
    response = client.post(
        reverse("request-bulk"),
        {"requests": [r.pk for r in mine], "to_status": "under_review", "note": ""},
    )
    assert response.status_code == 302
    assert set(
        ResidentRequest.objects.filter(pk__in=[r.pk for r in mine]).values_list("status", flat=True)
    ) == {S.UNDER_REVIEW}
    # A request outside the area is not a valid choice: nothing changes.
    client.post(reverse("request-bulk"), {"requests": [other.pk], "to_status": "under_review"})
    other.refresh_from_db()
    assert other.status == S.NEW


def test_staff_assign_and_answer_from_the_page(client, staff, grid, make_request):
    request = make_request()
    client.force_login(staff)
    client.post(reverse("request-assign", args=[request.pk]), {"assignee": grid.pk})
    client.post(reverse("request-answer", args=[request.pk]), {"answer": "下周派人查看"})
    request.refresh_from_db()
    assert (request.assigned_to, request.answer) == (grid, "下周派人查看")


def test_errand_booked_from_its_page(client, grid, staff, make_request, registry):
    from tests.residents.test_errands import slot_for

    errand = make_request(kind=RequestKind.ERRAND, description="代办居住证明")
    slot = slot_for(registry["a1"])
    client.force_login(grid)
    page = client.get(reverse("request-detail", args=[errand.pk]))
    assert slot in page.context["booking_form"].fields["slot"].queryset
    assert (
        client.post(reverse("errand-book", args=[errand.pk]), {"slot": slot.pk}).status_code == 302
    )
    booking = errand.bookings.get()
    assert client.post(reverse("errand-done", args=[booking.pk])).status_code == 403
    client.force_login(staff)
    client.post(reverse("errand-done", args=[booking.pk]))
    errand.refresh_from_db()
    assert errand.status == S.RESOLVED


# --- surveys and demand lists -----------------------------------------------------------


def test_grid_worker_records_survey_answers_door_to_door(client, grid, staff, gy):
    survey = Survey.objects.create(compound=gy, kind="willingness", started_on="2021-08-01")
    building = gy.buildings.first()
    client.force_login(grid)
    url = reverse("survey-answer", args=[survey.pk])
    data = {"building": building.pk, "unit_number": 1, "room": "301", "answer": "yes"}
    assert client.post(url, data).status_code == 302
    response = client.post(url, {**data, "unit_number": 9})
    assert "只有1至2单元" in response.content.decode()
    page = client.get(reverse("survey-detail", args=[survey.pk]))
    assert page.context["consent"].agree == 1
    assert client.post(reverse("survey-close", args=[survey.pk])).status_code == 403
    client.force_login(staff)
    client.post(reverse("survey-close", args=[survey.pk]))
    survey.refresh_from_db()
    assert survey.status == "closed"


def test_survey_of_another_community_is_404(client, grid, registry):
    survey = willingness_survey(registry["compounds"]["JN"], agree=10)
    client.force_login(grid)
    assert client.get(reverse("survey-detail", args=[survey.pk])).status_code == 404


def test_demand_list_pages_walk_the_list_to_project_items(client, staff, office, make_request, gy):
    from tests.factories import ProjectFactory

    wish = make_request(
        category=__import__("renovation.models").models.ItemCategory.objects.get(code="roads")
    )
    request_transition(request=wish, to_status=S.UNDER_REVIEW, user=staff)
    request_transition(request=wish, to_status=S.ACCEPTED, user=staff)
    client.force_login(staff)
    response = client.post(reverse("demand-list-list"), {"compound": gy.pk, "send_by": ""})
    demand_list = gy.demand_lists.get()
    assert response.url == reverse("demand-list-detail", args=[demand_list.pk])
    response = client.post(reverse("demand-list-send", args=[demand_list.pk]), follow=True)
    assert "需求清单须经会议审议后才能上报" in response.content.decode()
    client.post(
        reverse("demand-list-review", args=[demand_list.pk]),
        {"meeting": "council", "on": "2022-01-05", "note": "同意"},
    )
    client.post(reverse("demand-list-send", args=[demand_list.pk]))
    assert client.post(reverse("demand-list-receive", args=[demand_list.pk])).status_code == 403
    client.force_login(office)
    client.post(reverse("demand-list-receive", args=[demand_list.pk]))
    project = ProjectFactory(compound=gy)
    line = demand_list.items.get()
    response = client.post(
        reverse("demand-list-items", args=[demand_list.pk]),
        {"project": project.pk, f"quantity_{line.pk}": "1200"},
    )
    assert response.status_code == 302
    wish.refresh_from_db()
    assert wish.status == S.PLANNED and wish.project_item.project == project


# --- phone first ------------------------------------------------------------------------


def test_grid_worker_pages_fit_a_375px_screen(client, grid, make_request):
    request = make_request()
    client.force_login(grid)
    for url in [
        reverse("request-list"),
        reverse("request-create"),
        reverse("request-detail", args=[request.pk]),
    ]:
        page = client.get(url).content.decode()
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in page, url
    css = (ROOT / "static" / "css" / "site.css").read_text()
    # No fixed width or min-width wider than the screen (max-width only caps, so it is fine).
    for prop, number, unit in re.findall(
        r"(?<![-\w])(width|min-width)\s*:\s*([\d.]+)(px|rem|em)", css
    ):
        pixels = float(number) * (16 if unit in ("rem", "em") else 1)
        assert pixels <= 375, f"{prop}: {number}{unit}"
    inline = re.findall(r'style="[^"]*width:\s*(\d+)px', page)
    assert all(int(w) <= 375 for w in inline)

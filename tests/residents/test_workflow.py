import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from residents.models import (
    TRANSITIONS,
    RequestKind,
    RequestLog,
    RequestStatus,
    ResidentRequest,
)
from residents.services import (
    due_date_for,
    objection_settle,
    request_answer,
    request_assign,
    request_create,
    request_transition,
    requests_bulk_transition,
)
from tests.factories import CompoundFactory, ProjectFactory

pytestmark = pytest.mark.usefixtures("english")
S = RequestStatus

# How to bring a new request to each status along legal moves.
ROUTE = {
    S.NEW: [],
    S.UNDER_REVIEW: [S.UNDER_REVIEW],
    S.ACCEPTED: [S.UNDER_REVIEW, S.ACCEPTED],
    S.DECLINED: [S.UNDER_REVIEW, S.DECLINED],
    S.DEFERRED: [S.UNDER_REVIEW, S.DEFERRED],
    S.PLANNED: [S.UNDER_REVIEW, S.ACCEPTED, S.PLANNED],
    S.RESOLVED: [S.UNDER_REVIEW, S.ACCEPTED, S.RESOLVED],
}
LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
ILLEGAL = [(a, b) for a in S for b in S if b not in TRANSITIONS[a] and a != b]


@pytest.fixture
def item(gy):
    from renovation.models import ItemCategory, ProjectItem

    project = ProjectFactory(compound=gy)
    category = ItemCategory.objects.get(code="roof_waterproofing")
    return ProjectItem.objects.create(
        project=project, category=category, quantity=100, unit=category.default_unit
    )


def args_for(target, item):
    if target == S.PLANNED:
        return {"project_item": item}
    if target in (S.DECLINED, S.DEFERRED):
        return {"note": "不属于本次改造范围"}
    return {}


def bring_to(request, status, user, item):
    for step in ROUTE[status]:
        request_transition(request=request, to_status=step, user=user, **args_for(step, item))
    request.refresh_from_db()
    assert request.status == status
    return request


@pytest.mark.parametrize(("start", "target"), LEGAL)
def test_every_legal_move_is_made_and_logged(make_request, staff, item, start, target):
    request = bring_to(make_request(), start, staff, item)
    log = request_transition(
        request=request, to_status=target, user=staff, **args_for(target, item)
    )
    request.refresh_from_db()
    assert request.status == target
    assert (log.from_status, log.to_status, log.by) == (start, target, staff)
    assert request.log.count() == len(ROUTE[start]) + 2  # the creation entry too


@pytest.mark.parametrize(("start", "target"), ILLEGAL)
def test_every_illegal_move_is_refused_with_a_clear_error(make_request, staff, item, start, target):
    request = bring_to(make_request(), start, staff, item)
    entries = request.log.count()
    with pytest.raises(ValidationError) as error:
        request_transition(request=request, to_status=target, user=staff, **args_for(target, item))
    message = " ".join(error.value.messages)
    if TRANSITIONS[start]:
        assert "can only become" in message and f"not “{target.label}”" in message
    else:
        assert "is closed and cannot change" in message
    request.refresh_from_db()
    assert request.status == start
    assert request.log.count() == entries


def test_moving_to_the_same_status_says_so(make_request, staff):
    request = make_request()
    with pytest.raises(ValidationError, match="already “new”"):
        request_transition(request=request, to_status=S.NEW, user=staff)


def test_illegal_move_shows_in_chinese(make_request, staff):
    from django.utils import translation

    request = make_request()
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        request_transition(request=request, to_status=S.RESOLVED, user=staff)
    assert "只能转为“研判中”" in error.value.messages[0]


def test_declining_needs_a_reason_which_becomes_the_answer(make_request, staff):
    request = bring_to(make_request(), S.UNDER_REVIEW, staff, None)
    with pytest.raises(ValidationError, match="reason"):
        request_transition(request=request, to_status=S.DECLINED, user=staff, note="  ")
    request.refresh_from_db()
    assert request.status == S.UNDER_REVIEW
    request_transition(request=request, to_status=S.DECLINED, user=staff, note="已转物业处理")
    request.refresh_from_db()
    assert request.answer == "已转物业处理"


def test_deferring_needs_a_reason(make_request, staff):
    request = bring_to(make_request(), S.UNDER_REVIEW, staff, None)
    with pytest.raises(ValidationError, match="reason"):
        request_transition(request=request, to_status=S.DEFERRED, user=staff)


def test_planning_needs_an_item_of_a_project_of_the_same_compound(
    make_request, staff, item, registry
):
    request = bring_to(make_request(), S.ACCEPTED, staff, item)
    with pytest.raises(ValidationError, match="project item it goes into"):
        request_transition(request=request, to_status=S.PLANNED, user=staff)
    other = ProjectFactory(compound=registry["compounds"]["BQ"])
    other_item = other.items.create(category=item.category, quantity=1, unit="m2")
    with pytest.raises(ValidationError, match="another compound"):
        request_transition(
            request=request, to_status=S.PLANNED, user=staff, project_item=other_item
        )
    request_transition(request=request, to_status=S.PLANNED, user=staff, project_item=item)
    request.refresh_from_db()
    assert (request.project_item, request.project) == (item, item.project)


def test_leaving_new_verifies_an_online_wish(gy, staff):
    request = request_create(
        user=None,
        kind=RequestKind.WISH,
        channel="online",
        compound=gy,
        description="希望加装充电桩",
        contact_phone="13912345678",
    )
    assert not request.is_verified and request.logged_by is None
    request_transition(request=request, to_status=S.UNDER_REVIEW, user=staff)
    request.refresh_from_db()
    assert request.is_verified


def test_bulk_change_moves_all_or_none(make_request, staff):
    first, second = make_request(), make_request()
    count = requests_bulk_transition(requests=[first, second], to_status=S.UNDER_REVIEW, user=staff)
    assert count == 2
    third = make_request()
    with pytest.raises(ValidationError) as error:
        requests_bulk_transition(requests=[first, second, third], to_status=S.ACCEPTED, user=staff)
    assert f"#{third.pk}" in str(error.value)
    assert set(ResidentRequest.objects.values_list("status", flat=True)) == {
        S.UNDER_REVIEW,
        S.NEW,
    }


def test_bulk_change_needs_requests(staff):
    with pytest.raises(ValidationError, match="at least one"):
        requests_bulk_transition(requests=[], to_status=S.UNDER_REVIEW, user=staff)


def test_assigning_only_within_the_community(make_request, staff, users, make_user, registry):
    request = make_request()
    request_assign(request=request, assignee=users["grid_worker"], user=staff)
    request.refresh_from_db()
    assert request.assigned_to == users["grid_worker"]
    assert "Assigned to" in request.log.last().note
    outsider = make_user("grid_worker", community=registry["b1"], username="grid-jn")
    for wrong in (outsider, users["programme_office"]):
        with pytest.raises(ValidationError, match="grid workers or staff of its community"):
            request_assign(request=request, assignee=wrong, user=staff)


def test_answer_is_recorded_and_logged(make_request, staff):
    request = make_request()
    with pytest.raises(ValidationError, match="Write the answer"):
        request_answer(request=request, answer=" ", user=staff)
    with pytest.raises(ValidationError, match="under 1000"):
        request_answer(request=request, answer="长" * 1001, user=staff)
    request_answer(request=request, answer="已安排施工方查看。", user=staff)
    request.refresh_from_db()
    assert request.answer == "已安排施工方查看。"
    assert request.log.last().note == "已安排施工方查看。"


# --- logging ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "changes", "message"),
    [
        ("description", {"description": "   "}, "Say what the resident asks for"),
        ("description", {"description": "长" * 1001}, "under 1000"),
        ("contact_phone", {"contact_phone": "12345"}, "mainland mobile"),
        ("contact_phone", {"contact_phone": "1381234567"}, "mainland mobile"),
        ("room", {"room": "12345678901"}, "at most 10"),
        ("unit_number", {"unit_number": 2}, "building of the stairwell unit"),
    ],
)
def test_logging_rejects_bad_input(make_request, field, changes, message):
    with pytest.raises(ValidationError) as error:
        make_request(**changes)
    assert field in error.value.error_dict
    assert message in str(error.value)
    assert not ResidentRequest.objects.exists()


@pytest.mark.parametrize("phone", ["13812345678", "+86 138 1234 5678"])
def test_logging_accepts_mobiles(make_request, phone):
    """Every spelling, and the landlines refused: tests/residents/test_phones.py."""
    assert make_request(contact_phone=phone).contact_phone == "13812345678"


def test_logging_checks_building_and_unit_belong_together(make_request, gy, registry):
    building = gy.buildings.first()
    with pytest.raises(ValidationError, match="units 1 to 2"):
        make_request(building=building, unit_number=3)
    with pytest.raises(ValidationError, match="not in the chosen compound"):
        make_request(building=registry["compounds"]["BQ"].buildings.first())
    made = make_request(building=building, unit_number=2, room="301")
    assert made.place == f"{building.number} unit 2 room 301"


def test_grid_worker_cannot_log_for_another_community(make_request, grid, registry):
    with pytest.raises(ValidationError, match="your own area"):
        make_request(registry["compounds"]["JN"], user=grid)


def test_objection_links_to_the_compounds_project(make_request, gy):
    with pytest.raises(ValidationError, match="needs a project"):
        make_request(kind=RequestKind.OBJECTION)
    project = ProjectFactory(compound=gy)
    assert make_request(kind=RequestKind.OBJECTION).project == project


def test_creation_is_logged_with_who(make_request, grid):
    request = make_request()
    entry = RequestLog.objects.get(request=request)
    assert (entry.from_status, entry.to_status, entry.by) == ("", S.NEW, grid)


# --- objections -------------------------------------------------------------------------


def test_objection_is_settled_only_at_a_consultation_council(make_request, gy, staff):
    """The outcome is recorded by partycells.services.objection_settle, which passes the
    council (tests/partycells/test_meetings.py settles one end to end)."""
    ProjectFactory(compound=gy)
    objection = bring_to(make_request(kind=RequestKind.OBJECTION), S.ACCEPTED, staff, None)
    with pytest.raises(ValidationError, match="settling it"):
        request_transition(request=objection, to_status=S.RESOLVED, user=staff)
    with pytest.raises(ValidationError, match="consultation council"):
        objection_settle(request=objection, outcome="议定午间停止施工", user=staff, meeting=None)
    objection.refresh_from_db()
    assert objection.status == S.ACCEPTED and objection.settlement == ""


def test_only_objections_are_settled(make_request, staff):
    wish = bring_to(make_request(), S.ACCEPTED, staff, None)
    with pytest.raises(ValidationError, match="Only objections"):
        objection_settle(request=wish, outcome="x", user=staff, meeting=None)


# --- due dates and overdue --------------------------------------------------------------


def test_due_dates_follow_the_kind(gy, settings):
    day = datetime.date(2022, 3, 1)
    settings.RESIDENTS_ERRAND_DAYS = 3
    assert due_date_for(kind=RequestKind.ERRAND, compound=gy, on=day) == datetime.date(2022, 3, 4)
    assert due_date_for(kind=RequestKind.OBJECTION, compound=gy, on=day) == datetime.date(
        2022, 3, 8
    )
    assert due_date_for(kind=RequestKind.WISH, compound=gy, on=day) == day + datetime.timedelta(
        days=settings.RESIDENTS_WISH_DAYS
    )


def test_wish_is_due_before_the_compounds_demand_list_is_sent(gy, staff):
    from residents.services import demand_list_create

    send_by = timezone.localdate() + datetime.timedelta(days=10)
    demand_list_create(compound=gy, user=staff, send_by=send_by)
    today = timezone.localdate()
    assert due_date_for(kind=RequestKind.WISH, compound=gy, on=today) == send_by
    assert due_date_for(kind=RequestKind.ERRAND, compound=gy, on=today) != send_by


def test_overdue_flag_and_queryset_agree(make_request, staff):
    late = make_request()
    ResidentRequest.objects.filter(pk=late.pk).update(due_on=datetime.date(2021, 1, 1))
    late.refresh_from_db()
    fresh = make_request()
    assert late.is_overdue and not fresh.is_overdue
    assert list(ResidentRequest.objects.overdue()) == [late]
    # A wish is answered once decided; accepting stops its clock.
    bring_to(late, S.ACCEPTED, staff, None)
    assert not late.is_overdue
    assert not ResidentRequest.objects.overdue().exists()


def test_an_accepted_errand_stays_overdue_until_done(make_request, staff):
    errand = make_request(kind=RequestKind.ERRAND)
    bring_to(errand, S.ACCEPTED, staff, None)
    ResidentRequest.objects.filter(pk=errand.pk).update(due_on=datetime.date(2021, 1, 1))
    errand.refresh_from_db()
    assert errand.is_overdue
    assert ResidentRequest.objects.overdue().get() == errand


def test_requests_of_other_compounds_are_separate(make_request, registry):
    elsewhere = make_request(CompoundFactory(community=registry["b1"]))
    assert elsewhere.logged_by.username == "office"

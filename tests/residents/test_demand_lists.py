import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from renovation.models import ItemCategory, ProjectItem
from residents.models import DemandList, RequestStatus
from residents.selectors import demand_list_lines
from residents.services import (
    demand_list_create,
    demand_list_create_items,
    demand_list_receive,
    demand_list_review,
    demand_list_send,
    request_transition,
)
from tests.factories import ProjectFactory

pytestmark = pytest.mark.usefixtures("english")
S = RequestStatus
TODAY = timezone.localdate


@pytest.fixture
def accepted_wish(make_request, staff):
    def make(category_code, building=None, room=""):
        category = ItemCategory.objects.get(code=category_code) if category_code else None
        wish = make_request(
            category=category, building=building, room=room, unit_number=1 if building else None
        )
        request_transition(request=wish, to_status=S.UNDER_REVIEW, user=staff)
        request_transition(request=wish, to_status=S.ACCEPTED, user=staff)
        return wish

    return make


@pytest.fixture
def wishes(accepted_wish, gy):
    b1, b2 = gy.buildings.order_by("number")
    return [
        accepted_wish("roof_waterproofing", b1, "301"),
        accepted_wish("roof_waterproofing", b1, "301"),  # the same household again
        accepted_wish("roof_waterproofing", b2, "502"),
        accepted_wish("parking_spaces", b1, "101"),
        accepted_wish(None),
    ]


def review(demand_list, staff):
    return demand_list_review(
        demand_list=demand_list, meeting="council", on=TODAY(), note="一致同意上报", user=staff
    )


def test_draft_groups_accepted_wishes_by_category_with_household_counts(wishes, gy, staff):
    demand_list = demand_list_create(compound=gy, user=staff)
    lines = [
        (line.category.code if line.category else None, line.households, line.requests)
        for line in demand_list_lines(demand_list)
    ]
    assert lines == [("roof_waterproofing", 2, 3), ("parking_spaces", 1, 1), (None, 1, 1)]


def test_one_draft_per_compound(gy, staff):
    demand_list_create(compound=gy, user=staff)
    with pytest.raises(ValidationError, match="in the making"):
        demand_list_create(compound=gy, user=staff)


def test_send_needs_a_review_and_lines(gy, staff, wishes):
    demand_list = demand_list_create(compound=gy, user=staff)
    with pytest.raises(ValidationError, match="reviewed at a meeting"):
        demand_list_send(demand_list=demand_list, user=staff)
    with pytest.raises(ValidationError, match="Note what the meeting decided"):
        demand_list_review(
            demand_list=demand_list, meeting="council", on=TODAY(), note="", user=staff
        )
    with pytest.raises(ValidationError, match="later than today"):
        demand_list_review(
            demand_list=demand_list,
            meeting="council",
            note="x",
            user=staff,
            on=TODAY() + datetime.timedelta(days=1),
        )
    review(demand_list, staff)
    demand_list_send(demand_list=demand_list, user=staff)
    demand_list.refresh_from_db()
    assert demand_list.status == DemandList.Status.SENT and demand_list.sent_by == staff


def test_empty_list_is_not_sent(gy, staff):
    demand_list = review(demand_list_create(compound=gy, user=staff), staff)
    with pytest.raises(ValidationError, match="empty"):
        demand_list_send(demand_list=demand_list, user=staff)


def test_sent_list_is_frozen(gy, staff, wishes, accepted_wish):
    demand_list = review(demand_list_create(compound=gy, user=staff), staff)
    demand_list = demand_list_send(demand_list=demand_list, user=staff)
    accepted_wish("roof_waterproofing", gy.buildings.first(), "601")  # after sending
    lines = demand_list_lines(demand_list)
    assert (lines[0].households, lines[0].requests) == (2, 3)
    with pytest.raises(ValidationError, match="cannot change"):
        demand_list_send(demand_list=demand_list, user=staff)
    with pytest.raises(ValidationError, match="cannot change"):
        review(demand_list, staff)
    assert all(w.demand_list_id == demand_list.pk for w in demand_list.requests.all())
    assert demand_list.requests.count() == 5
    # The late wish waits for the compound's next list.
    following = demand_list_create(compound=gy, user=staff)
    assert [line.requests for line in demand_list_lines(following)] == [1]


def test_receive_then_create_project_items(gy, staff, office, wishes):
    demand_list = review(demand_list_create(compound=gy, user=staff), staff)
    with pytest.raises(ValidationError, match="Only a sent list"):
        demand_list_receive(demand_list=demand_list, user=office)
    demand_list_send(demand_list=demand_list, user=staff)
    project = ProjectFactory(compound=gy)
    with pytest.raises(ValidationError, match="received demand list"):
        demand_list_create_items(
            demand_list=demand_list, project=project, quantities={}, user=office
        )
    demand_list_receive(demand_list=demand_list, user=office)
    roof, _parking, other = demand_list.items.order_by("pk")
    with pytest.raises(ValidationError, match="“Other”"):
        demand_list_create_items(
            demand_list=demand_list, project=project, quantities={other.pk: 1}, user=office
        )
    with pytest.raises(ValidationError, match="positive number"):
        demand_list_create_items(
            demand_list=demand_list, project=project, quantities={roof.pk: "-3"}, user=office
        )
    with pytest.raises(ValidationError, match="at least one line"):
        demand_list_create_items(
            demand_list=demand_list, project=project, quantities={roof.pk: ""}, user=office
        )
    (item,) = demand_list_create_items(
        demand_list=demand_list, project=project, quantities={roof.pk: "450"}, user=office
    )
    assert (item.category.code, item.quantity, item.project) == ("roof_waterproofing", 450, project)
    planned = demand_list.requests.filter(status=S.PLANNED)
    assert planned.count() == 3 and {w.project_item_id for w in planned} == {item.pk}
    assert demand_list.requests.filter(status=S.ACCEPTED).count() == 2
    with pytest.raises(ValidationError, match="already an item"):
        demand_list_create_items(
            demand_list=demand_list, project=project, quantities={roof.pk: 1}, user=office
        )
    assert ProjectItem.objects.count() == 1


def test_items_go_only_into_the_compounds_own_project(gy, staff, office, wishes, registry):
    demand_list = review(demand_list_create(compound=gy, user=staff), staff)
    demand_list_send(demand_list=demand_list, user=staff)
    demand_list_receive(demand_list=demand_list, user=office)
    roof = demand_list.items.first()
    other = ProjectFactory(compound=registry["compounds"]["BQ"])
    with pytest.raises(ValidationError, match="not this compound's"):
        demand_list_create_items(
            demand_list=demand_list, project=other, quantities={roof.pk: 1}, user=office
        )

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from residents.models import ErrandBooking, RequestKind, RequestStatus, ServiceSlot
from residents.selectors import free_slots
from residents.services import errand_book, errand_cancel, errand_done

pytestmark = pytest.mark.usefixtures("english")


def slot_for(community, hours_ahead=24):
    start = timezone.now() + datetime.timedelta(hours=hours_ahead)
    return ServiceSlot.objects.create(
        community=community,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=45),
        place="广跃社区党群服务中心",
    )


@pytest.fixture
def errand(make_request):
    return make_request(kind=RequestKind.ERRAND, description="代办高龄补贴申请")


def test_grid_worker_books_and_staff_mark_it_done(errand, registry, grid, staff):
    slot = slot_for(registry["a1"])
    booking = errand_book(request=errand, slot=slot, user=grid)
    errand.refresh_from_db()
    assert errand.status == RequestStatus.ACCEPTED and booking.booked_by == grid
    assert slot not in free_slots(community_id=registry["a1"].pk)
    errand_done(booking=booking, user=staff)
    booking.refresh_from_db()
    errand.refresh_from_db()
    assert booking.status == ErrandBooking.Status.DONE and booking.done_by == staff
    assert errand.status == RequestStatus.RESOLVED
    assert [e.to_status for e in errand.log.order_by("pk")] == [
        "new",
        "under_review",
        "accepted",
        "resolved",
    ]
    with pytest.raises(ValidationError, match="Only a booked errand"):
        errand_done(booking=booking, user=staff)


def test_double_booking_is_refused(errand, make_request, registry, grid):
    slot = slot_for(registry["a1"])
    errand_book(request=errand, slot=slot, user=grid)
    other = make_request(kind=RequestKind.ERRAND, description="代办居住证明")
    with pytest.raises(ValidationError, match="already booked"):
        errand_book(request=other, slot=slot, user=grid)
    # The database refuses it too, whatever path the write takes.
    with pytest.raises(IntegrityError), transaction.atomic():
        ErrandBooking.objects.create(slot=slot, request=other)


def test_cancelled_slot_can_be_booked_again(errand, make_request, registry, grid):
    slot = slot_for(registry["a1"])
    errand_cancel(booking=errand_book(request=errand, slot=slot, user=grid), user=grid)
    other = make_request(kind=RequestKind.ERRAND, description="代办居住证明")
    assert errand_book(request=other, slot=slot, user=grid)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other_community", "another community"),
        ("past", "already begun"),
        ("wish", "Only errands"),
    ],
)
def test_booking_rejects_bad_slots(errand, make_request, registry, grid, case, message):
    request, slot = errand, slot_for(registry["a1"])
    if case == "other_community":
        slot = slot_for(registry["b1"])
    elif case == "past":
        slot = slot_for(registry["a1"], hours_ahead=-2)
    elif case == "wish":
        request = make_request()
    with pytest.raises(ValidationError, match=message):
        errand_book(request=request, slot=slot, user=grid)
    assert not ErrandBooking.objects.exists()


def test_errand_books_one_slot_at_a_time(errand, registry, grid):
    errand_book(request=errand, slot=slot_for(registry["a1"]), user=grid)
    with pytest.raises(ValidationError, match="already has a booked slot"):
        errand_book(request=errand, slot=slot_for(registry["a1"], hours_ahead=48), user=grid)

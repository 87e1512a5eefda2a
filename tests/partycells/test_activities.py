"""Activities: themed party days and branch meetings, with the resident requests they
produced linked, so "opinions collected" is a count."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from partycells.models import Activity, ActivityRequest
from partycells.selectors import branch_get
from partycells.services import activity_record

D = datetime.date


def record(branch, user, **extra):
    data = {
        "kind": Activity.Kind.OPINION_DAY,
        "held_on": D(2022, 4, 1),
        "place": "小区广场",
        "participants": 12,
        "user": user,
        **extra,
    }
    return activity_record(branch=branch, **data)


def test_an_opinion_day_counts_the_requests_it_produced(branches, make_request, users):
    staff = users["community_staff"]
    wishes = [make_request(on=D(2022, 4, 1)), make_request(on=D(2022, 4, 5))]
    activity = record(branches["GY"], staff, requests=wishes, households_visited=30)
    assert set(activity.requests.all()) == set(wishes)
    page = branch_get(user=staff, pk=branches["GY"].pk)
    assert [a.opinions for a in page.activities.all()] == [2]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "dance"}, "kind", "Choose one"),
        ({"held_on": D(2099, 1, 1)}, "held_on", "later than today"),
        ({"held_on": D(2022, 1, 1)}, "held_on", "founded on 2022-02-15"),
        ({"place": ""}, "place", "where the activity was held"),
        ({"participants": 0}, "participants", "At least one person"),
        ({"households_visited": -3}, "households_visited", "cannot be negative"),
        ({"households_visited": 10_000}, "households_visited", "have 60 households"),
    ],
)
def test_activity_bad_input_is_refused_with_a_clear_error(
    branches, users, english, data, field, words
):
    with pytest.raises(ValidationError) as error:
        record(branches["GY"], users["community_staff"], **data)
    assert words in str(error.value.message_dict[field])
    assert not Activity.objects.exists()


def test_requests_from_another_compound_are_refused(
    branches, make_request, projects, users, english
):
    elsewhere = make_request(projects["JN"].compound)
    with pytest.raises(ValidationError) as error:
        record(branches["GY"], users["community_staff"], requests=[elsewhere])
    assert "does not cover" in str(error.value.message_dict["requests"])
    assert not Activity.objects.exists()


def test_requests_logged_outside_the_week_after_are_refused(branches, make_request, users, english):
    before, long_after = make_request(on=D(2022, 3, 31)), make_request(on=D(2022, 4, 9))
    for request in (before, long_after):
        with pytest.raises(ValidationError) as error:
            record(branches["GY"], users["community_staff"], requests=[request])
        assert "logged on its day or in the 7 days after" in str(
            error.value.message_dict["requests"]
        )
    assert not ActivityRequest.objects.exists()


def test_a_request_is_counted_for_one_activity(branches, make_request, users, english):
    wish = make_request(on=D(2022, 4, 2))
    record(branches["GY"], users["community_staff"], requests=[wish])
    with pytest.raises(ValidationError) as error:
        record(branches["GY"], users["community_staff"], requests=[wish], held_on=D(2022, 4, 2))
    assert "already counted" in str(error.value.message_dict["requests"])
    assert Activity.objects.count() == 1

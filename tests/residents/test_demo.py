import datetime

import pytest
from django.test import override_settings

from renovation.demo import demo_load, demo_reset
from renovation.models import RenovationProject
from residents.models import (
    Channel,
    CompoundPage,
    DemandList,
    RequestKind,
    RequestStatus,
    ResidentRequest,
    Survey,
)
from residents.selectors import request_list, survey_consent, willingness_passed


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast:
        demo_load()
        yield
        demo_reset()


def test_demo_has_a_few_thousand_requests_of_every_kind_channel_and_status(demo, db):
    requests = ResidentRequest.objects.all()
    assert 2000 <= requests.count() <= 5000
    assert set(requests.values_list("kind", flat=True)) == set(RequestKind.values)
    assert set(requests.values_list("channel", flat=True)) == set(Channel.values)
    assert set(requests.values_list("status", flat=True)) == set(RequestStatus.values)
    first = requests.order_by("logged_at").first().logged_at.date()
    last = requests.order_by("logged_at").last().logged_at.date()
    assert datetime.date(2021, 1, 1) <= first and last <= datetime.date(2022, 12, 31)
    assert requests.overdue().exists()
    assert not requests.filter(status="planned", project_item__isnull=True).exists()


def test_every_compound_in_a_project_passed_its_willingness_survey(demo, db):
    for project in RenovationProject.objects.select_related("compound"):
        assert willingness_passed(project.compound), project


def test_2022_batch_surveys_passed_with_some_buildings_below_threshold(demo, db):
    surveys = Survey.objects.filter(
        kind=Survey.Kind.WILLINGNESS, compound__projects__batch_year=2022
    ).select_related("compound")
    assert surveys.count() == 23
    below = 0
    for survey in surveys:
        consent = survey_consent(survey)
        assert consent.passed
        below += sum(not building.passed for building in consent.children)
    assert below > 0


def test_2022_batch_has_received_demand_lists_turned_into_items(demo, db):
    lists = DemandList.objects.filter(compound__projects__batch_year=2022)
    assert lists.count() == 23
    assert set(lists.values_list("status", flat=True)) == {DemandList.Status.RECEIVED}
    assert all(d.items.exists() for d in lists)
    assert ResidentRequest.objects.filter(demand_list__in=lists, status="planned").exists() or (
        ResidentRequest.objects.filter(demand_list__in=lists, status="resolved").exists()
    )


def test_demo_pages_and_scoping(demo, db, django_user_model):
    assert CompoundPage.objects.count() >= 100
    grid = django_user_model.objects.get(username="grid")
    seen = request_list(user=grid)
    assert seen.exists()
    assert not seen.exclude(compound__community__code="GY").exists()


def test_loading_residents_twice_changes_nothing(demo, db):
    before = (ResidentRequest.objects.count(), Survey.objects.count(), DemandList.objects.count())
    demo_load()
    after = (ResidentRequest.objects.count(), Survey.objects.count(), DemandList.objects.count())
    assert after == before

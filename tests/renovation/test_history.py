import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from renovation.models import ProjectStatus
from renovation.services import (
    allocation_create,
    funding_source_set_amount,
    progress_record,
    project_transition,
)
from tests.factories import FundingSourceFactory, ProjectFactory

D = datetime.date


@pytest.fixture
def project(registry):
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    project.transitions.create(to_status=ProjectStatus.PIPELINE, effective_on=D(2021, 10, 1))
    return project


def test_status_changes_keep_who_changed_which_field(project, users):
    office = users["programme_office"]
    project_transition(
        project=project, to_status=ProjectStatus.FEASIBILITY, user=office, on=D(2022, 1, 5)
    )
    latest, earlier = project.history.order_by("-history_date", "-history_id")[:2]
    delta = latest.diff_against(earlier)
    changed = {change.field: (change.old, change.new) for change in delta.changes}
    assert changed["status"] == ("pipeline", "feasibility")
    assert changed["feasibility_on"] == (None, D(2022, 1, 5))
    assert latest.history_user == office


def test_money_changes_are_recorded_with_their_author(project, users):
    finance = users["finance"]
    source = FundingSourceFactory(amount=Decimal("1000"))
    allocation_create(source=source, project=project, amount="400", on=D(2022, 2, 1), user=finance)
    funding_source_set_amount(source=source, amount="900", user=finance)
    record = source.history.order_by("-history_date").first()
    assert record.amount == Decimal("900.00") and record.history_user == finance
    assert project.allocations.get().history.get().history_user == finance


def test_progress_history_keeps_replaced_figures(project, users):
    office = users["programme_office"]
    for status, on in [
        (ProjectStatus.FEASIBILITY, D(2022, 1, 5)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 5)),
    ]:
        project_transition(project=project, to_status=status, user=office, on=on)
    progress_record(project=project, percent=10, on=D(2022, 3, 31), user=office)
    progress_record(
        project=project, percent=12, on=D(2022, 3, 31), user=users["sub_district_staff"]
    )
    update = project.progress_updates.get()
    assert [h.percent for h in update.history.order_by("history_date")] == [10, 12]


def test_history_is_seen_from_the_admin(client, users, project):
    client.force_login(users["programme_office"])
    url = reverse("admin:renovation_renovationproject_history", args=[project.pk])
    assert client.get(url).status_code == 200


def test_history_of_another_area_gives_404(client, users, registry):
    other = ProjectFactory(compound=registry["compounds"]["JN"])
    client.force_login(users["community_staff"])
    url = reverse("admin:renovation_renovationproject_history", args=[other.pk])
    assert client.get(url).status_code == 404

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from renovation.models import FundingAllocation, ProjectStatus, RenovationProject
from renovation.services import allocation_create, progress_record, project_transition
from tests.factories import (
    BuildingFactory,
    CompoundFactory,
    FundingSourceFactory,
    ProjectFactory,
    passed_willingness_survey,
)

D = datetime.date


@pytest.fixture
def projects(registry, users):
    """A project in each community; GY's is under construction with money and progress."""
    office = users["programme_office"]
    made = {code: ProjectFactory(compound=c) for code, c in registry["compounds"].items()}
    gy = made["GY"]
    for status, on in [
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
    ]:
        project_transition(project=gy, to_status=status, user=office, on=on)
    progress_record(project=gy, percent=40, on=D(2022, 4, 30), user=office)
    source = FundingSourceFactory(amount=Decimal("500000"))
    allocation_create(source=source, project=gy, amount="300000", on=D(2022, 2, 15), user=office)
    made["source"] = source
    return made


def test_project_list_is_scoped_to_the_users_area(client, users, projects):
    client.force_login(users["community_staff"])
    response = client.get(reverse("project-list"))
    assert [p.pk for p in response.context["page"]] == [projects["GY"].pk]


def test_project_list_shows_money_and_progress(client, users, projects):
    client.force_login(users["programme_office"])
    response = client.get(reverse("project-list"), {"status": "under_construction"})
    (row,) = response.context["page"]
    assert (row.allocated, row.paid, row.progress) == (Decimal("300000"), Decimal("0"), 40)
    assert response.context["totals"]["count"] == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"batch_year": 2022}, 3),
        ({"batch_year": 2021}, 0),
        ({"kind": "soe_transfer"}, 0),
        ({"is_key": "false"}, 3),
        ({"status": ["pipeline", "under_construction"]}, 3),
    ],
)
def test_project_list_filters(client, users, projects, query, expected):
    client.force_login(users["leader"])
    response = client.get(reverse("project-list"), query)
    assert response.context["totals"]["count"] == expected


def test_project_list_filters_delayed(client, users, projects):
    RenovationProject.objects.filter(pk=projects["JN"].pk).update(planned_finish=D(2022, 1, 1))
    client.force_login(users["leader"])
    response = client.get(reverse("project-list"), {"delayed": "true"})
    assert [p.pk for p in response.context["page"]] == [projects["JN"].pk]
    assert "delayed" in response.content.decode() or "延期" in response.content.decode()


def test_project_list_runs_a_fixed_number_of_queries(
    client, users, projects, registry, django_assert_max_num_queries
):
    client.force_login(users["programme_office"])
    # A first view works the page out: the page, its totals and the projects' figures are
    # each read from the cache or worked out and kept, after checking nobody is writing.
    with django_assert_max_num_queries(16) as few:
        client.get(reverse("project-list"))
    for _ in range(20):
        ProjectFactory(compound=CompoundFactory(community=registry["b1"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("project-list"))
    assert response.context["totals"]["count"] == 23


def test_project_detail_runs_a_fixed_number_of_queries(
    client, users, projects, django_assert_max_num_queries
):
    office = users["programme_office"]
    project = projects["GY"]
    client.force_login(office)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("project-detail", args=[project.pk]))
    for month in range(5, 12):
        progress_record(project=project, percent=40 + month, on=D(2022, month, 28), user=office)
    for building in BuildingFactory.create_batch(5, compound=project.compound):
        project.buildings.add(building)
    allocation = FundingAllocation.objects.get(project=project)
    from renovation.services import disbursement_create

    for day in range(1, 6):
        disbursement_create(allocation=allocation, amount="100", on=D(2022, 3, day), user=office)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("project-detail", args=[project.pk]))
    assert response.status_code == 200
    assert len(response.context["project"].progress_updates.all()) == 8


@pytest.mark.parametrize("role", ["community_staff", "grid_worker", "sub_district_staff"])
def test_project_outside_area_gives_404(client, users, projects, role):
    client.force_login(users[role])
    assert client.get(reverse("project-detail", args=[projects["JN"].pk])).status_code == 404


def test_transition_from_the_page_records_it(client, users, projects):
    client.force_login(users["programme_office"])
    project = projects["GY"]
    response = client.post(
        reverse("project-transition", args=[project.pk]),
        {"to_status": "completed", "on": "2022-10-01", "reason": ""},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.COMPLETED


def test_illegal_transition_shows_a_clear_error_in_chinese(client, users, projects):
    client.force_login(users["programme_office"])
    project = projects["JN"]
    response = client.post(
        reverse("project-transition", args=[project.pk]),
        {"to_status": "accepted", "on": "2022-10-01"},
    )
    assert response.status_code == 200
    assert "逐步推进" in response.content.decode()
    project.refresh_from_db()
    assert project.status == ProjectStatus.PIPELINE


@pytest.mark.parametrize("role", ["leader", "finance", "sub_district_staff", "community_staff"])
def test_only_programme_office_changes_status(client, users, projects, role):
    client.force_login(users[role])
    project = projects["GY"]
    response = client.post(
        reverse("project-transition", args=[project.pk]),
        {"to_status": "completed", "on": "2022-10-01"},
    )
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.status == ProjectStatus.UNDER_CONSTRUCTION


def test_sub_district_staff_report_progress_in_their_area(client, users, projects):
    client.force_login(users["sub_district_staff"])
    response = client.post(
        reverse("project-progress", args=[projects["GY"].pk]),
        {"percent": "55", "on": "2022-05-31", "note": ""},
    )
    assert response.status_code == 302
    assert projects["GY"].progress_updates.filter(percent=55).exists()
    response = client.post(
        reverse("project-progress", args=[projects["JN"].pk]),
        {"percent": "55", "on": "2022-05-31"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"percent": "101", "on": "2022-05-31"}, "100"),
        ({"percent": "abc", "on": "2022-05-31"}, "整数"),
        ({"percent": "50", "on": "not a date"}, "日期"),
        ({"percent": "", "on": ""}, "必填"),
    ],
)
def test_bad_progress_input_shows_errors_and_saves_nothing(client, users, projects, data, words):
    client.force_login(users["programme_office"])
    response = client.post(reverse("project-progress", args=[projects["GY"].pk]), data)
    assert response.status_code == 200
    assert words in response.content.decode()
    assert projects["GY"].progress_updates.count() == 1


def test_over_allocation_from_the_page_shows_the_figures(client, users, projects):
    client.force_login(users["finance"])
    source = projects["source"]
    response = client.post(
        reverse("funding-source-detail", args=[source.pk]),
        {"project": projects["GY"].pk, "amount": "200000.01", "on": "2022-03-01"},
    )
    assert response.status_code == 200
    assert "¥200,000.00" in response.content.decode()
    assert FundingAllocation.objects.filter(source=source).count() == 1


def test_funding_pages_show_rates(client, users, projects):
    client.force_login(users["finance"])
    response = client.get(reverse("funding-source-list"))
    ((_source, allocated_rate, paid_rate),) = response.context["rows"]
    assert (allocated_rate, paid_rate) == (Decimal("60.00"), Decimal("0.00"))


@pytest.mark.parametrize("role", ["sub_district_staff", "community_staff", "grid_worker"])
def test_local_roles_cannot_open_funding_sources(client, users, projects, role):
    client.force_login(users[role])
    assert client.get(reverse("funding-source-list")).status_code == 403
    source = projects["source"]
    assert client.get(reverse("funding-source-detail", args=[source.pk])).status_code == 403


def test_leader_sees_funding_but_cannot_allocate(client, users, projects):
    client.force_login(users["leader"])
    source = projects["source"]
    assert client.get(reverse("funding-source-detail", args=[source.pk])).status_code == 200
    response = client.post(
        reverse("funding-source-detail", args=[source.pk]),
        {"project": projects["GY"].pk, "amount": "1", "on": "2022-03-01"},
    )
    assert response.status_code == 403


def test_project_create_page_enforces_the_willingness_gate(client, users, registry):
    client.force_login(users["programme_office"])
    compound = registry["compounds"]["GY"]
    data = {"compound": compound.pk, "batch_year": 2023, "kind": "regular", "budget": "1000000"}
    page = client.get(reverse("project-create")).content.decode()
    assert "尚无改造意愿调查" in page  # each compound shows its consent, or that it has none
    response = client.post(reverse("project-create"), data)
    assert response.status_code == 200
    assert "改造意愿" in response.content.decode()
    assert not RenovationProject.objects.exists()
    passed_willingness_survey(compound)
    assert "同意率 100.00%" in client.get(reverse("project-create")).content.decode()
    response = client.post(reverse("project-create"), data)
    assert response.status_code == 302
    assert RenovationProject.objects.get().willingness_confirmed_by == users["programme_office"]


def test_sub_district_staff_cannot_create_projects(client, users, registry):
    client.force_login(users["sub_district_staff"])
    assert client.get(reverse("project-create")).status_code == 403


def test_admin_project_list_shows_totals_and_filters(client, users, projects):
    client.force_login(users["programme_office"])
    response = client.get(
        reverse("admin:renovation_renovationproject_changelist"), {"stage": "pipeline"}
    )
    assert response.status_code == 200
    assert response.context_data["totals"]["count"] == 2


def test_admin_transition_shows_a_clear_error(client, users, projects):
    client.force_login(users["programme_office"])
    project = projects["JN"]
    url = reverse("admin:renovation_renovationproject_transition", args=[project.pk])
    response = client.post(url, {"to_status": "completed", "on": "2022-10-01"})
    assert response.status_code == 200
    assert "逐步推进" in response.content.decode()
    response = client.post(url, {"to_status": "feasibility", "on": "2022-10-01"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.FEASIBILITY


def test_admin_over_allocation_is_a_form_error(client, users, projects):
    client.force_login(users["finance"])
    response = client.post(
        reverse("admin:renovation_fundingallocation_add"),
        {
            "source": projects["source"].pk,
            "project": projects["GY"].pk,
            "amount": "300000",
            "allocated_on": "2022-03-01",
        },
    )
    assert response.status_code == 200
    assert "¥200,000.00" in response.content.decode()
    assert FundingAllocation.objects.count() == 1


def test_admin_allocation_within_the_source_goes_through_the_service(client, users, projects):
    client.force_login(users["finance"])
    response = client.post(
        reverse("admin:renovation_fundingallocation_add"),
        {
            "source": projects["source"].pk,
            "project": projects["JN"].pk,
            "amount": "150000",
            "allocated_on": "2022-03-01",
        },
    )
    assert response.status_code == 302
    assert FundingAllocation.objects.get(project=projects["JN"]).by == users["finance"]

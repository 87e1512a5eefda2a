"""The dashboard's figures and the project list's totals are kept in the cache until their
records change (renovation.cache): each way of changing those records shows on the very
next view, and the monthly workbook always works its figures out anew."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from renovation import selectors, services
from renovation.models import (
    Compound,
    Disbursement,
    FundingAllocation,
    ProjectStatus,
    RenovationProject,
)
from renovation.report_workbook import build_workbook
from renovation.selectors.report import Month, summary_with_change
from renovation.services import (
    allocation_create,
    disbursement_create,
    progress_record,
    project_create,
    project_transition,
)
from tests.factories import (
    CompoundFactory,
    FundingSourceFactory,
    ProjectFactory,
    passed_willingness_survey,
)
from tests.threads import open_in_thread

D = datetime.date
JUNE = Month.parse("2022-06")


@pytest.fixture
def office(client, users):
    client.force_login(users["programme_office"])
    return client


def dashboard(client, month: Month = JUNE) -> dict:
    response = client.get(reverse("dashboard"), {"month": str(month)})
    assert response.status_code == 200
    return response.context["figures"]


def changes_show(client, change, month: Month = JUNE) -> None:
    """The dashboard, once kept in the cache, shows `change()` on the next view."""
    before = dashboard(client, month)
    change()
    after = dashboard(client, month)
    assert after != before
    assert after == summary_with_change(month)


def test_dashboard_figures_come_from_the_cache_while_nothing_changes(
    programme, office, django_assert_num_queries
):
    first = dashboard(office)
    # Session, the user with their staff profile, and the version of the figures' tables:
    # nothing else.
    with django_assert_num_queries(3):
        again = dashboard(office)
    assert again == first == summary_with_change(JUNE)


def test_figures_are_kept_per_month(programme, office):
    may = Month.parse("2022-05")
    assert dashboard(office) == summary_with_change(JUNE)
    assert dashboard(office, may) == summary_with_change(may)
    assert dashboard(office, may)["now"]["month"] == may


# --- Services -------------------------------------------------------------------------------


def test_a_transition_shows_at_once(programme, office, users):
    changes_show(
        office,
        lambda: project_transition(
            project=programme["approved"],
            to_status=ProjectStatus.UNDER_CONSTRUCTION,
            user=users["programme_office"],
            on=D(2022, 6, 1),
        ),
    )


def test_an_allocation_and_a_payment_show_at_once(programme, office, users):
    source = FundingSourceFactory(amount=Decimal("500000"))
    project = programme["approved"]

    def allocate():
        allocation_create(
            source=source, project=project, amount="200000", on=D(2022, 6, 2), user=users["finance"]
        )

    changes_show(office, allocate)
    allocation = FundingAllocation.objects.get(project=project)
    changes_show(
        office,
        lambda: disbursement_create(
            allocation=allocation, amount="50000", on=D(2022, 6, 3), user=users["finance"]
        ),
    )


def test_a_new_project_shows_at_once(programme, office, users, registry):
    compound = CompoundFactory(community=registry["b1"])
    passed_willingness_survey(compound)
    changes_show(
        office,
        lambda: project_create(
            compound=compound,
            batch_year=2022,
            user=users["programme_office"],
            entered_on=D(2022, 6, 5),
        ),
    )


def test_a_project_saved_with_other_figures_shows_at_once(programme, office):
    project = programme["built"]

    def save():
        project.households_benefited = 130
        project.save()

    changes_show(office, save)


# --- Admin ----------------------------------------------------------------------------------


def test_a_payment_deleted_in_the_admin_shows_at_once(programme, client, users):
    payment = Disbursement.objects.get()
    disbursement_create(
        allocation=programme["allocation"], amount="1000", on=D(2022, 7, 1), user=users["finance"]
    )  # a later one, so the largest id stays as it is
    client.force_login(users["finance"])
    url = reverse("admin:renovation_disbursement_delete", args=[payment.pk])

    def delete():
        assert client.post(url, {"post": "yes"}).status_code == 302

    changes_show(client, delete)
    assert not Disbursement.objects.filter(pk=payment.pk).exists()


def test_a_compound_changed_in_the_admin_shows_at_once(programme, office):
    compound = programme["old"].compound
    data = {
        "community": compound.community_id,
        "name": compound.name,
        "code": compound.code,
        "build_year": 2005,
        "origin": "regular",
        "households": 60,
        "property_management": "none",
        "buildings-TOTAL_FORMS": 0,
        "buildings-INITIAL_FORMS": 0,
    }  # "is_old" left out: unticked
    url = reverse("admin:renovation_compound_change", args=[compound.pk])

    def untick():
        assert office.post(url, data).status_code == 302

    changes_show(office, untick)
    assert dashboard(office)["now"]["renovated_to_date"] == 0


def test_a_compound_added_in_the_admin_shows_at_once(programme, office, registry):
    data = {
        "community": registry["a2"].pk,
        "name": "新建小区",
        "code": "NEW1",
        "build_year": 1995,
        "is_old": "on",
        "origin": "regular",
        "households": 40,
        "property_management": "none",
        "buildings-TOTAL_FORMS": 0,
        "buildings-INITIAL_FORMS": 0,
    }

    def add():
        assert office.post(reverse("admin:renovation_compound_add"), data).status_code == 302

    changes_show(office, add)


def test_a_compound_deleted_in_the_admin_shows_at_once(programme, office, registry):
    spare = CompoundFactory(community=registry["a2"])
    CompoundFactory(community=registry["a2"])  # a later one, so the largest id stays as it is
    url = reverse("admin:renovation_compound_delete", args=[spare.pk])

    def delete():
        assert office.post(url, {"post": "yes"}).status_code == 302

    changes_show(office, delete)


# --- Imports --------------------------------------------------------------------------------


def registry_workbook(path, rows: list[dict]):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "小区台账"
    headers = ["街道", "社区", "小区名称", "建成年份", "户数", "是否老旧小区"]
    sheet.append(headers)
    for row in rows:
        sheet.append([row[header] for header in headers])
    workbook.save(path)
    return path


def test_a_registry_import_shows_at_once(programme, office, users, tmp_path):
    existing = programme["old"].compound
    community = existing.community
    row = {"街道": community.sub_district.name, "社区": community.name}
    changed = row | {"小区名称": existing.name, "建成年份": 1990, "户数": 60, "是否老旧小区": "否"}
    added = row | {"小区名称": "工人新村", "建成年份": 1980, "户数": 90, "是否老旧小区": "是"}

    def run(rows, name):
        file = registry_workbook(tmp_path / name, rows)
        assert services.registry_import(file=file, user=users["programme_office"], dry_run=False).ok

    changes_show(office, lambda: run([added], "added.xlsx"))  # bulk_create
    assert Compound.objects.filter(name="工人新村").exists()
    changes_show(office, lambda: run([added, changed], "changed.xlsx"))  # bulk_update
    existing.refresh_from_db()
    assert existing.is_old is False


# --- Writes still open when the figures are worked out (PostgreSQL) --------------------------


def allocations_committed_out_of_order(registry, users):
    """An allocation of 300 written and left open in another thread, then a second one of
    200 written and committed here, with later ids: returns what commits the first."""
    finance = users["finance"]
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    project.transitions.create(to_status=ProjectStatus.PIPELINE, effective_on=D(2022, 1, 1))
    first_source = FundingSourceFactory(amount=Decimal("1000"))
    second_source = FundingSourceFactory(amount=Decimal("1000"))
    _first, commit_first = open_in_thread(
        lambda: allocation_create(
            source=first_source, project=project, amount="300", on=D(2022, 6, 1), user=finance
        )
    )
    allocation_create(
        source=second_source, project=project, amount="200", on=D(2022, 6, 1), user=finance
    )
    return commit_first


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_write_committed_after_a_later_one_still_shows(registry, users, client):
    """An allocation takes its id before a second one that commits first; the dashboard,
    asked between the two commits, must not keep figures that lack the first."""
    client.force_login(users["programme_office"])
    dashboard(client)
    commit_first = allocations_committed_out_of_order(registry, users)
    assert dashboard(client)["now"]["batch_allocated"] == Decimal("200")
    commit_first()

    assert dashboard(client)["now"]["batch_allocated"] == Decimal("500")
    assert dashboard(client) == summary_with_change(JUNE)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_write_committed_while_figures_are_worked_out_still_shows(
    registry, users, client, monkeypatch
):
    """An allocation open when the version is read commits, below the ids seen, while the
    figures are being worked out: those figures must not be kept under that version."""
    client.force_login(users["programme_office"])
    commit_first = allocations_committed_out_of_order(registry, users)
    work_out = selectors.report.summary_with_change

    def commit_meanwhile(month):
        figures = work_out(month)
        commit_first()  # the first allocation commits before the figures are kept
        return figures

    monkeypatch.setattr(selectors.report, "summary_with_change", commit_meanwhile)
    assert dashboard(client)["now"]["batch_allocated"] == Decimal("200")
    monkeypatch.setattr(selectors.report, "summary_with_change", work_out)
    assert dashboard(client)["now"]["batch_allocated"] == Decimal("500")


# --- The project list's totals ---------------------------------------------------------------


def list_totals(client, **query) -> dict:
    response = client.get(reverse("project-list"), query)
    assert response.status_code == 200
    return response.context["totals"]


def independent_totals(projects) -> dict:
    ids = projects.values("pk")
    figures = projects.aggregate(households=Sum("households_benefited"), budget=Sum("budget"))
    return {
        "count": projects.count(),
        "households": figures["households"] or 0,
        "budget": figures["budget"] or Decimal("0"),
        "allocated": FundingAllocation.objects.filter(project__in=ids).aggregate(
            total=Sum("amount")
        )["total"]
        or Decimal("0"),
        "paid": Disbursement.objects.filter(project__in=ids).aggregate(total=Sum("amount"))["total"]
        or Decimal("0"),
    }


def test_project_list_totals_follow_every_change(programme, office, users):
    assert list_totals(office) == independent_totals(RenovationProject.objects.all())
    source = FundingSourceFactory(amount=Decimal("500000"))
    allocation_create(
        source=source,
        project=programme["approved"],
        amount="70000.50",
        on=D(2022, 6, 2),
        user=users["finance"],
    )
    assert list_totals(office)["allocated"] == Decimal("39270000.50")
    programme["approved"].budget = Decimal("2500000.25")
    programme["approved"].save()
    ProjectFactory(compound=CompoundFactory(community=programme["approved"].compound.community))
    assert list_totals(office) == independent_totals(RenovationProject.objects.all())
    under_way = RenovationProject.objects.filter(status=ProjectStatus.UNDER_CONSTRUCTION)
    assert list_totals(office, status="under_construction") == independent_totals(under_way)


def test_project_list_reads_a_fixed_number_of_queries_from_the_cache(
    programme, office, django_assert_num_queries
):
    first = office.get(reverse("project-list"))
    # Session, the user with their profile; the version of the tables the page is worked
    # out from, and the sub-districts the filter offers.
    with django_assert_num_queries(4):
        again = office.get(reverse("project-list"))
    assert again.context["totals"] == first.context["totals"]
    assert list(again.context["page"]) == list(first.context["page"])


def test_project_totals_are_kept_per_set_of_projects(programme, office):
    """Each filter's totals are its own projects' (kept under the set), and the same set's
    totals change with the money."""
    for status in ["", "under_construction", "completed", ""]:
        matching = RenovationProject.objects.all()
        if status:
            matching = matching.filter(status=status)
        assert list_totals(office, status=status) == independent_totals(matching)
    project = RenovationProject.objects.filter(allocations__isnull=False).first()
    allocation = project.allocations.first()
    allocation.amount += Decimal("1000.00")
    allocation.save()
    everything = RenovationProject.objects.all()
    assert list_totals(office) == independent_totals(everything)


def test_project_totals_work_figures_out_anew_when_a_project_is_missing(programme, monkeypatch):
    def cached(name, tables, compute):  # the totals worked out, from figures lacking all
        return {} if name == "project-figures" else compute()

    monkeypatch.setattr(selectors.projects, "cached", cached)
    everything = RenovationProject.objects.all()
    assert selectors.project_totals(everything) == independent_totals(everything)


def test_project_list_totals_of_nothing_are_zero(programme, office):
    assert list_totals(office, batch_year=1999) == {
        "count": 0,
        "households": 0,
        "budget": Decimal("0.00"),
        "allocated": Decimal("0.00"),
        "paid": Decimal("0.00"),
    }


# --- The workbook ---------------------------------------------------------------------------


def test_the_workbook_works_its_figures_out_anew(programme, office):
    """Even a change that slips past the version (QuerySet.update writes no history) is in
    the next workbook: the report never reads the dashboard's cache."""
    dashboard(office)
    Disbursement.objects.update(amount=Decimal("160000"))
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(JUNE)))
    values = {row[0]: row[1] for row in book["总览"].iter_rows(min_row=4, values_only=True)}
    assert Decimal(str(values["已拨付资金"])) * 10000 == Decimal("160000")


# --- The project list's rows and filter form ----------------------------------------------


def test_project_list_rows_show_every_change(registry, office):
    """The rows' HTML is kept under what they show: a change in any row of the page (the
    last of fifty here) shows on the next view."""
    community = registry["b1"]
    for _ in range(50):
        ProjectFactory(compound=CompoundFactory(community=community))
    first = office.get(reverse("project-list"))
    last = RenovationProject.objects.get(pk=first.context["page"][49].pk)
    last.name = "改名后的项目"
    last.save()
    again = office.get(reverse("project-list"))
    assert again.context["page"][49].name == "改名后的项目"
    assert "改名后的项目" in again.content.decode()


def test_project_list_filter_form_shows_a_renamed_sub_district(registry, office):
    assert "雅儒街道" in office.get(reverse("project-list")).content.decode()
    registry["sub_a"].name = "新雅儒街道"
    registry["sub_a"].save()
    assert "新雅儒街道" in office.get(reverse("project-list")).content.decode()


def project_row(client, project) -> object:
    rows = client.get(reverse("project-list")).context["page"].object_list
    return next(row for row in rows if row.pk == project.pk)


def test_project_list_rows_show_a_renamed_place_at_once(registry, office):
    """A page of the list is kept under the version of the places that name its rows too:
    communities and sub-districts, which have no history, by their latest update."""
    project = ProjectFactory(compound=CompoundFactory(community=registry["b1"]))
    before = project_row(office, project)
    community, sub_district = registry["b1"], registry["b1"].sub_district
    community.name = "更名社区"
    community.save()
    assert project_row(office, project).community_name == "更名社区"
    sub_district.name = "更名街道"
    sub_district.save()
    assert project_row(office, project).sub_district_name == "更名街道"
    assert before.sub_district_name != "更名街道"
    assert "更名街道 更名社区" in office.get(reverse("project-list")).content.decode()


def test_project_list_rows_show_new_progress_at_once(programme, office, users):
    project = programme["built"]
    latest = project.progress_updates.order_by("-recorded_on").first()
    assert project_row(office, project).progress == latest.percent
    progress_record(
        project=project,
        percent=latest.percent + 5,
        on=latest.recorded_on + datetime.timedelta(days=1),
        user=users["programme_office"],
    )
    assert project_row(office, project).progress == latest.percent + 5


def test_project_list_pages_are_kept_per_filter_page_and_area(registry, office, client, users):
    """Each filter, page and person's area has its own page of the list."""
    for community in [registry["a1"], registry["b1"]]:
        for _ in range(3):
            ProjectFactory(compound=CompoundFactory(community=community))
    everything = office.get(reverse("project-list")).context["totals"]["count"]
    client.force_login(users["sub_district_staff"])
    own = client.get(reverse("project-list")).context["totals"]["count"]
    assert (
        own
        == RenovationProject.objects.filter(
            compound__community__sub_district=users["sub_district_staff"].staff_profile.sub_district
        ).count()
    )
    assert own < everything == RenovationProject.objects.count()
    key = office.get(reverse("project-list"), {"is_key": "true"}).context["totals"]["count"]
    assert key == RenovationProject.objects.filter(is_key=True).count()


def test_project_list_rows_are_delayed_from_the_day_after_the_planned_finish(
    registry, office, monkeypatch
):
    """Whether a row is delayed depends on the day: a page kept yesterday is not today's."""
    today = timezone.localdate()
    project = ProjectFactory(
        compound=CompoundFactory(community=registry["b1"]),
        planned_finish=today + datetime.timedelta(days=1),
    )
    assert project_row(office, project).delayed is False
    monkeypatch.setattr(timezone, "localdate", lambda: today + datetime.timedelta(days=2))
    assert project_row(office, project).delayed is True

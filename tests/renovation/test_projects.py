import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from renovation.models import ProgressUpdate, ProjectStatus, ProjectTransition, RenovationProject
from renovation.services import (
    allowed_transitions,
    progress_record,
    project_create,
    project_transition,
)
from tests.factories import BuildingFactory, CompoundFactory, willingness_survey

pytestmark = pytest.mark.usefixtures("english", "willing")

D = datetime.date


@pytest.fixture
def office(users):
    return users["programme_office"]


@pytest.fixture
def project(registry, office):
    return project_create(
        compound=registry["compounds"]["GY"],
        batch_year=2022,
        user=office,
        entered_on=D(2021, 10, 1),
        planned_start=D(2022, 3, 1),
        planned_finish=D(2022, 12, 20),
    )


def walk(project, user, *steps):
    for status, on in steps:
        project_transition(project=project, to_status=status, user=user, on=on)
    project.refresh_from_db()
    return project


def test_new_project_enters_the_pipeline_with_a_recorded_transition(project, office):
    assert project.status == ProjectStatus.PIPELINE
    assert project.willingness_confirmed_by == office
    transition = project.transitions.get()
    assert (transition.from_status, transition.to_status) == ("", ProjectStatus.PIPELINE)
    assert transition.effective_on == D(2021, 10, 1)
    assert project.households_benefited == project.compound.households


def test_compound_without_passed_willingness_survey_stays_out_of_the_pipeline(registry, office):
    compound = CompoundFactory(community=registry["a1"])
    with pytest.raises(ValidationError) as error:
        project_create(compound=compound, batch_year=2022, user=office)
    assert "willingness survey" in str(error.value)
    assert not RenovationProject.objects.exists()


@pytest.mark.parametrize(
    ("agree", "disagree", "not_reached", "closed", "enters"),
    [
        (40, 20, 0, True, True),  # exactly two thirds of 60 households
        (39, 21, 0, True, False),  # one short
        (39, 0, 0, True, False),  # unanswered households do not count as consent
        (30, 0, 30, True, False),  # nor do households not reached
        (60, 0, 0, False, False),  # an open survey has not passed yet
    ],
)
def test_willingness_gate_reads_the_latest_closed_survey(
    registry, office, agree, disagree, not_reached, closed, enters
):
    compound = CompoundFactory(community=registry["a1"], households=60)
    willingness_survey(
        compound, agree=agree, disagree=disagree, not_reached=not_reached, closed=closed
    )
    if enters:
        assert project_create(compound=compound, batch_year=2022, user=office)
    else:
        with pytest.raises(ValidationError, match="willingness survey"):
            project_create(compound=compound, batch_year=2022, user=office)
        assert not RenovationProject.objects.exists()


def test_willingness_threshold_comes_from_settings(registry, office, settings):
    from fractions import Fraction

    settings.WILLINGNESS_THRESHOLD = Fraction(3, 4)
    compound = CompoundFactory(community=registry["a1"], households=60)
    willingness_survey(compound, agree=44, disagree=16)
    with pytest.raises(ValidationError, match="willingness survey"):
        project_create(compound=compound, batch_year=2022, user=office)
    settings.WILLINGNESS_THRESHOLD = Fraction(2, 3)
    assert project_create(compound=compound, batch_year=2022, user=office)


def test_one_project_per_compound_per_batch(project, office):
    with pytest.raises(ValidationError, match="one plan per compound"):
        project_create(compound=project.compound, batch_year=2022, user=office)
    # The database holds the rule too, for any write that bypasses the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        RenovationProject.objects.create(compound=project.compound, batch_year=2022, name="x")


def test_same_compound_may_return_in_another_batch(project, office):
    later = project_create(compound=project.compound, batch_year=2023, user=office)
    assert later.pk != project.pk


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("batch_year", {"batch_year": 1999}),
        ("planned_finish", {"planned_start": D(2022, 5, 1), "planned_finish": D(2022, 4, 1)}),
        ("budget", {"budget": -1}),
    ],
)
def test_project_create_rejects_bad_input(registry, office, field, kwargs):
    args = {"batch_year": 2022, **kwargs}
    with pytest.raises(ValidationError) as error:
        project_create(compound=registry["compounds"]["GY"], user=office, **args)
    assert field in error.value.error_dict
    assert not RenovationProject.objects.exists()


def test_buildings_must_belong_to_the_projects_compound(registry, office):
    other = BuildingFactory(compound=CompoundFactory(community=registry["a1"]))
    with pytest.raises(ValidationError) as error:
        project_create(
            compound=registry["compounds"]["GY"],
            batch_year=2022,
            user=office,
            buildings=[other],
        )
    assert "buildings" in error.value.error_dict


def test_forward_moves_set_the_matching_dates(project, office):
    walk(
        project,
        office,
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
        (ProjectStatus.COMPLETED, D(2022, 10, 10)),
        (ProjectStatus.ACCEPTED, D(2023, 1, 10)),
    )
    assert project.feasibility_on == D(2022, 1, 10)
    assert project.plan_approved_on == D(2022, 2, 10)
    assert project.actual_start == D(2022, 3, 10)
    assert project.actual_finish == D(2022, 10, 10)
    assert project.accepted_on == D(2023, 1, 10)
    assert project.transitions.count() == 6
    assert all(t.by == office for t in project.transitions.exclude(from_status=""))


def test_completion_records_full_progress(project, office):
    walk(
        project,
        office,
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
        (ProjectStatus.COMPLETED, D(2022, 10, 10)),
    )
    latest = project.progress_updates.order_by("-recorded_on").first()
    assert (latest.recorded_on, latest.percent) == (D(2022, 10, 10), 100)


@pytest.mark.parametrize(
    "target",
    [ProjectStatus.PLAN_APPROVED, ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.ACCEPTED],
)
def test_skipping_a_step_is_refused_with_the_next_step_named(project, office, target):
    with pytest.raises(ValidationError) as error:
        project_transition(project=project, to_status=target, user=office, on=D(2022, 1, 1))
    assert "one step at a time" in str(error.value)
    assert "feasibility study" in str(error.value)
    project.refresh_from_db()
    assert project.status == ProjectStatus.PIPELINE
    assert project.transitions.count() == 1


def test_moving_to_the_same_status_is_refused(project, office):
    with pytest.raises(ValidationError, match="already"):
        project_transition(project=project, to_status=ProjectStatus.PIPELINE, user=office)


def test_unknown_status_is_refused(project, office):
    with pytest.raises(ValidationError, match="Unknown status"):
        project_transition(project=project, to_status="demolished", user=office)


def test_step_back_needs_a_reason(project, office):
    walk(
        project,
        office,
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
    )
    with pytest.raises(ValidationError) as error:
        project_transition(
            project=project, to_status=ProjectStatus.FEASIBILITY, user=office, reason="  "
        )
    assert "reason" in error.value.error_dict
    project.refresh_from_db()
    assert project.status == ProjectStatus.PLAN_APPROVED


def test_step_back_with_reason_clears_the_dates_undone(project, office):
    walk(
        project,
        office,
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
    )
    project_transition(
        project=project,
        to_status=ProjectStatus.FEASIBILITY,
        user=office,
        on=D(2022, 4, 1),
        reason="居民对排水方案有异议，方案退回重编",
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.FEASIBILITY
    assert project.plan_approved_on is None and project.actual_start is None
    back = project.transitions.order_by("-pk").first()
    assert back.reason == "居民对排水方案有异议，方案退回重编"


def test_transition_date_cannot_precede_the_previous_one(project, office):
    with pytest.raises(ValidationError, match="previous status change"):
        project_transition(
            project=project, to_status=ProjectStatus.FEASIBILITY, user=office, on=D(2021, 9, 1)
        )


def test_transition_date_cannot_be_in_the_future(project, office):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError, match="later than today"):
        project_transition(
            project=project, to_status=ProjectStatus.FEASIBILITY, user=office, on=tomorrow
        )


def test_allowed_transitions_are_next_step_and_earlier_ones(project, office):
    assert allowed_transitions(project) == [ProjectStatus.FEASIBILITY]
    walk(project, office, (ProjectStatus.FEASIBILITY, D(2022, 1, 10)))
    assert allowed_transitions(project) == [ProjectStatus.PLAN_APPROVED, ProjectStatus.PIPELINE]


def test_database_refuses_a_status_without_its_date(project):
    project.status = ProjectStatus.UNDER_CONSTRUCTION
    project.plan_approved_on = D(2022, 2, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        project.save()


def test_delayed_means_planned_finish_passed_and_not_completed(project, office):
    assert project.is_delayed(as_of=D(2023, 1, 1))
    assert not project.is_delayed(as_of=D(2022, 12, 1))
    assert list(RenovationProject.objects.delayed(as_of=D(2023, 1, 1))) == [project]
    walk(
        project,
        office,
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
        (ProjectStatus.COMPLETED, D(2022, 12, 30)),
    )
    assert not project.is_delayed(as_of=D(2023, 1, 1))
    assert not RenovationProject.objects.delayed(as_of=D(2023, 1, 1)).exists()


@pytest.fixture
def building_project(project, office):
    return walk(
        project,
        office,
        (ProjectStatus.FEASIBILITY, D(2022, 1, 10)),
        (ProjectStatus.PLAN_APPROVED, D(2022, 2, 10)),
        (ProjectStatus.UNDER_CONSTRUCTION, D(2022, 3, 10)),
    )


def test_progress_is_recorded_by_date_and_latest_wins(building_project, office):
    progress_record(project=building_project, percent=20, on=D(2022, 4, 30), user=office)
    progress_record(project=building_project, percent=45, on=D(2022, 5, 31), user=office)
    progress_record(project=building_project, percent=50, on=D(2022, 5, 31), user=office)
    updates = list(building_project.progress_updates.order_by("recorded_on"))
    assert [(u.recorded_on, u.percent) for u in updates] == [
        (D(2022, 4, 30), 20),
        (D(2022, 5, 31), 50),
    ]


@pytest.mark.parametrize("percent", [-1, 101, 50.5, True, "60"])
def test_progress_must_be_a_whole_percent(building_project, office, percent):
    with pytest.raises(ValidationError) as error:
        progress_record(project=building_project, percent=percent, on=D(2022, 4, 30), user=office)
    assert "percent" in error.value.error_dict
    assert not ProgressUpdate.objects.exists()


def test_lower_progress_needs_a_note(building_project, office):
    progress_record(project=building_project, percent=60, on=D(2022, 4, 30), user=office)
    with pytest.raises(ValidationError, match="say why"):
        progress_record(project=building_project, percent=40, on=D(2022, 5, 31), user=office)
    progress_record(
        project=building_project, percent=40, on=D(2022, 5, 31), user=office, note="返工"
    )
    assert building_project.progress_updates.count() == 2


def test_project_without_approved_plan_cannot_report_progress(project, office):
    with pytest.raises(ValidationError, match="no approved plan"):
        progress_record(project=project, percent=10, on=D(2022, 1, 5), user=office)


def test_transitions_are_kept_with_who_and_when(building_project, office):
    rows = ProjectTransition.objects.filter(project=building_project).order_by("effective_on")
    assert [r.to_status for r in rows] == [
        ProjectStatus.PIPELINE,
        ProjectStatus.FEASIBILITY,
        ProjectStatus.PLAN_APPROVED,
        ProjectStatus.UNDER_CONSTRUCTION,
    ]
    assert all(r.created_at is not None for r in rows)

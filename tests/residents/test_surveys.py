import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from residents.models import Survey, SurveyAnswer
from residents.selectors import survey_consent, willingness_passed, willingness_rates
from residents.services import survey_answer_record, survey_close, survey_create
from tests.factories import BuildingFactory, CompoundFactory, ProjectFactory, willingness_survey

pytestmark = pytest.mark.usefixtures("english")
D = datetime.date
YES, NO, NOT_REACHED = SurveyAnswer.Answer


@pytest.fixture
def compound(registry):
    """One compound of 30 households: building 1 has 2 units of 10, building 2 one of 10."""
    compound = CompoundFactory(community=registry["a1"], households=30)
    BuildingFactory(compound=compound, number="1栋", units=2, households=20)
    BuildingFactory(compound=compound, number="2栋", units=1, households=10)
    return compound


@pytest.fixture
def survey(compound, users):
    return survey_create(
        compound=compound,
        kind=Survey.Kind.WILLINGNESS,
        user=users["grid_worker"],
        started_on=D(2021, 8, 1),
    )


def record(survey, building_number, unit, rooms, answer, user):
    building = survey.compound.buildings.get(number=building_number)
    for room in rooms:
        survey_answer_record(
            survey=survey,
            building=building,
            unit_number=unit,
            room=str(room),
            answer=answer,
            user=user,
            on=D(2021, 8, 10),
        )


def test_consent_per_compound_building_and_stairwell(survey, users):
    user = users["grid_worker"]
    record(survey, "1栋", 1, range(101, 111), YES, user)  # unit 1: 10 of 10 agree
    record(survey, "1栋", 2, range(201, 205), YES, user)  # unit 2: 4 agree,
    record(survey, "1栋", 2, range(205, 208), NO, user)  # 3 disagree,
    record(survey, "1栋", 2, range(208, 210), NOT_REACHED, user)  # 2 not reached, 1 unasked
    record(survey, "2栋", 1, range(101, 108), YES, user)  # 7 of 10 agree
    consent = survey_consent(survey)
    assert (consent.agree, consent.disagree, consent.not_reached, consent.base) == (21, 3, 2, 30)
    assert consent.percent == Decimal("70.00") and consent.passed
    first, second = consent.children
    assert (first.label, first.agree, first.base, first.percent) == (
        "1栋",
        14,
        20,
        Decimal("70.00"),
    )
    assert [(u.label, u.agree, u.base, u.passed) for u in first.children] == [
        ("1", 10, 10, True),
        ("2", 4, 10, False),  # the stairwell that holds the pipe stack up
    ]
    assert (second.agree, second.base, second.passed) == (7, 10, True)


def test_correcting_an_answer_replaces_it(survey, users):
    record(survey, "2栋", 1, [101], NO, users["grid_worker"])
    record(survey, "2栋", 1, [101], YES, users["grid_worker"])
    assert survey.answers.get().answer == YES


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"unit_number": 2}, "unit_number", "units 1 to 1"),
        ({"room": " "}, "room", "room number"),
        ({"room": "12345678901"}, "room", "at most 10"),
        ({"answer": "maybe"}, "answer", "agree, disagree or not reached"),
        ({"on": D(2021, 7, 1)}, "on", "before the survey started"),
    ],
)
def test_answer_rejects_bad_input(survey, users, changes, field, message):
    data = {
        "building": survey.compound.buildings.get(number="2栋"),
        "unit_number": 1,
        "room": "101",
        "answer": YES,
        "on": D(2021, 8, 2),
        **changes,
    }
    with pytest.raises(ValidationError) as error:
        survey_answer_record(survey=survey, user=users["grid_worker"], **data)
    assert field in error.value.error_dict and message in str(error.value)
    assert not SurveyAnswer.objects.exists()


def test_answer_building_must_be_in_the_compound(survey, users, registry):
    other = registry["compounds"]["GY"].buildings.first()
    with pytest.raises(ValidationError, match="not in the surveyed compound"):
        survey_answer_record(
            survey=survey,
            building=other,
            unit_number=1,
            room="101",
            answer=YES,
            user=users["grid_worker"],
        )


def test_closed_survey_takes_no_answers(survey, users):
    with pytest.raises(ValidationError, match="no answers"):
        survey_close(survey=survey, user=users["community_staff"])
    record(survey, "2栋", 1, [101], YES, users["grid_worker"])
    survey_close(survey=survey, user=users["community_staff"], on=D(2021, 9, 1))
    with pytest.raises(ValidationError, match="closed"):
        record(survey, "2栋", 1, [102], YES, users["grid_worker"])
    with pytest.raises(ValidationError, match="already closed"):
        survey_close(survey=survey, user=users["community_staff"])


def test_one_open_survey_per_kind(survey, compound, users):
    with pytest.raises(ValidationError, match="already has an open"):
        survey_create(compound=compound, kind=Survey.Kind.WILLINGNESS, user=users["grid_worker"])


def test_satisfaction_survey_needs_a_finished_project_of_the_compound(compound, users):
    project = ProjectFactory(compound=compound)
    with pytest.raises(ValidationError, match="follows completion"):
        survey_create(compound=compound, kind=Survey.Kind.SATISFACTION, project=project, user=None)
    with pytest.raises(ValidationError, match="project of the compound"):
        survey_create(compound=compound, kind=Survey.Kind.SATISFACTION, user=None)
    project.status = "accepted"
    project.plan_approved_on = project.actual_start = project.actual_finish = D(2021, 5, 1)
    project.accepted_on = D(2021, 9, 1)
    project.save()
    survey = survey_create(
        compound=compound, kind=Survey.Kind.SATISFACTION, project=project, user=None
    )
    assert survey.project == project


def test_willingness_passes_on_the_latest_closed_survey(compound):
    assert not willingness_passed(compound)
    willingness_survey(compound, agree=19, disagree=11)  # 63.3%
    assert not willingness_passed(compound)
    willingness_survey(compound, agree=20, disagree=10)  # exactly two thirds
    assert willingness_passed(compound)
    willingness_survey(compound, agree=30, closed=False)  # still open: does not count yet
    assert willingness_passed(compound)


def test_willingness_rates_for_many_compounds_in_two_queries(registry, django_assert_num_queries):
    compounds = [CompoundFactory(community=registry["a1"], households=30) for _ in range(5)]
    for index, compound in enumerate(compounds[:4]):
        willingness_survey(compound, agree=15 + 5 * index)
    from renovation.models import Compound

    with django_assert_num_queries(2):
        rates = willingness_rates(Compound.objects.filter(pk__in=[c.pk for c in compounds]))
    assert [rates[c.pk].passed if rates[c.pk] else None for c in compounds] == [
        False,
        True,
        True,
        True,
        None,  # 50%, exactly two thirds, 83%, 100%, no survey
    ]

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from renovation.models import (
    Building,
    Community,
    Compound,
    District,
    FundingSource,
    RenovationProject,
    StaffProfile,
    SubDistrict,
)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ["code"]

    name = "柳北区"
    code = "LB"


class SubDistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubDistrict

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"测试{n}街道")
    code = factory.Sequence(lambda n: f"SD{n:02d}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    sub_district = factory.SubFactory(SubDistrictFactory)
    name = factory.Sequence(lambda n: f"测试{n}社区")
    code = factory.Sequence(lambda n: f"C{n:03d}")


class CompoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Compound

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"测试{n}小区")
    code = factory.Sequence(lambda n: f"XQ{n:04d}")
    address = "柳北区测试路1号"
    build_year = 1990
    is_old = True
    households = 60


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    compound = factory.SubFactory(CompoundFactory)
    number = factory.Sequence(lambda n: f"{n + 1}栋")
    floors = 6
    units = 2
    households = 24


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("test-pass-123")


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project in the pipeline; move it on with the lifecycle service in the test."""

    class Meta:
        model = RenovationProject

    compound = factory.SubFactory(CompoundFactory)
    batch_year = 2022
    name = factory.LazyAttribute(lambda o: f"{o.compound.name}改造项目")
    households_benefited = 60
    budget = Decimal("1000000.00")


class FundingSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingSource

    kind = FundingSource.Kind.CENTRAL_FISCAL
    year = 2022
    name = "中央财政补助资金"
    document_number = factory.Sequence(lambda n: f"桂财建〔2022〕{n + 1}号")
    amount = Decimal("100.00")


def willingness_survey(
    compound, *, agree: int, disagree: int = 0, not_reached: int = 0, closed: bool = True
):
    """A willingness survey of `compound` with the given answers, spread over its buildings
    and stairwell units (a building is added when the compound has none)."""
    import datetime

    from renovation.models import Building
    from residents.models import Survey, SurveyAnswer

    buildings = list(Building.objects.filter(compound=compound).order_by("number"))
    if not buildings:
        buildings = [BuildingFactory(compound=compound, households=compound.households)]
    survey = Survey.objects.create(
        compound=compound,
        kind=Survey.Kind.WILLINGNESS,
        status=Survey.Status.CLOSED if closed else Survey.Status.OPEN,
        started_on=datetime.date(2021, 8, 1),
        closed_on=datetime.date(2021, 9, 1) if closed else None,
    )
    answers = (
        [SurveyAnswer.Answer.YES] * agree
        + [SurveyAnswer.Answer.NO] * disagree
        + [SurveyAnswer.Answer.NOT_REACHED] * not_reached
    )
    rows = []
    for index, answer in enumerate(answers):
        building = buildings[index % len(buildings)]
        rows.append(
            SurveyAnswer(
                survey=survey,
                building=building,
                unit_number=index // len(buildings) % building.units + 1,
                room=f"{index + 1:03d}",
                answer=answer,
                answered_on=datetime.date(2021, 8, 15),
            )
        )
    SurveyAnswer.objects.bulk_create(rows)
    return survey


def passed_willingness_survey(compound):
    """A closed willingness survey in which every household of `compound` agreed."""
    return willingness_survey(compound, agree=compound.households)

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from renovation.access import scope_queryset
from renovation.demo import DEMO_USERS
from renovation.models import Building, Compound


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; load_demo is for local use only
    call_command("load_demo", stdout=open("/dev/null", "w"))


def test_demo_reproduces_the_articles_registry(demo):
    assert Compound.objects.count() == 482
    assert Compound.objects.filter(is_old=True).count() == 310
    assert Building.objects.filter(compound__isnull=False).count() >= 482


def test_demo_old_compounds_follow_the_national_rule(demo):
    assert not Compound.objects.filter(is_old=True, build_year__gt=2000).exists()


def test_load_demo_twice_changes_nothing(demo):
    before = (Compound.objects.count(), Building.objects.count())
    call_command("load_demo", stdout=open("/dev/null", "w"))
    assert (Compound.objects.count(), Building.objects.count()) == before


def test_load_demo_reset_starts_over(demo):
    Compound.objects.filter(is_old=False).first().delete()
    call_command("load_demo", "--reset", stdout=open("/dev/null", "w"))
    assert Compound.objects.count() == 482


@override_settings(DEBUG=False)
def test_load_demo_refuses_in_production(db):
    with pytest.raises(CommandError, match="DJANGO_DEBUG=0"):
        call_command("load_demo")
    assert not Compound.objects.exists()


def test_each_demo_user_sees_exactly_its_scope(demo, django_user_model):
    everyone = Compound.objects.count()
    yaru = Compound.objects.filter(community__sub_district__code="YR").count()
    guangyue = Compound.objects.filter(community__code="GY").count()
    expected = {"yaru": yaru, "guangyue": guangyue, "grid": guangyue}
    for spec in DEMO_USERS:
        user = django_user_model.objects.get(username=spec.username)
        seen = scope_queryset(user, Compound.objects.all())
        assert seen.count() == expected.get(spec.username, everyone), spec.username
        assert user.check_password("xinsheng-demo")
    assert 0 < guangyue < yaru < everyone

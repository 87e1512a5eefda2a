"""Every model names an object that is not complete yet: the admin names the object it is
saving in its log entry and messages, and the history of a deleted row names a version
whose related rows may be gone too. A name that follows a relation not set (or no longer
there) answered 500."""

import pytest
from django.apps import apps

from renovation.models import FundingAllocation
from tests.factories import FundingSourceFactory, ProjectFactory

APPS = ["renovation", "residents", "partycells"]
MODELS = [model for app in APPS for model in apps.get_app_config(app).get_models()]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_an_empty_object_has_a_name(model):
    assert isinstance(str(model()), str)


def test_a_version_whose_related_row_is_gone_has_a_name(registry, users):
    """A deleted allocation's history names its project even after the project is gone."""
    from renovation.services import allocation_create

    project = ProjectFactory(compound=registry["compounds"]["GY"])
    allocation = allocation_create(
        source=FundingSourceFactory(amount=1000),
        project=project,
        amount="10",
        on=project.created_at.date(),
        user=users["finance"],
    )
    pk = allocation.pk
    allocation.delete()
    project.delete()
    version = FundingAllocation.history.filter(id=pk).latest().instance
    assert "10" in str(version)

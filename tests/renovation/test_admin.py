import pytest
from django.urls import reverse

from renovation.models import Compound


def changelist(model="compound"):
    return reverse(f"admin:renovation_{model}_changelist")


def change(obj):
    return reverse(f"admin:renovation_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("programme_office", 200),
        ("finance", 200),
        ("leader", 200),
        ("sub_district_staff", 200),
        ("community_staff", 200),
        ("no_role", 403),
    ],
)
def test_compound_changelist_by_role(client, users, role, status):
    client.force_login(users[role])
    assert client.get(changelist()).status_code == status


def test_grid_worker_has_no_admin(client, users):
    client.force_login(users["grid_worker"])
    response = client.get(changelist())
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_admin_changelist_is_scoped(client, users):
    client.force_login(users["sub_district_staff"])
    response = client.get(changelist())
    codes = {c.community.code for c in response.context["cl"].result_list}
    assert codes == {"GY", "BQ"}


@pytest.mark.parametrize("role", ["community_staff", "sub_district_staff"])
def test_admin_object_outside_area_gives_404(client, users, registry, role):
    client.force_login(users[role])
    other = registry["compounds"]["JN"]
    assert client.get(change(other)).status_code == 404
    assert client.get(change(other.buildings.first())).status_code == 404


def test_leader_can_view_but_not_change(client, users, registry):
    client.force_login(users["leader"])
    compound = registry["compounds"]["GY"]
    response = client.get(change(compound))
    assert response.status_code == 200
    response = client.post(change(compound), {"name": "改名"})
    assert response.status_code == 403
    compound.refresh_from_db()
    assert compound.name != "改名"


def test_sub_district_staff_cannot_move_a_compound_out_of_their_area(client, users, registry):
    client.force_login(users["sub_district_staff"])
    compound = registry["compounds"]["GY"]
    data = {
        "community": registry["b1"].pk,
        "name": compound.name,
        "code": compound.code,
        "build_year": 1990,
        "is_old": "on",
        "origin": "regular",
        "households": 60,
        "property_management": "none",
        "buildings-TOTAL_FORMS": 0,
        "buildings-INITIAL_FORMS": 0,
    }
    response = client.post(change(compound), data)
    assert response.status_code == 200
    assert "community" in response.context["adminform"].form.errors
    compound.refresh_from_db()
    assert compound.community == registry["a1"]


def test_admin_changelist_counts_buildings_without_a_query_per_row(
    client, users, registry, django_assert_max_num_queries
):
    from tests.factories import BuildingFactory, CompoundFactory

    client.force_login(users["programme_office"])
    with django_assert_max_num_queries(20) as few:
        client.get(changelist())
    for _ in range(25):
        BuildingFactory.create_batch(3, compound=CompoundFactory(community=registry["b1"]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(changelist())
    rows = list(response.context["cl"].result_list)
    assert len(rows) == 28
    assert max(row.building_count for row in rows) == 3


def test_admin_autocomplete_of_communities_is_scoped(client, users):
    client.force_login(users["sub_district_staff"])
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "renovation", "model_name": "compound", "field_name": "community"},
    )
    assert response.status_code == 200
    names = {item["text"] for item in response.json()["results"]}
    assert names == {"雅儒街道 广跃社区", "雅儒街道 北雀社区"}


def test_old_compound_must_be_built_by_2000(registry):
    from django.db import IntegrityError, transaction

    compound = registry["compounds"]["GY"]
    compound.build_year = 2005
    with pytest.raises(IntegrityError), transaction.atomic():
        compound.save()
    assert Compound.objects.get(pk=compound.pk).build_year == 1990

import pytest
from django.template import Context, Template
from django.urls import reverse

from residents.models import ResidentRequest
from residents.phones import mask_phone
from residents.selectors import shown_phone

FULL, MASKED = "13812345678", "138****5678"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("0772-1234567", "077****4567"), ("", ""), ("123", "****")],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("grid_worker", FULL),  # logged it
        ("community_staff", FULL),  # staff of that community
        ("sub_district_staff", MASKED),
        ("programme_office", MASKED),
        ("leader", MASKED),
        ("finance", MASKED),
    ],
)
def test_phone_is_masked_except_for_community_staff_and_the_logger(
    users, make_request, role, shown
):
    request = make_request()
    assert shown_phone(users[role], request) == shown


def test_another_grid_worker_of_the_community_sees_it_masked(make_request, make_user, registry):
    colleague = make_user("grid_worker", community=registry["a1"], username="grid2")
    assert shown_phone(colleague, make_request()) == MASKED


def test_staff_of_another_community_see_it_masked(make_request, make_user, registry):
    other_staff = make_user("community_staff", community=registry["b1"], username="jn-staff")
    assert shown_phone(other_staff, make_request()) == MASKED


def test_template_filter_uses_the_same_rule(users, make_request):
    request = make_request()
    template = Template("{% load residents %}{{ req|phone_for:user }}")
    for role, shown in [("community_staff", FULL), ("leader", MASKED)]:
        assert template.render(Context({"req": request, "user": users[role]})) == shown


def test_pages_mask_the_phone_by_role(client, users, make_request):
    request = make_request()
    for role, shown, hidden in [
        ("community_staff", FULL, None),
        ("sub_district_staff", MASKED, FULL),
        ("leader", MASKED, FULL),
    ]:
        client.force_login(users[role])
        for url in [reverse("request-list"), reverse("request-detail", args=[request.pk])]:
            page = client.get(url).content.decode()
            assert shown in page, (role, url)
            if hidden:
                assert hidden not in page, (role, url)


def test_export_masks_the_phone_by_role(client, users, make_request):
    make_request()
    client.force_login(users["sub_district_staff"])
    body = client.get(reverse("request-export")).content.decode("utf-8-sig")
    assert MASKED in body and FULL not in body
    client.force_login(users["community_staff"])
    assert FULL in client.get(reverse("request-export")).content.decode("utf-8-sig")


def test_admin_list_masks_the_phone_without_a_query_per_row(
    client, users, make_request, django_assert_max_num_queries
):
    make_request()
    client.force_login(users["sub_district_staff"])
    url = reverse("admin:residents_residentrequest_changelist")
    with django_assert_max_num_queries(30) as few:
        page = client.get(url).content.decode()
    assert MASKED in page and FULL not in page
    for _ in range(15):
        make_request()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
    client.force_login(users["community_staff"])
    assert FULL in client.get(url).content.decode()


def test_admin_detail_masks_the_phone(client, users, make_request):
    request = make_request()
    client.force_login(users["leader"])
    page = client.get(
        reverse("admin:residents_residentrequest_change", args=[request.pk])
    ).content.decode()
    assert MASKED in page and FULL not in page


def test_no_id_card_numbers_are_stored():
    names = {f.name for f in ResidentRequest._meta.get_fields()}
    assert not any("id_card" in n or "identity" in n for n in names)

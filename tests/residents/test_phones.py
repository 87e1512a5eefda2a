"""One spelling per phone number: whatever way a number is typed (full-width digits from a
Chinese keyboard, +86 or 0086, spaces, dashes, dots, brackets), every form, service and the
public form's daily limit see the same 11 digits, and anything else is refused clearly."""

import importlib

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from renovation.models import StaffProfile
from renovation.phones import normalise_phone
from residents.forms import PublicWishForm, RequestForm
from residents.models import ResidentRequest
from residents.services import compound_page_get_or_create

NUMBER = "13912345678"
SPELLINGS = [
    "13912345678",
    "13９12345678",  # one full-width digit, as a Chinese keyboard gives it
    "１３９１２３４５６７８",
    "+86 139 1234 5678",
    "+86-139-1234-5678",
    "＋８６１３９１２３４５６７８",
    "0086 13912345678",
    "8613912345678",
    "139-1234-5678",
    "139.1234.5678",
    "(139) 1234 5678",
    "（139）1234-5678",
    "139\u30001234\u30005678",  # ideographic spaces
    " 13912345678 ",
]
REFUSED = [
    "1391234567",  # 10 digits
    "139123456789",  # 12 digits
    "12912345678",  # no mainland mobile starts 12
    "23912345678",
    "0772-1234567",  # a landline
    "+1 415 555 0123",
    "+8513912345678",
    "١٣٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits are digits to Python's \d, not to a phone
    "13912345678x",
    "139 1234 5678 ext 2",
    "phone",
    "1" * 200,
]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("typed", SPELLINGS)
def test_every_spelling_of_a_number_is_stored_as_its_11_digits(make_request, typed):
    assert make_request(contact_phone=typed).contact_phone == NUMBER


@pytest.mark.parametrize("typed", REFUSED)
def test_a_number_that_is_not_a_mainland_mobile_is_refused_in_chinese(make_request, typed):
    with pytest.raises(ValidationError) as error:
        make_request(contact_phone=typed)
    assert set(error.value.error_dict) == {"contact_phone"}
    assert not ResidentRequest.objects.exists()


def test_the_refusal_says_what_a_number_looks_like(make_request, english):
    with pytest.raises(ValidationError, match="11-digit mainland mobile number"):
        make_request(contact_phone="0772-1234567")


@pytest.mark.parametrize("typed", ["", "   ", "\u3000"])
def test_no_number_is_no_number(make_request, typed):
    assert make_request(contact_phone=typed).contact_phone == ""


def test_both_forms_give_the_11_digits(gy, registry):
    building = gy.buildings.first()
    public = PublicWishForm(
        {"description": "装充电桩", "contact_phone": "＋86 139-1234-5678"},
        buildings=gy.buildings.all(),
    )
    assert public.is_valid(), public.errors
    assert public.cleaned_data["contact_phone"] == NUMBER
    logged = RequestForm(
        {
            "kind": "wish",
            "compound": gy.pk,
            "building": building.pk,
            "description": "屋面漏水",
            "contact_phone": "13９ 1234 5678",
            "channel": "door_to_door",
            "category": "",
        },
        compounds=type(gy).objects.all(),
        buildings=type(building).objects.all(),
    )
    assert logged.is_valid(), logged.errors
    assert logged.cleaned_data["contact_phone"] == NUMBER
    for form_class, data in [
        (PublicWishForm, {"description": "装充电桩", "contact_phone": "0772-1234567"}),
    ]:
        form = form_class(data, buildings=gy.buildings.all())
        assert not form.is_valid() and "contact_phone" in form.errors


def _wish(phone: str) -> dict:
    return {"description": "希望在楼下装充电桩。", "contact_phone": phone, "website": ""}


def test_every_spelling_counts_as_the_same_number_against_the_daily_limit(client, gy, settings):
    settings.RESIDENTS_PUBLIC_PER_PHONE_PER_DAY = 1
    url = reverse("public-compound", args=[compound_page_get_or_create(compound=gy).token])
    first = client.post(url, _wish(NUMBER), REMOTE_ADDR="10.0.0.1")
    assert first.status_code == 302
    for index, typed in enumerate(SPELLINGS[1:], start=2):
        response = client.post(url, _wish(typed), REMOTE_ADDR=f"10.0.0.{index}")
        assert response.status_code == 429, typed
    assert ResidentRequest.objects.count() == 1


def test_the_staff_profile_form_gives_the_11_digits(client, registry, make_user):
    """A staff member's own phone, kept on the profile by the superuser."""
    admin_user = make_user(None, username="root", is_superuser=True, is_staff=True)
    staff = make_user("community_staff", community=registry["a1"], username="wang")
    client.force_login(admin_user)
    url = reverse("admin:auth_user_change", args=[staff.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data |= {
        "username": staff.username,
        "date_joined_0": "2024-01-01",
        "date_joined_1": "08:00:00",
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "1",
        "staff_profile-MIN_NUM_FORMS": "0",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-id": staff.staff_profile.pk,
        "staff_profile-0-user": staff.pk,
        "staff_profile-0-role": "community_staff",
        "staff_profile-0-community": registry["a1"].pk,
        "staff_profile-0-phone": "+86 139 1234 5678",
    }
    data.pop("groups", None)
    data.pop("user_permissions", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    assert StaffProfile.objects.get(user=staff).phone == NUMBER
    data["staff_profile-0-phone"] = "0772-123"
    assert client.post(url, data).status_code == 200
    assert StaffProfile.objects.get(user=staff).phone == NUMBER


# --- Numbers stored before, in other spellings ----------------------------------------


def test_the_migration_rewrites_stored_numbers_it_can_read_and_leaves_the_rest(
    make_request, registry, make_user
):
    migration = importlib.import_module("residents.migrations.0007_phones_as_11_digits")
    typed = {
        "13９12345678": NUMBER,
        "+86 138 1234 5678": "13812345678",
        "0086-137-1234-5678": "13712345678",
        "13612345678": "13612345678",
        "0772-1234567": "0772-1234567",  # a landline: no 11 digits to give, left as it was
        "": "",
    }
    requests = {}
    for raw in typed:
        request = make_request()
        ResidentRequest.objects.filter(pk=request.pk).update(contact_phone=raw)
        requests[raw] = request.pk
    staff = make_user("community_staff", community=registry["a1"], username="li")
    StaffProfile.objects.filter(user=staff).update(phone="１３５ 1234 5678")

    migration.normalise_stored_phones(apps, None)

    for raw, expected in typed.items():
        assert ResidentRequest.objects.get(pk=requests[raw]).contact_phone == expected
    assert StaffProfile.objects.get(user=staff).phone == "13512345678"
    assert normalise_phone(NUMBER) == NUMBER

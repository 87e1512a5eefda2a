"""A masked phone number cannot be recovered through the admin's lookups.

Someone who sees 131****0078 could ask the admin list for `?contact_phone__startswith=1311`,
then 13112, … and have the whole number back in about 50 requests, or confirm a guess with
`?contact_phone=<guess>` in one. Each attack below is asked twice, with a guess that is
right and one that is wrong: for every person who sees the number masked, the two answers
are the same (refused), so nothing is learned. The person who sees the number in full (the
community's staff) can still find the request by it.

The admin lists are found, not listed: every registered admin whose model reaches a phone
field (directly or through a relation) is attacked on every path to it."""

from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.core.cache import cache
from django.urls import reverse

from renovation.models import StaffProfile
from residents.models import ResidentRequest
from tests.world import build_world

NUMBER = "13112340078"  # the target, shown masked as 131****0078
OTHER = "13812345678"  # every other request's number
# (lookup suffix, a right guess, a wrong guess): none of the wrong guesses matches a number
# in the world, each right one matches the target.
ATTACKS = [
    ("", NUMBER, "13512340078"),
    ("__exact", NUMBER, "13512340078"),
    ("__iexact", NUMBER, "13512340078"),
    ("__startswith", "1311", "1351"),
    ("__istartswith", "13112", "13512"),
    ("__contains", "1234007", "9999"),
    ("__icontains", "2340078", "9999"),
    ("__endswith", "0078", "9999"),
    ("__regex", "^1311", "^1351"),
    ("__iregex", "^13112", "^13512"),
    ("__gt", "13112340077", "13112340078"),
    ("__gte", "13112340078", "13112340079"),
    ("__lt", "13112340079", "13112340078"),
    ("__lte", "13112340078", "13112340077"),
    ("__range", "13112340070,13112340080", "13500000000,13599999999"),
    ("__in", NUMBER, "13512340078"),
]
SEARCHES = [(NUMBER, "13512340078"), ("1311234", "1351234"), ("0078", "9999")]


@pytest.fixture
def world(registry, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    built = build_world(registry, users, tmp_path)
    ResidentRequest.objects.update(contact_phone=OTHER)
    target = built.a.objects["residents.residentrequest"]  # 广跃社区, logged by its grid worker
    ResidentRequest.objects.filter(pk=target.pk).update(contact_phone=NUMBER)
    StaffProfile.objects.update(phone=OTHER)
    StaffProfile.objects.filter(user=users["community_staff"]).update(phone=NUMBER)
    return built


@pytest.fixture
def people(users, make_user):
    return {**users, "superuser": make_user(None, username="root", is_superuser=True)}


def _phone_paths(model, depth: int = 2, seen=()) -> list[str]:
    """Lookup paths from `model` to every phone field, through forward relations and
    reverse one-to-ones, up to `depth` relations away."""
    paths = []
    for field in model._meta.get_fields():
        if not field.is_relation and "phone" in field.name:
            paths.append(field.name)
        elif field.is_relation and depth and field.related_model not in (None, *seen):
            forward = field.concrete or field.one_to_one
            if forward and not field.many_to_many:
                name = field.name if field.concrete else field.get_accessor_name()
                for rest in _phone_paths(field.related_model, depth - 1, (*seen, model)):
                    paths.append(f"{name}__{rest}")
    return paths


def _admins_with_phones() -> list[tuple[str, list[str]]]:
    found = []
    for model in apps.get_models():
        try:
            admin.site.get_model_admin(model)
        except NotRegistered:
            continue
        paths = _phone_paths(model)
        if paths:
            opts = model._meta
            found.append((reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), paths))
    return found


def _outcome(response) -> tuple:
    """What a person can read from an answer: its status, where it sends them, and the rows
    (for an admin list) or the text (for a page)."""
    context = response.context or {}
    if response.status_code == 200 and "cl" in context:
        shown = tuple(obj.pk for obj in context["cl"].result_list)
    elif response.status_code == 200 and "summary" in context:  # the requests' page
        shown = (repr(context["summary"]), len(context["page"].object_list))
    elif response.status_code == 200:  # the CSV export
        shown = response.content
    else:
        shown = None
    # A redirect to the login page carries the guess back in ?next=: where it sends, not
    # the guess, is what the answer says.
    location = response.get("Location")
    if location:
        location = urlsplit(location).path + ("?e=1" if "e=1" in location else "")
    return response.status_code, location, shown


def _ask(client, url, params):
    return _outcome(client.get(url, params))


def test_the_world_reaches_phones_from_several_admins():
    """The sweep below covers what it should: the requests, their logs, what the party
    cells link to requests, and the staff profiles."""
    urls = dict(_admins_with_phones())
    assert "contact_phone" in urls[reverse("admin:residents_residentrequest_changelist")]
    assert "request__contact_phone" in urls[reverse("admin:residents_requestlog_changelist")]
    assert any("partycells" in url for url in urls)
    assert "staff_profile__phone" in urls[reverse("admin:auth_user_changelist")]


@pytest.mark.parametrize(
    "role",
    [
        "programme_office",
        "finance",
        "organisation",
        "publicity",
        "leader",
        "sub_district_staff",
        "community_staff",
        "grid_worker",
        "no_role",
        "superuser",
    ],
)
def test_a_masked_number_cannot_be_recovered_with_lookups(client, world, people, role):
    client.force_login(people[role])
    pages = [(url, paths) for url, paths in _admins_with_phones() if "auth/user" not in url] + [
        (reverse("request-list"), ["contact_phone", "request__contact_phone"]),
        (reverse("request-export"), ["contact_phone"]),
    ]
    learned = []
    for url, paths in pages:
        for path in paths:
            for suffix, right, wrong in ATTACKS:
                parameter = f"{path}{suffix}"
                answers = (
                    _ask(client, url, {parameter: right}),
                    _ask(client, url, {parameter: wrong}),
                )
                if answers[0] != answers[1]:
                    learned.append(f"{url}?{parameter}")
        for right, wrong in SEARCHES:
            if _ask(client, url, {"q": right}) != _ask(client, url, {"q": wrong}):
                learned.append(f"{url}?q=")
    if role == "community_staff":
        # Staff of the community see the number in full, and may find it: the sweep should
        # have told the right guess from the wrong one on the request list.
        assert any("residentrequest" in place for place in learned), learned
    else:
        assert learned == [], learned


def test_a_refused_lookup_answers_400_and_lists_nothing(client, world, people):
    client.force_login(people["sub_district_staff"])
    url = reverse("admin:residents_residentrequest_changelist")
    response = client.get(url, {"contact_phone__startswith": "1311"})
    assert response.status_code == 400
    assert b"0078" not in response.content


@pytest.mark.parametrize("role", ["programme_office", "leader", "sub_district_staff", "superuser"])
def test_sorting_the_admin_list_says_nothing_of_the_numbers(client, world, people, role):
    """Swap two requests' numbers: whichever column the list is sorted by (?o=), the rows
    come in the same order, so no order follows the numbers."""
    client.force_login(people[role])
    url = reverse("admin:residents_residentrequest_changelist")
    a = world.a.objects["residents.residentrequest"]
    b = world.a.objects["errand"]

    def orders():
        found = {}
        for index in range(15):
            for sign in ("", "-"):
                response = client.get(url, {"o": f"{sign}{index}"})
                rows = [obj.pk for obj in response.context["cl"].result_list]
                found[f"{sign}{index}"] = [pk for pk in rows if pk in (a.pk, b.pk)]
        return found

    ResidentRequest.objects.filter(pk=a.pk).update(contact_phone="13000000001")
    ResidentRequest.objects.filter(pk=b.pk).update(contact_phone="13999999999")
    before = orders()
    ResidentRequest.objects.filter(pk=a.pk).update(contact_phone="13999999999")
    ResidentRequest.objects.filter(pk=b.pk).update(contact_phone="13000000001")
    assert orders() == before


def test_community_staff_find_a_request_by_its_number(client, world, people):
    client.force_login(people["community_staff"])
    url = reverse("admin:residents_residentrequest_changelist")
    target = world.a.objects["residents.residentrequest"].pk
    for params in [
        {"q": NUMBER},
        {"q": "1311234"},
        {"contact_phone": NUMBER},
        {"contact_phone__startswith": "131"},
    ]:
        response = client.get(url, params)
        assert response.status_code == 200, params
        assert [obj.pk for obj in response.context["cl"].result_list] == [target], params
    response = client.get(url, {"q": "13512340078"})
    assert list(response.context["cl"].result_list) == []

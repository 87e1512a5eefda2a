"""Every admin add form a role may use saves valid data: posted as that role, the row exists
and the admin answers with its redirect, never a 500 or a form error.

The admin's registry is walked at run time, so a new admin with an add form fails here until
VALID below says what a valid entry of it looks like."""

import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.forms import BooleanField, MultiWidget
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from partycells.models import MemberRole, UnitKind, VolunteerMember, VolunteerTeam
from renovation.admin import NOT_SAVED
from renovation.models import Building, Compound, ItemCategory
from tests.factories import CompoundFactory, ProjectFactory
from tests.threads import (
    logged_in,
    open_in_thread,
    post_in_thread,
    wait_until_a_request_waits_for_a_lock,
)
from tests.world import build_world

# Roles that work in the admin (tests.conftest.users); grid workers and staff without a role
# have no admin.
ADMIN_USERS = [
    "programme_office",
    "finance",
    "organisation",
    "publicity",
    "leader",
    "sub_district_staff",
    "community_staff",
]
# Add pages that hand over to a page of the programme's own (its rules, its form).
ADDED_ON_PAGES = {"renovation.renovationproject": "project-create"}
TODAY = timezone.localdate
D = datetime.date


@pytest.fixture
def world(registry, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    built = build_world(registry, users, tmp_path)
    # Community A's compound has its public page already: a second one without a page.
    built.a.objects["compound without page"] = CompoundFactory(
        community=registry["a1"], name="广跃社区二号院"
    )
    # And a project of sub-district A without a branch yet (北雀社区).
    built.a.objects["project without branch"] = ProjectFactory(compound=registry["compounds"]["BQ"])
    return built


def _team_data(world):
    return {
        "branch": world.a.objects["partycells.temporarybranch"].pk,
        "kind": VolunteerTeam.Kind.values[-1],
        "name": "新的志愿队",
        "founded_on": "2022-03-01",
    }


# Model label → the fields of a valid new row in community A (广跃社区), where the local
# users sit; the rest of the form keeps its initial values.
VALID = {
    "renovation.district": lambda w: {"name": "鱼峰区", "code": "YF"},
    "renovation.subdistrict": lambda w: {
        "district": w.shared["renovation.district"].pk,
        "name": "新街道",
        "code": "XJ",
    },
    "renovation.community": lambda w: {
        "sub_district": w.a.sub_district.pk,
        "name": "新社区",
        "code": "XS",
    },
    "renovation.compound": lambda w: {
        "community": w and w.a.community.pk,
        "name": "新小区",
        "code": "XQ-NEW",
        "address": "柳北区新路1号",
        "build_year": 1995,
        "is_old": "on",
        "origin": "regular",
        "households": 40,
        "property_management": "none",
    },
    "renovation.building": lambda w: {
        "compound": w.a.compound.pk,
        "number": "9栋",
        "floors": 6,
        "units": 2,
        "households": 24,
    },
    "renovation.itemcategory": lambda w: {
        "code": "new-category",
        "name": "新类别",
        "item_class": ItemCategory.objects.first().item_class,
        "default_unit": ItemCategory.objects.first().default_unit,
    },
    "renovation.projectitem": lambda w: {
        "project": w.a.objects["renovation.renovationproject"].pk,
        "category": ItemCategory.objects.order_by("pk").last().pk,
        "description": "屋面防水",
        "quantity": "120",
        "unit": ItemCategory.objects.order_by("pk").last().default_unit,
        "budget": "50000.00",
    },
    "renovation.fundingsource": lambda w: {
        "kind": "district_matching",
        "year": 2022,
        "name": "城区配套资金",
        "document_number": "柳北财〔2022〕8号",
        "amount": "200000.00",
        "received_on": "2022-03-01",
    },
    "renovation.fundingallocation": lambda w: {
        "source": w.shared["renovation.fundingsource"].pk,
        "project": w.a.objects["renovation.renovationproject"].pk,
        "amount": "50000.00",
        "allocated_on": "2022-04-01",
    },
    "renovation.disbursement": lambda w: {
        "allocation": w.a.objects["renovation.fundingallocation"].pk,
        "amount": "20000.00",
        "paid_on": "2022-04-02",
        "voucher": "记-2022-0402",
    },
    "residents.servicehours": lambda w: {
        "community": w.a.community.pk,
        "weekday": 4,
        "opens_at": "14:00",
        "closes_at": "17:00",
        "place": "社区服务站",
    },
    "residents.serviceslot": lambda w: {
        "community": w.a.community.pk,
        "starts_at_0": (TODAY() + datetime.timedelta(days=10)).isoformat(),
        "starts_at_1": "09:00",
        "ends_at_0": (TODAY() + datetime.timedelta(days=10)).isoformat(),
        "ends_at_1": "10:00",
        "place": "社区服务站",
    },
    "residents.compoundpage": lambda w: {"compound": w.a.objects["compound without page"].pk},
    "partycells.department": lambda w: {"name": "柳北区民政局", "short_name": "区民政局"},
    "partycells.temporarybranch": lambda w: {
        "name": "北雀社区一号院临时党支部",
        "community": w.a.objects["project without branch"].compound.community_id,
        "projects": [w.a.objects["project without branch"].pk],
        "founded_on": "2022-03-01",
    },
    "partycells.branchmember": lambda w: {
        "branch": w.a.objects["partycells.temporarybranch"].pk,
        "name": "张委员",
        "unit_kind": UnitKind.COMMUNITY,
        "unit_name": "广跃社区党委",
        "role": MemberRole.MEMBER,
        "joined_on": "2022-03-01",
    },
    "partycells.buildinggroup": lambda w: {
        "branch": w.a.objects["partycells.temporarybranch"].pk,
        "building": Building.objects.filter(compound=w.a.compound)
        .exclude(pk=w.a.building.pk)
        .first()
        .pk,
        "founded_on": "2022-03-01",
    },
    "partycells.volunteerteam": _team_data,
    "partycells.volunteermember": lambda w: {
        "team": w.a.objects["partycells.volunteerteam"].pk,
        "name": "赵阿姨",
        "kind": VolunteerMember.Kind.values[-1],
    },
}


def _posted(value) -> object:
    """A form's initial value as the browser would post it."""
    if isinstance(value, (list, tuple)):
        return [getattr(v, "pk", v) for v in value]
    return getattr(value, "pk", value)


def form_data(response, valid: dict) -> dict:
    """What a person posts: the form's initial values, the entry in `valid`, and each
    inline's management form with no rows."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if value is None:
            continue  # an empty field posts nothing (a multiple choice) or ""
        if isinstance(field, BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(field.widget, MultiWidget):  # a date and a time
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = part.isoformat()
        else:
            data[name] = _posted(value)
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = 0
        data[f"{prefix}-INITIAL_FORMS"] = 0
    for name, value in valid.items():
        if isinstance(form.fields.get(name), BooleanField) and not value:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def add_forms(client):
    """(model, add URL, GET response) of every registered admin whose add page the logged
    in user may open."""
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        except NoReverseMatch:
            continue
        yield model, url, client.get(url)


@pytest.mark.parametrize("role", ADMIN_USERS)
def test_every_admin_add_form_saves_valid_data(client, users, world, role):
    client.force_login(users[role])
    client.raise_request_exception = False  # a 500 is reported with the others below
    posted, problems = [], []
    for model, url, page in add_forms(client):
        label = model._meta.label_lower
        if page.status_code == 403:
            continue
        if page.status_code == 302:
            target = ADDED_ON_PAGES.get(label)
            if target is None or page["Location"] != reverse(target):
                problems.append(f"{label}: the add page sends to {page['Location']}")
            continue
        assert page.status_code == 200, f"{label}: GET answered {page.status_code}"
        if label not in VALID:
            problems.append(f"{label}: say in VALID what a valid new row is")
            continue
        before = set(model._default_manager.values_list("pk", flat=True))
        response = client.post(url, form_data(page, VALID[label](world)))
        posted.append(label)
        if response.status_code != 302:
            errors = ""
            if response.status_code == 200 and "adminform" in response.context:
                errors = response.context["adminform"].form.errors.as_text()
            problems.append(f"{label}: POST answered {response.status_code} {errors}")
            continue
        assert "login" not in response["Location"], label
        added = set(model._default_manager.values_list("pk", flat=True)) - before
        if len(added) != 1:
            problems.append(f"{label}: {len(added)} rows added, not one")
    assert not problems, "\n".join(problems)
    # Each role that keeps something in the admin reached at least one form.
    if role not in ("leader",):
        assert posted, f"{role} found no add form"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="locks need PostgreSQL (CI runs it)")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_saved_meanwhile_with_the_same_code_gives_a_form_error(registry, users):
    """Two people add the same compound at once: the form finds no such code yet, the
    database refuses the second row, and that refusal comes back on the form."""
    community = registry["a1"]
    _first, commit_first = open_in_thread(
        lambda: CompoundFactory(community=community, name="工人新村", code="GRXC")
    )
    data = {
        **VALID["renovation.compound"](None),
        "community": community.pk,
        "name": "工人新村",
        "code": "GRXC",
        "buildings-TOTAL_FORMS": 0,
        "buildings-INITIAL_FORMS": 0,
    }
    client = logged_in(users["programme_office"])
    response = post_in_thread(client, reverse("admin:renovation_compound_add"), data)
    wait_until_a_request_waits_for_a_lock()
    commit_first()

    second = response()
    assert second.status_code == 200
    form = second.context["adminform"].form
    with translation.override("zh-hans"):  # the page's language
        errors = list(form.non_field_errors())
        assert str(NOT_SAVED) in errors
    assert len(errors) > 1  # and now the form itself finds the compound taken
    assert Compound.objects.filter(code="GRXC").count() == 1
    assert not [str(m) for m in second.context["messages"]]


def test_an_admin_action_refused_for_one_row_says_so_and_does_the_others(client, users, registry):
    from residents.models import Survey
    from tests.factories import willingness_survey

    answered = willingness_survey(registry["compounds"]["GY"], agree=3, closed=False)
    unanswered = willingness_survey(registry["compounds"]["BQ"], agree=0, closed=False)
    client.force_login(users["sub_district_staff"])  # GY and BQ lie in sub-district A
    url = reverse("admin:residents_survey_changelist")
    data = {"action": "close_surveys", "_selected_action": [answered.pk, unanswered.pk]}
    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    statuses = dict(Survey.objects.values_list("pk", "status"))
    assert statuses == {answered.pk: Survey.Status.CLOSED, unanswered.pk: Survey.Status.OPEN}
    [message] = response.context["messages"]
    assert str(unanswered) in str(message)


def change_data(response) -> dict:
    """What a person posts who saves a change page without changing anything: the main
    form's and every inline row's values as shown."""
    data = form_data(response, {})
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        count = formset.initial_form_count()
        data[f"{formset.prefix}-TOTAL_FORMS"] = count
        data[f"{formset.prefix}-INITIAL_FORMS"] = count
        for form in formset.forms[:count]:
            for name, field in form.fields.items():
                value = form.get_initial_for_field(field, name)
                if value is None or (isinstance(field, BooleanField) and not value):
                    continue
                key = form.add_prefix(name)
                data[key] = "on" if isinstance(field, BooleanField) else _posted(value)
    return data


@pytest.mark.parametrize("role", ADMIN_USERS)
def test_every_admin_change_form_saves_a_row_posted_back_unchanged(client, users, world, role):
    client.force_login(users[role])
    client.raise_request_exception = False  # a 500 is reported with the others below
    saved, problems = [], []
    for model in apps.get_models():
        label = model._meta.label_lower
        if not admin.site.is_registered(model) or not model.__module__.startswith(
            ("renovation", "residents", "partycells")
        ):
            continue
        row = world.get(label, "a") if label in world.shared or label in world.a.objects else None
        if row is None:
            continue
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[row.pk]
        )
        page = client.get(url)
        if page.status_code != 200 or not page.context.get("has_change_permission"):
            continue
        response = client.post(url, change_data(page))
        saved.append(label)
        if response.status_code != 302:
            errors = ""
            if response.status_code == 200 and "adminform" in response.context:
                errors = response.context["adminform"].form.errors.as_text()
                for inline in response.context["inline_admin_formsets"]:
                    errors += str(inline.formset.errors) + str(inline.formset.non_form_errors())
            problems.append(f"{label}: POST answered {response.status_code} {errors}")
    assert not problems, "\n".join(problems)
    # Each role that keeps something in the admin reached at least one form.
    if role != "leader":
        assert saved, f"{role} found no change form"

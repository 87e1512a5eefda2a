import datetime

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from residents.models import Channel, CompoundPage, ResidentRequest
from residents.services import compound_page_get_or_create, compound_page_renew_token
from tests.factories import ProjectFactory

D = datetime.date


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def page(gy):
    return compound_page_get_or_create(compound=gy)


def url(page):
    return reverse("public-compound", args=[page.token])


def wish(**changes):
    return {
        "description": "希望在楼下装充电桩。",
        "category": "",
        "building": "",
        "unit_number": "",
        "room": "",
        "contact_name": "张女士",
        "contact_phone": "13712345678",
        "website": "",
        **changes,
    }


def test_page_shows_plan_items_and_progress_without_personal_data(client, page, make_request, gy):
    from renovation.models import ItemCategory
    from renovation.services import progress_record, project_transition

    project = ProjectFactory(compound=gy, plan="屋面防水和道路改造")
    category = ItemCategory.objects.get(code="roads")
    project.items.create(category=category, quantity=800, unit="m2")
    project_transition(project=project, to_status="feasibility", user=None, on=D(2022, 1, 5))
    project_transition(project=project, to_status="plan_approved", user=None, on=D(2022, 2, 5))
    progress_record(
        project=project, percent=35, on=D(2022, 5, 31), user=None, note="道路已铺设一半"
    )
    make_request(contact_name="王阿姨", contact_phone="13812345678", description="我家漏水严重")
    response = client.get(url(page))
    body = response.content.decode()
    assert response.status_code == 200
    for shown in ["屋面防水和道路改造", "道路", "35%", "道路已铺设一半"]:
        assert shown in body
    for hidden in ["王阿姨", "13812345678", "138****5678", "我家漏水严重"]:
        assert hidden not in body


def test_wish_lands_in_the_community_queue_unverified(client, page, gy):
    response = client.post(url(page), wish())
    assert response.status_code == 302
    assert response.url == reverse("public-compound-thanks", args=[page.token])
    made = ResidentRequest.objects.get()
    assert (made.compound, made.channel, made.is_verified, made.logged_by) == (
        gy,
        Channel.ONLINE,
        False,
        None,
    )
    thanks = client.get(response.url).content.decode()
    assert "13712345678" not in thanks and "张女士" not in thanks


@pytest.mark.parametrize(
    ("changes", "chinese"),
    [
        ({"description": ""}, "此项为必填项"),
        ({"description": "长" * 501}, "500"),
        ({"contact_phone": ""}, "此项为必填项"),
        ({"contact_phone": "1234567"}, "请输入大陆手机号"),
        ({"contact_phone": "138123456789"}, "请输入大陆手机号"),
        ({"contact_name": "名" * 31}, "30"),
        ({"room": "1" * 11}, "10"),
        ({"unit_number": "99"}, "50"),
    ],
)
def test_bad_input_is_refused_with_chinese_errors(client, page, changes, chinese):
    response = client.post(url(page), wish(**changes))
    assert response.status_code == 200
    assert chinese in response.content.decode()
    assert not ResidentRequest.objects.exists()


def test_a_building_of_another_compound_is_refused(client, page, registry):
    other = registry["compounds"]["JN"].buildings.first()
    response = client.post(url(page), wish(building=other.pk))
    assert response.status_code == 200
    assert not ResidentRequest.objects.exists()


def test_unknown_or_revoked_token_is_404(client, page):
    assert client.get(reverse("public-compound", args=["no-such-token"])).status_code == 404
    assert (
        client.post(reverse("public-compound", args=["no-such-token"]), wish()).status_code == 404
    )
    old = page.token
    compound_page_renew_token(page=page)
    assert client.get(reverse("public-compound", args=[old])).status_code == 404
    CompoundPage.objects.filter(pk=page.pk).update(is_active=False)
    page.refresh_from_db()
    assert client.get(url(page)).status_code == 404
    assert not ResidentRequest.objects.exists()


def test_token_is_not_the_compound_id(page, gy):
    assert len(page.token) >= 20 and str(gy.pk) != page.token


def test_script_tags_are_shown_escaped(client, page, staff):
    attack = '<script>alert("x")</script>'
    response = client.post(url(page), wish(description=attack, contact_name=attack[:30]))
    assert response.status_code == 302
    client.force_login(staff)
    made = ResidentRequest.objects.get()
    for target in [reverse("request-detail", args=[made.pk]), reverse("request-list")]:
        body = client.get(target).content.decode()
        assert attack not in body and "&lt;script&gt;" in body
    # And on the public page itself when the form comes back with an error.
    client.logout()
    body = client.post(url(page), wish(description=attack, contact_phone="x")).content.decode()
    assert attack not in body and "&lt;script&gt;" in body


def test_csrf_is_enforced(page):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url(page), wish()).status_code == 403
    assert not ResidentRequest.objects.exists()


def test_rate_limit_per_address(client, page, settings):
    settings.RESIDENTS_PUBLIC_PER_ADDRESS_PER_HOUR = 2
    for number in ("13700000001", "13700000002"):
        assert client.post(url(page), wish(contact_phone=number)).status_code == 302
    response = client.post(url(page), wish(contact_phone="13700000003"))
    assert response.status_code == 429
    assert "该网络提交的意愿过多" in response.content.decode()
    assert ResidentRequest.objects.count() == 2
    # Another address is not held back.
    other = client.post(url(page), wish(contact_phone="13700000004"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_rate_limit_per_phone(client, page, settings):
    settings.RESIDENTS_PUBLIC_PER_PHONE_PER_DAY = 1
    assert client.post(url(page), wish(), REMOTE_ADDR="10.0.0.1").status_code == 302
    response = client.post(url(page), wish(), REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429
    assert "该号码今天已提交1条意愿" in response.content.decode()
    assert ResidentRequest.objects.count() == 1


def test_robots_filling_the_hidden_field_are_ignored(client, page):
    response = client.post(url(page), wish(website="http://spam.example"))
    assert response.status_code == 302
    assert not ResidentRequest.objects.exists()


def test_nothing_of_anyones_request_can_be_read_back(client, page, make_request):
    request = make_request()
    # The staff pages need a login; the public page has no address that takes a request id.
    response = client.get(reverse("request-detail", args=[request.pk]))
    assert response.status_code == 302 and "login" in response.url
    assert client.get(reverse("request-export")).status_code == 302


def test_admin_prints_a_qr_code_for_the_page(client, users, page, registry):
    client.force_login(users["community_staff"])
    response = client.get(reverse("admin:residents_compoundpage_qr", args=[page.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "<svg" in body and page.token in body
    other = compound_page_get_or_create(compound=registry["compounds"]["JN"])
    assert (
        client.get(reverse("admin:residents_compoundpage_qr", args=[other.pk])).status_code == 404
    )

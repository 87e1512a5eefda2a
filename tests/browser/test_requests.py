"""Residents' requests in a real browser: a grid worker logs a wish on a phone, community
staff accept it into the compound's demand list, and a resident leaves one on the public
compound page."""

import pytest
from playwright.sync_api import expect

from renovation.models import ItemCategory
from residents.models import Channel, RequestKind, RequestStatus, ResidentRequest
from residents.services import compound_page_get_or_create, demand_list_create, request_create

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_WIDTH = 375


@pytest.fixture
def gy(registry):
    return registry["compounds"]["GY"]


@pytest.fixture
def category():
    """An item of the catalogue. The migrations bring it, but the transactional tests that
    ran before may have emptied every table, so it is made again when missing."""
    category, _ = ItemCategory.objects.update_or_create(
        code="lighting",
        defaults={
            "name": "公共照明",
            "item_class": ItemCategory.ItemClass.BASIC,
            "default_unit": ItemCategory.Unit.SET,
            "is_active": True,
        },
    )
    return category


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_grid_worker_logs_a_wish_on_a_phone_and_finds_it_in_my_requests(
    open_page, log_in, users, gy, category
):
    building = gy.buildings.order_by("number").first()
    page = open_page(phone=True)
    log_in(page, users["grid_worker"])

    page.get_by_role("link", name="居民诉求").first.click()
    page.get_by_role("link", name="登记诉求").first.click()
    expect(page.get_by_role("heading", name="登记诉求")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH
    page.locator("#id_kind").select_option(RequestKind.WISH.value)
    page.locator("#id_compound").select_option(str(gy.pk))
    page.locator("#id_building").select_option(str(building.pk))
    page.locator("#id_room").fill("302")
    page.locator("#id_category").select_option(str(category.pk))
    page.locator("#id_description").fill("楼道太暗，希望加装声控灯。")
    page.locator("#id_contact_name").fill("王阿姨")
    page.locator("#id_contact_phone").fill("138 1234 5678")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已登记")

    page.locator("nav.subnav").get_by_role("link", name="居民诉求").click()
    expect(page.get_by_role("heading", name="我登记的诉求")).to_be_visible()
    card = page.locator("li.request", has_text="楼道太暗，希望加装声控灯。")
    expect(card).to_contain_text(gy.name)
    expect(card).to_contain_text(category.name)
    assert scroll_width(page) <= PHONE_WIDTH
    logged = ResidentRequest.objects.get()
    assert (logged.kind, logged.logged_by, logged.building, logged.contact_phone) == (
        RequestKind.WISH,
        users["grid_worker"],
        building,
        "13812345678",
    )


def test_community_staff_accept_a_wish_into_the_compounds_demand_list(
    open_page, log_in, users, gy, category
):
    wish = request_create(
        user=users["grid_worker"],
        kind=RequestKind.WISH,
        channel=Channel.DOOR_TO_DOOR,
        compound=gy,
        building=gy.buildings.order_by("number").first(),
        room="302",
        category=category,
        description="楼道太暗，希望加装声控灯。",
        contact_name="王阿姨",
        contact_phone="13812345678",
    )
    demand_list = demand_list_create(compound=gy, user=users["community_staff"])
    page = open_page()
    log_in(page, users["community_staff"])

    page.get_by_role("link", name="居民诉求").first.click()
    page.locator("li.request", has_text="楼道太暗").get_by_role("link").click()
    transition = page.locator("form[action$='/transition/']")
    for status in (RequestStatus.UNDER_REVIEW, RequestStatus.ACCEPTED):
        transition.locator("#id_to_status").select_option(status.value)
        transition.get_by_role("button", name="保存").click()
        expect(page.locator(f".tag.status-{status.value}")).to_be_visible()
        expect(page.locator(".messages")).to_contain_text("已保存")
    wish.refresh_from_db()
    assert wish.status == RequestStatus.ACCEPTED

    page.locator("nav.subnav").get_by_role("link", name="需求清单").click()
    page.get_by_role("link", name=gy.name).click()
    expect(page).to_have_url(f"/residents/demand-lists/{demand_list.pk}/")
    line = page.locator("tbody tr", has_text=category.name)
    expect(line.locator("td.num")).to_have_text(["1", "1"])  # households, wishes


def test_resident_leaves_a_wish_on_the_public_page_and_staff_see_it_unverified(
    open_page, log_in, users, gy, category
):
    public_page = compound_page_get_or_create(compound=gy)
    building = gy.buildings.order_by("number").first()
    resident = open_page(phone=True)
    resident.goto(f"/c/{public_page.token}/")
    expect(resident.get_by_role("heading", name="留下意愿")).to_be_visible()
    assert scroll_width(resident) <= PHONE_WIDTH
    resident.locator("#id_description").fill("希望院里加装充电桩。")
    resident.locator("#id_category").select_option(str(category.pk))
    resident.locator("#id_building").select_option(str(building.pk))
    resident.locator("#id_room").fill("501")
    resident.locator("#id_contact_name").fill("李师傅")
    resident.locator("#id_contact_phone").fill("13912345678")
    resident.get_by_role("button", name="提交").click()
    expect(resident.get_by_role("heading", name="谢谢您")).to_be_visible()

    staff = open_page()
    log_in(staff, users["community_staff"])
    staff.get_by_role("link", name="居民诉求").first.click()
    card = staff.locator("li.request", has_text="希望院里加装充电桩。")
    expect(card).to_contain_text("线上提交，未核实")
    expect(card.locator("p.muted")).to_contain_text("线上")  # the channel
    wish = ResidentRequest.objects.get()
    assert (wish.channel, wish.is_verified, wish.logged_by) == (Channel.ONLINE, False, None)

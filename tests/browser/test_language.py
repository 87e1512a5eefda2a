"""The language switch in the menu: Chinese by default even for an English browser,
English when chosen, and back."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def switch_language(page: Page, menu_label: str, language: str) -> None:
    # The menu submits itself from site.js, which is deferred: wait until it has run.
    page.wait_for_load_state("load")
    page.get_by_role("combobox", name=menu_label).select_option(language)


def test_menu_switches_the_interface_to_english_and_back_to_chinese(open_page, log_in, users):
    page = open_page()  # the browser asks for English
    log_in(page, users["community_staff"])
    page.get_by_role("link", name="居民诉求").first.click()
    expect(page).to_have_url("/residents/")
    expect(page.get_by_role("heading", name="居民诉求", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    switch_language(page, "语言", "en")
    expect(page.get_by_role("heading", name="Residents' requests", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url("/residents/")

    switch_language(page, "Language", "zh-hans")
    expect(page.get_by_role("heading", name="居民诉求", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

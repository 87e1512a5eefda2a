"""The pages people reach when something stands in their way: 403 (also a refused form),
404, 500 and the lockout page. Each is the site's own page, in Chinese unless English was
chosen, with the menu and the phone viewport; none says "Forbidden" or "PT30M"."""

import datetime

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import path, reverse
from django.utils import translation

from config.urls import urlpatterns as site_urlpatterns

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def failing_view(request):
    raise RuntimeError("a bug in a page")


# The site's own URLs plus one page that fails, for the 500 tests (@pytest.mark.urls).
urlpatterns = [path("failing/", failing_view), *site_urlpatterns]


def in_english(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def assert_site_page_with_menu(page: str) -> None:
    assert VIEWPORT in page
    assert '<header class="site-header">' in page
    assert f'href="{reverse("project-list")}"' in page  # the menu of a logged-in person
    assert f'action="{reverse("logout")}"' in page


def test_leader_logging_a_request_gets_the_site_page_saying_not_allowed(client, users):
    client.force_login(users["leader"])
    response = client.get(reverse("request-create"))
    assert response.status_code == 403
    page = response.content.decode()
    assert_site_page_with_menu(page)
    assert "改造项目" in page  # the menu, in Chinese
    assert "您无权打开此页面" in page
    assert "请联系改造办调整角色" in page
    assert "Forbidden" not in page


def test_not_allowed_page_is_english_when_english_was_chosen(client, users):
    client.force_login(users["leader"])
    in_english(client)
    response = client.get(reverse("request-create"))
    assert response.status_code == 403
    page = response.content.decode()
    assert_site_page_with_menu(page)
    assert "You may not open this page" in page
    assert "ask the programme office to change your role" in page


def test_admin_refusal_is_the_site_page_too(client, users):
    # The leader reads everything but may not import the registry.
    client.force_login(users["leader"])
    response = client.get(reverse("admin:renovation_compound_import"))
    assert response.status_code == 403
    assert "您无权打开此页面" in response.content.decode()


def test_missing_page_is_the_site_page_in_chinese(client, users):
    client.force_login(users["programme_office"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert_site_page_with_menu(page)
    assert "页面不存在" in page
    assert f'href="{reverse("home")}"' in page
    assert "Not Found" not in page


def test_missing_page_is_english_when_english_was_chosen(client, users):
    client.force_login(users["programme_office"])
    in_english(client)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert_site_page_with_menu(page)
    assert "Page not found" in page


@pytest.mark.urls(__name__)
def test_failing_page_answers_the_styled_server_error_page_without_the_database():
    # No `db` fixture: any query while the page is shown would fail this test.
    client = Client(raise_request_exception=False)
    response = client.get("/failing/")
    assert response.status_code == 500
    page = response.content.decode()
    assert VIEWPORT in page
    assert '<header class="site-header">' in page
    assert "<style>" in page
    assert '<html lang="zh-hans">' in page
    assert "系统出错了" in page
    assert "a bug in a page" not in page


@pytest.mark.urls(__name__)
def test_server_error_page_is_english_when_english_was_chosen():
    client = Client(raise_request_exception=False)
    in_english(client)
    response = client.get("/failing/")
    assert response.status_code == 500
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Something went wrong on our side" in page


def test_server_error_page_renders_from_an_empty_context():
    # As django.views.defaults.server_error renders it: no request, no context processors.
    from django.template import loader

    page = loader.get_template("500.html").render()
    assert VIEWPORT in page
    assert 'href="/"' in page


def test_refused_form_is_the_site_page_in_chinese(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["programme_office"])
    response = client.post(reverse("logout"))  # no CSRF token
    assert response.status_code == 403
    page = response.content.decode()
    assert_site_page_with_menu(page)
    assert "表单未能提交" in page
    assert "请返回、刷新页面后重新提交" in page


def test_refused_form_is_english_when_english_was_chosen(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["programme_office"])
    in_english(client)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    assert "The form could not be sent" in response.content.decode()


def lock_out(client: Client) -> str:
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "office", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(
        login, {"username": "office", "password": "test-pass-123"}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    return response.content.decode()


def test_lockout_page_says_the_wait_in_minutes(client, users):
    page = lock_out(client)
    assert VIEWPORT in page
    assert "请在 30 分钟后再试" in page
    assert "PT30M" not in page


def test_lockout_page_says_hours_and_minutes_in_english(client, users, settings):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=90)
    in_english(client)
    page = lock_out(client)
    assert "Try again in 1 hour 30 minutes" in page
    assert "PT1H30M" not in page


@pytest.mark.parametrize(
    ("wait", "chinese", "english"),
    [
        (datetime.timedelta(minutes=30), "30 分钟", "30 minutes"),
        (datetime.timedelta(minutes=1), "1 分钟", "1 minute"),
        (datetime.timedelta(seconds=20), "1 分钟", "1 minute"),
        (datetime.timedelta(minutes=60), "1 小时", "1 hour"),
        (datetime.timedelta(minutes=90), "1 小时 30 分钟", "1 hour 30 minutes"),
        (datetime.timedelta(hours=2, minutes=1), "2 小时 1 分钟", "2 hours 1 minute"),
    ],
)
def test_duration_says_a_wait_in_words(wait, chinese, english):
    template = Template("{% load xinsheng %}{{ wait|duration }}")
    with translation.override("zh-hans"):
        assert template.render(Context({"wait": wait})) == chinese
    with translation.override("en"):
        assert template.render(Context({"wait": wait})) == english

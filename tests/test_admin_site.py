"""The admin site (config/admin_site.py): no navigation sidebar, and the list of what the
user may open built only for the pages that show it."""

from django.contrib import admin
from django.contrib.admin.sites import AdminSite as DjangoAdminSite
from django.urls import reverse

from config.admin_site import AdminSite


def test_the_admin_site_is_ours():
    assert isinstance(admin.site, AdminSite)
    assert admin.site.enable_nav_sidebar is False


def test_a_list_page_neither_shows_nor_builds_the_model_list(client, users, monkeypatch):
    def fail(self, request, label=None):
        raise AssertionError("the model list was built")

    client.force_login(users["programme_office"])
    monkeypatch.setattr(DjangoAdminSite, "_build_app_dict", fail)
    response = client.get(reverse("admin:residents_residentrequest_changelist"))
    assert response.status_code == 200
    assert 'id="nav-sidebar"' not in response.content.decode()


def test_the_home_page_lists_what_the_user_may_open(client, users):
    client.force_login(users["programme_office"])
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:residents_residentrequest_changelist") in page
    assert reverse("admin:auth_group_changelist") not in page  # Django's permissions


def test_an_apps_page_lists_its_models_or_answers_404(client, users):
    client.force_login(users["programme_office"])
    response = client.get(reverse("admin:app_list", args=["residents"]))
    assert response.status_code == 200
    assert reverse("admin:residents_residentrequest_changelist") in response.content.decode()
    assert client.get(reverse("admin:app_list", args=["auth"])).status_code == 404

"""Settings are read from the environment, and every variable they read is documented."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import settings as project_settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_listed_in_env_example():
    source = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z_]+)"', source))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_bad_boolean_is_refused_clearly(monkeypatch, value):
    monkeypatch.setenv("DJANGO_DEBUG", value)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        project_settings.env_bool("DJANGO_DEBUG", True)


def test_defaults_are_chinese_and_shanghai():
    assert project_settings.LANGUAGE_CODE == "zh-hans"
    assert project_settings.TIME_ZONE == "Asia/Shanghai"
    assert ("en", "English") in project_settings.LANGUAGES


def test_each_request_reads_the_person_with_their_profile_in_one_query(client, users):
    """renovation.backends.ProfileModelBackend: the user of a request comes with the staff
    profile every permission check reads, so no page asks for it again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client.force_login(users["grid_worker"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("request-list"))
    assert response.status_code == 200
    profile_queries = [q["sql"] for q in captured if "renovation_staffprofile" in q["sql"]]
    assert len(profile_queries) == 1 and '"auth_user"' in profile_queries[0]


def test_a_person_without_a_profile_or_no_longer_active_gets_no_page(client, users):
    from django.urls import reverse

    client.force_login(users["no_role"])
    assert client.get(reverse("compound-list")).status_code == 403
    worker = users["grid_worker"]
    client.force_login(worker)
    worker.is_active = False
    worker.save()
    response = client.get(reverse("request-list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]

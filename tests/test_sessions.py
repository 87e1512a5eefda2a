"""Sessions: in the database, and read from the cache too when the cache is one every
process shares (CACHE_URL), never from a per-process one."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from config.settings import BASE_DIR


def _session_engine(**environment) -> str:
    """SESSION_ENGINE as the settings work it out in a fresh process with `environment`."""
    env = {key: value for key, value in os.environ.items() if key != "CACHE_URL"}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings")
    code = "from django.conf import settings; print(settings.SESSION_ENGINE)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_sessions_are_read_from_a_shared_cache_only():
    assert _session_engine() == "django.contrib.sessions.backends.db"
    shared = _session_engine(CACHE_URL="redis://127.0.0.1:6379/1")
    assert shared == "django.contrib.sessions.backends.cached_db"


@pytest.mark.django_db
def test_a_session_read_from_the_cache_spares_a_query_and_ends_at_logout(
    client, users, settings, django_assert_num_queries
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client.force_login(users["grid_worker"])
    url = reverse("request-create")
    client.get(url)
    with django_assert_num_queries(4):  # the page's own 5 but for the session
        assert client.get(url).status_code == 200
    client.post(reverse("logout"))
    assert client.get(url).status_code == 302  # to the login page: the session is gone

"""The cache may be lost: with the cache's Redis stopped or hung, logging in and every page
of the permission matrix still answer, quickly and as the matrix says, for every role.

The cache is configured exactly as config/settings.py configures it for a CACHE_URL (the
settings are read again with that variable), sessions included. "Stopped" is a port where
nothing listens, or a private redis-server shut down mid-test; "hung" is a private
redis-server stopped with SIGSTOP, which still accepts connections but never answers.
These tests need the redis-server program: without it they are skipped, except in CI
(CI=true), where a missing one fails."""

import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
from django.test import Client
from django.urls import reverse

from residents.models import ResidentRequest
from residents.services import compound_page_get_or_create
from tests.test_permission_matrix import RULES
from tests.urlwalk import ROLES, call, url_for, url_patterns
from tests.world import build_world

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "test-pass-123"  # tests.factories.UserFactory's
# The bar: each answer within two seconds, whatever the cache does.
BOUND = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _project_cache_settings(monkeypatch, url: str) -> dict:
    """CACHES and SESSION_ENGINE as config/settings.py works them out for CACHE_URL=url."""
    monkeypatch.setenv("CACHE_URL", url)
    read = runpy.run_path(str(ROOT / "config" / "settings.py"))
    names = ["CACHES", "SESSION_ENGINE", "SESSION_CACHE_ALIAS"]
    return {name: read[name] for name in names if name in read}


class RedisServer:
    """A private redis-server on a free port: no persistence, gone at the end of the test."""

    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                *["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"],
                *["--save", "", "--appendonly", "no", "--daemonize", "no"],
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def connections_received(self) -> int:
        return self.client.info("stats")["total_connections_received"]

    def hang(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.kill()
            self.process.wait(timeout=10)


def _redis_server_or_skip() -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI needs the redis-server program", pytrace=False)
        pytest.skip("needs the redis-server program")


@pytest.fixture
def redis_server():
    _redis_server_or_skip()
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def cache_at(settings, monkeypatch):
    """Point the cache (and the sessions) at a Redis URL, configured as the project does;
    pytest-django's settings fixture makes Django drop its cache connections."""

    def point(url: str) -> None:
        for name, value in _project_cache_settings(monkeypatch, url).items():
            setattr(settings, name, value)
        assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"

    return point


@pytest.fixture
def world(registry, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world(registry, users, tmp_path)


class Timed:
    """Every answer's wall time, and the pages that took longer than BOUND."""

    def __init__(self):
        self.slow: list[str] = []
        self.slowest = 0.0

    def __call__(self, what: str, ask, *args):
        started = time.monotonic()
        result = ask(*args)
        elapsed = time.monotonic() - started
        self.slowest = max(self.slowest, elapsed)
        if elapsed > BOUND:
            self.slow.append(f"{what}: {elapsed:.1f} s")
        return result


def log_in(client: Client, username: str, timed: Timed) -> str | None:
    """Log in through the login page; a problem with it, or None."""
    response = timed(
        f"log in as {username}",
        client.post,
        reverse("login"),
        {"username": username, "password": PASSWORD},
    )
    if response.status_code != 302 or response["Location"] != reverse("home"):
        return f"log in as {username}: {response.status_code} {response.get('Location', '')}"
    return None


# The POSTs of the matrix send empty forms, which read the cache as their GETs do, but for
# the public wish form's: its rate limit counts in the cache.
POSTED = {"public-compound"}


def walk_every_page(users, world, timed: Timed) -> list[str]:
    """Every role logs in through the login page, then asks for every page of the
    permission matrix (GET of community A's record, and the public form's POST); each
    answer must be the matrix's. The differences, as the matrix reports them."""
    failures = []
    for number, (role, key) in enumerate(ROLES.items()):
        # Each from an address of its own, as the permission matrix empties the cache
        # between roles: the public form's limit per address is counted for one role.
        client = Client(raise_request_exception=False, REMOTE_ADDR=f"10.0.0.{number + 1}")
        if key:
            problem = log_in(client, users[key].username, timed)
            if problem:
                failures.append(problem)
                continue
        for pattern in url_patterns():
            rule = RULES.get(pattern.key)
            if rule is None:
                continue  # the permission matrix reports it
            obj = world.get(rule.obj or pattern.model_label, "a") if pattern.has_id else None
            url = url_for(pattern, obj)
            for method in ["get"] + (["post"] if pattern.key in POSTED else []):
                answer = timed(f"{role} {method.upper()} {url}", call, client, method, url)
                expected = rule.outcome(method, role)
                if answer.outcome != expected:
                    failures.append(
                        f"{role} {method.upper()} {url}: expected {expected}, got "
                        f"{answer.outcome} {answer.detail}".rstrip()
                    )
    return failures


def test_every_page_answers_for_every_role_with_nothing_listening_at_the_cache(
    cache_at, users, world
):
    cache_at(f"redis://127.0.0.1:{_free_port()}/0")
    timed = Timed()
    failures = walk_every_page(users, world, timed)
    assert not failures + timed.slow, "\n".join(failures + timed.slow)


def test_every_page_answers_for_every_role_with_the_cache_hung(
    cache_at, redis_server, users, world
):
    """A hung Redis accepts connections and never answers: each cache call would wait for
    its timeout. The first failure marks the cache down for a while, so a page (and the
    whole walk) does not wait again on each call; Redis' own count of the connections it
    received while hung (taken in once it resumes) shows how often it was tried."""
    cache_at(redis_server.url)
    before = redis_server.connections_received()
    redis_server.hang()
    # A client that waits for ever would hold the test: Redis resumes after 20 s, so the
    # test fails on the time taken instead.
    guard = threading.Timer(20, redis_server.resume)
    guard.start()
    timed = Timed()
    started = time.monotonic()
    try:
        failures = walk_every_page(users, world, timed)
    finally:
        elapsed = time.monotonic() - started
        guard.cancel()
        redis_server.resume()
    assert not failures + timed.slow, "\n".join(failures + timed.slow)
    time.sleep(0.5)  # Redis takes in the connections waiting since it hung
    tried = redis_server.connections_received() - before
    # Once per interval (retry_after, five seconds) at most, with room to spare; a client
    # without the short circuit connects again for nearly every cache call.
    assert tried <= elapsed / 2 + 2, f"the hung cache was tried {tried} times in {elapsed:.0f} s"


def _shown(response) -> str:
    """A page's HTML without what changes on each request (the CSRF token)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


PAGES = {
    "programme_office": ["home", "dashboard", "project-list", "compound-list", "request-list"],
    "community_staff": ["request-list", "project-list"],
    "grid_worker": ["request-list", "request-create", "compound-list"],
}


def test_pages_stay_right_when_the_cache_stops_half_way(cache_at, redis_server, users, world):
    """Logged in and pages shown with Redis up (figures, lists, pieces of pages and the
    session copied into it); then Redis goes away: the same people are still logged in, the
    pages show the same, and a change made since shows at once."""
    cache_at(redis_server.url)
    clients, shown = {}, {}
    timed = Timed()
    for key, names in PAGES.items():
        clients[key] = Client(raise_request_exception=False)
        assert log_in(clients[key], users[key].username, timed) is None
        for name in names:
            response = clients[key].get(reverse(name))
            assert response.status_code == 200, (key, name)
            shown[key, name] = _shown(response)
    assert redis_server.client.dbsize() > 0  # the cache held the session and the pages

    redis_server.stop()
    for key, names in PAGES.items():
        for name in names:
            response = timed(f"{key} {name}", clients[key].get, reverse(name))
            assert response.status_code == 200, (key, name)
            assert _shown(response) == shown[key, name], (key, name)

    # A wish left on the public page with the cache gone: the rate limit lets it through
    # (it fails open) and the community's list shows it.
    page = compound_page_get_or_create(compound=world.a.objects["renovation.compound"])
    public = Client(raise_request_exception=False)
    wish = {
        "description": "缓存停了也要收到的心愿。",
        "category": "",
        "building": "",
        "unit_number": "",
        "room": "",
        "contact_name": "张女士",
        "contact_phone": "13712345678",
        "website": "",
    }
    response = timed(
        "public wish", public.post, reverse("public-compound", args=[page.token]), wish
    )
    assert response.status_code == 302, response.status_code
    assert ResidentRequest.objects.filter(description=wish["description"]).exists()
    response = clients["community_staff"].get(reverse("request-list"))
    assert response.status_code == 200 and wish["description"] in response.content.decode()
    # Logging out with the cache gone ends the session.
    clients["grid_worker"].post(reverse("logout"))
    response = clients["grid_worker"].get(reverse("request-list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not timed.slow, "answers slower than the bar:\n" + "\n".join(timed.slow)


def test_an_outage_is_logged_once_and_the_cache_is_used_again_when_it_answers(
    cache_at, settings, caplog
):
    """A stopped Redis is logged when it is first missed, not on every call; once it answers
    again (asked after the interval), values are kept in it again."""
    from django.core.cache import cache

    port = _free_port()
    cache_at(f"redis://127.0.0.1:{port}/0")
    settings.CACHES["default"]["OPTIONS"]["REDIS_CLIENT_KWARGS"] = {"retry_after": 0.5}
    settings.CACHES = settings.CACHES  # Django drops its cache connections
    caplog.set_level("WARNING", logger="config.redis_cache")
    for _ in range(3):
        cache.set("figure", 42)
        assert cache.get("figure") is None
        assert cache.add("figure", 1) is None and cache.incr("figure") is None
    logged = [r.getMessage() for r in caplog.records if "did not answer" in r.getMessage()]
    assert len(logged) == 1 and logged[0].startswith(f"The cache at 127.0.0.1:{port}/0 did")
    _redis_server_or_skip()
    server = RedisServer(port)
    try:
        time.sleep(0.6)
        cache.set("figure", 42)
        assert cache.get("figure") == 42
        assert any("answers again" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()


def test_a_session_copy_in_the_cache_outlives_its_last_write_by_five_minutes_at_most(
    cache_at, redis_server, users
):
    """A log-out while the cache cannot be reached deletes the session from the database
    only; a Redis that comes back with its data (a hung one that resumes) would otherwise
    let the old session in again until it expires, hours later."""
    cache_at(redis_server.url)
    client = Client()
    assert log_in(client, users["grid_worker"].username, Timed()) is None
    assert client.get(reverse("request-list")).status_code == 200
    copies = [key for key in redis_server.client.keys() if b"sessions" in key]
    assert copies, redis_server.client.keys()
    for key in copies:
        assert 0 < redis_server.client.ttl(key) <= 5 * 60

"""Walking every URL pattern of the project, for the permission matrix and the bad-input
sweep: which patterns exist, how to fill in their ids for a record of the test world, and
how to call one as a person and classify the answer."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib import admin
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Role → key of the `users` fixture (None: anonymous); the order of the table's columns.
ROLES = {
    "anon": None,
    "grid": "grid_worker",
    "community": "community_staff",
    "subdistrict": "sub_district_staff",
    "office": "programme_office",
    "finance": "finance",
    "organisation": "organisation",
    "publicity": "publicity",
    "leader": "leader",
    "norole": "no_role",
}
LOCAL_ROLES = {"grid", "community", "subdistrict"}

ALLOWED, LOGIN, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = ".", "L", "F", "N", "M"
OUTCOMES = {
    ALLOWED: "allowed",
    LOGIN: "login redirect",
    FORBIDDEN: "403",
    NOT_FOUND: "404",
    NOT_ALLOWED: "405",
}
# Tables the sweep may write while refusing a request: the session (messages, the last
# compound picked) is the browser's state, not the programme's.
HARMLESS_TABLES = {"django_session"}
WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class Pattern:
    key: str  # the URL name ("admin:" for the admin's), or the route for unnamed ones
    route: str  # the full route, for messages
    name: str | None
    model_label: str | None  # the ModelAdmin's model, for admin URLs of one model
    kind: str  # "page", or for admin URLs: changelist/add/change/delete/history/...
    has_id: bool


def _route(pattern) -> str:
    return str(pattern.pattern)


def _admin_model(route: str) -> str | None:
    """The "app.model" label of a ModelAdmin URL (admin/<app>/<model>/...)."""
    for model in admin.site._registry:
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if route.startswith(prefix):
            return model._meta.label_lower
    return None


def _admin_kind(route: str, name: str | None) -> str:
    if name is None:
        return "redirect" if route.endswith("<path:object_id>/") else "catch-all"
    short = name.split(":", 1)[1]
    for kind in ("simple_history", "changelist", "add", "change", "delete", "history"):
        if short.endswith(f"_{kind}"):
            return kind
    return short  # a custom admin view, named by its URL name


def url_patterns() -> list[Pattern]:
    """Every URL pattern of the project, admin included, found by walking the resolver."""
    found: list[Pattern] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, prefix + _route(entry), inner)
                continue
            assert isinstance(entry, URLPattern)
            route = prefix + _route(entry)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            is_admin = route.startswith("admin/")
            model_label = _admin_model(route) if is_admin else None
            kind = _admin_kind(route, name) if is_admin else "page"
            has_id = bool(re.search(r"<(\w+:)?(pk|object_id|id|token)>|\(\[\^/\]\+\)", route))
            found.append(Pattern(name or route, route, name, model_label, kind, has_id))

    walk(get_resolver(), "", None)
    return found


def admin_path_args(pattern: Pattern, obj) -> list:
    """Positional values for an admin URL of one record."""
    if pattern.kind == "simple_history":
        return [obj.pk, obj.history.latest().history_id]
    return [obj.pk]


def url_for(pattern: Pattern, obj=None) -> str:
    """The address of `pattern`, naming `obj` where the pattern takes an id."""
    if pattern.name is None:
        if pattern.kind == "catch-all":
            return "/admin/no-such-page/"
        return "/" + pattern.route.replace("<path:object_id>", str(obj.pk))
    if pattern.name == "admin:app_list":
        return reverse(pattern.name, kwargs={"app_label": "renovation"})
    if pattern.name == "admin:view_on_site":
        from django.contrib.contenttypes.models import ContentType

        return reverse(pattern.name, args=[ContentType.objects.get_for_model(obj).pk, obj.pk])
    if pattern.name == "admin:auth_user_password_change":
        return reverse(pattern.name, args=[obj.pk])
    if not pattern.has_id:
        return reverse(pattern.name)
    if pattern.model_label is not None:
        return reverse(pattern.name, args=admin_path_args(pattern, obj))
    if "<slug:token>" in pattern.route:
        return reverse(pattern.name, args=[obj.token])
    return reverse(pattern.name, args=[obj.pk])


def is_login(location: str) -> bool:
    return urlsplit(location).path in (reverse("login"), reverse("admin:login"))


def writes(queries) -> list[str]:
    """The tables written by the captured queries, apart from the session."""
    tables = []
    for query in queries:
        match = WRITE.match(query["sql"])
        if match and match.group(2) not in HARMLESS_TABLES:
            tables.append(match.group(2))
    return tables


@dataclass
class Answer:
    outcome: str  # one of OUTCOMES, or "500" / "exception" / "status NNN"
    status: int
    detail: str
    written: list[str]


def classify(response) -> tuple[str, str]:
    """The outcome of a response after its redirects, and where it went."""
    chain = [url for url, _status in getattr(response, "redirect_chain", [])]
    if any(urlsplit(url).netloc not in ("", "testserver") for url in chain):
        return "redirect off the site", " → ".join(chain)
    if any(is_login(url) for url in chain):
        return LOGIN, " → ".join(chain)
    status = response.status_code
    if response.get("Location") and is_login(response["Location"]):
        return LOGIN, response["Location"]
    if 200 <= status < 400:
        return ALLOWED, " → ".join(chain) or str(status)
    return {403: FORBIDDEN, 404: NOT_FOUND, 405: NOT_ALLOWED}.get(status, f"status {status}"), ""


def call(client, method: str, url: str, data=None, **extra) -> Answer:
    """Ask `url` and classify the answer; a POST is rolled back afterwards, so the world
    stays the same for the next request, and any table it wrote is reported."""
    with CaptureQueriesContext(connection) as queries:
        try:
            with transaction.atomic():
                if method == "get":
                    response = client.get(url, follow=True, **extra)
                else:
                    response = client.post(url, data or {}, follow=True, **extra)
                transaction.set_rollback(True)
        except Exception as error:  # a server error: report it with the others
            return Answer("exception", 500, f"{type(error).__name__}: {error}", [])
    if response.status_code >= 500:
        return Answer("500", response.status_code, "", writes(queries.captured_queries))
    outcome, detail = classify(response)
    return Answer(outcome, response.status_code, detail, writes(queries.captured_queries))

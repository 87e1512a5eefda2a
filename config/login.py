"""How django-axes names the person behind a sign-in attempt."""

from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The user name typed, cut to the 255 characters of axes' column: the login form does
    not limit its length, and a longer one answered 500 on PostgreSQL when the failure was
    recorded."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get("username")
    return username[:255] if isinstance(username, str) else username

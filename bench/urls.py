"""The site's URLs plus the floor of the pages benchmark: the cheapest page a logged-in
person can get (session, user and every middleware, no query of its own, no template)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


@login_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench-floor/", floor, name="bench-floor"),
    path("", include("config.urls")),
]

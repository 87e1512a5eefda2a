"""What the party-cell views share."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from renovation.access import has_permission

# The action district-level meetings (the joint meeting) and their decisions require.
DISTRICT = "district"


def require(user, model, action: str) -> None:
    if not has_permission(user, model, action):
        raise PermissionDenied


def saved(request: HttpRequest, message: str, to: str, **kwargs) -> HttpResponse:
    messages.success(request, message)
    return redirect(to, **kwargs)


def flash_errors(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)

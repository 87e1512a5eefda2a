from django.http import HttpRequest

from .access import VIEW, has_permission
from .models import FundingSource


def navigation(request: HttpRequest) -> dict:
    """Which menu entries the person may open, so the menu never offers a 403."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {"nav": {"funding": has_permission(user, FundingSource, VIEW)}}

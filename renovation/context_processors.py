from django.http import HttpRequest

from partycells.models import Decision, Meeting, TemporaryBranch
from residents.models import ResidentRequest

from .access import VIEW, has_permission
from .cache import fragment_key
from .models import FundingSource, MonthlyReport


def navigation(request: HttpRequest) -> dict:
    """Which menu entries the person may open, so the menu never offers a 403."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    nav = {
        "requests": has_permission(user, ResidentRequest, VIEW),
        "funding": has_permission(user, FundingSource, VIEW),
        "reports": has_permission(user, MonthlyReport, VIEW),
        "party_branches": has_permission(user, TemporaryBranch, VIEW),
        "party_meetings": has_permission(user, Meeting, VIEW),
        "party_decisions": has_permission(user, Decision, VIEW),
        "party_coverage": has_permission(user, TemporaryBranch, "coverage"),
        "admin": user.is_staff,
    }
    # The menu's links depend on nothing else (and the language): base.html keeps them in
    # the cache under this key.
    nav["key"] = fragment_key(sorted(nav.items()))
    return {"nav": nav}

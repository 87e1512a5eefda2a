"""What every party-cell service shares: the limits, and small checks that add a clear
message to a dict of errors keyed by field."""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import TemporaryBranch

TEXT_MAX = 1000
LONG_TEXT_MAX = 20000
# A request counts as collected at an activity when it was logged on the day or within
# this many days after it (grid workers often type up a door-to-door day the next days).
ACTIVITY_REQUEST_WINDOW_DAYS = 7


def today() -> datetime.date:
    return timezone.localdate()


def clean_text(value: str | None) -> str:
    return (value or "").strip()


def raise_if_any(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def check_not_future(day: datetime.date | None, field: str, errors: dict) -> None:
    if day is not None and day > today():
        errors.setdefault(field, _("The date cannot be later than today."))


def check_length(value: str, field: str, limit: int, errors: dict) -> None:
    if len(value) > limit:
        errors.setdefault(field, _("Keep this under %(max)s characters.") % {"max": limit})


def check_choice(value: str, choices, field: str, errors: dict) -> None:
    if value not in choices.values:
        errors.setdefault(field, _("Choose one of the listed options."))


def check_branch_open(branch: TemporaryBranch, day: datetime.date, field: str, errors: dict):
    """The branch existed on `day`: founded by then and not dissolved before it."""
    if day < branch.founded_on:
        errors.setdefault(
            field,
            _("The branch was founded on %(date)s; the date cannot be before that.")
            % {"date": branch.founded_on.isoformat()},
        )
    elif branch.dissolved_on is not None and day > branch.dissolved_on:
        errors.setdefault(
            field,
            _("The branch was dissolved on %(date)s; the date cannot be after that.")
            % {"date": branch.dissolved_on.isoformat()},
        )


def fresh_branch(branch: TemporaryBranch) -> TemporaryBranch:
    """The branch as stored now: the caller's copy may predate its dissolution."""
    return TemporaryBranch.objects.select_related("community").get(pk=branch.pk)


def branch_compound_ids(branch: TemporaryBranch) -> set[int]:
    return set(branch.projects.values_list("compound_id", flat=True))

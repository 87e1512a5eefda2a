"""Residents' phone numbers: what is accepted and how it is shown masked.

Who may see a number in full is decided by `residents.selectors.shown_phone`, the one rule
used by every page, list, export and the admin."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Mainland mobile numbers, or landlines with an area code (0772-1234567 or 07721234567).
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def normalise_phone(value: str) -> str:
    """Strip spaces and a +86 prefix, the usual ways a number is typed on a phone."""
    value = re.sub(r"\s+", "", value or "")
    if value.startswith("+86"):
        value = value[3:]
    return value


def validate_phone(value: str) -> None:
    if value and not (MOBILE.fullmatch(value) or LANDLINE.fullmatch(value)):
        raise ValidationError(
            _(
                "Enter a mainland mobile number (11 digits starting with 1) or a landline "
                "with its area code, such as 0772-1234567."
            ),
            code="phone",
        )


def mask_phone(value: str) -> str:
    """138****5678: enough to recognise a number, not enough to call it."""
    if not value:
        return ""
    digits = value.replace("-", "")
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"

"""Phone numbers: the one way a typed number becomes the stored one, and who may look
numbers up in the admin.

A number is kept as its 11 digits (13812345678), so that each number has one spelling:
the same number typed with full-width digits, +86 or spaces is the same row in a search,
the same key in the public form's daily limit, and never a "new" number. Residents' numbers
(residents.phones) and staff profiles' use the same rule."""

import re
import unicodedata
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Mainland mobile numbers: 11 digits, 1 then 3 to 9 (ASCII digits only: \d would take any
# script's digits).
MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
# What people type between the digits: spaces, dashes, dots and brackets (after NFKC, which
# turns full-width digits, ＋, －, （ and the ideographic space into their ASCII forms).
SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−.·()\[\]【】]+")
COUNTRY_PREFIXES = ("+86", "0086")
MAX_TYPED = 40  # longer than any spelling of a number: refused before any work on it

PHONE_ERROR = _("Enter an 11-digit mainland mobile number, such as 13812345678.")


def normalise_phone(value: str | None) -> str:
    """The number's 11 digits, or "" for no number. Raises ValidationError (code "phone")
    for anything that is not a mainland mobile number however it is spelled."""
    value = value or ""
    if len(value) > MAX_TYPED:
        raise ValidationError(PHONE_ERROR, code="phone")
    digits = SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if not digits:
        return ""
    for prefix in COUNTRY_PREFIXES:
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    else:
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
    if not MOBILE.fullmatch(digits):
        raise ValidationError(PHONE_ERROR, code="phone")
    return digits


def validate_phone(value: str) -> None:
    """A model field's validator: the stored value is a number's 11 digits (or empty)."""
    if value and normalise_phone(value) != value:
        raise ValidationError(PHONE_ERROR, code="phone")


class PhoneField(forms.CharField):
    """A form field that cleans to the number's 11 digits (see normalise_phone)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_TYPED)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return normalise_phone(value)


# --- Looking numbers up in the admin ---------------------------------------------------

# Model label → whether a user sees every number of that model they may list in full.
# Only such a user may filter, search or sort by the number: for anyone who sees a number
# masked, a filter (startswith, range, regex…), a search or a sort order would give it back
# digit by digit. Apps add their models in AppConfig.ready; a phone field of a model not
# listed here is looked up by nobody.
FULL_NUMBER_RULES: dict[str, Callable[[object], bool]] = {
    # Staff profiles are kept by the superuser only, who sees them in full.
    "renovation.staffprofile": lambda user: user.is_superuser,
}


def is_phone_field(field) -> bool:
    return not field.is_relation and "phone" in field.name


def may_look_up_phones(user, model) -> bool:
    rule = FULL_NUMBER_RULES.get(model._meta.label_lower)
    return bool(rule and rule(user))

"""Residents' phone numbers: what is accepted (renovation.phones, the one rule for every
number in the system) and how it is shown masked.

Who may see a number in full is decided by `residents.selectors.shown_phone`, the one rule
used by every page, list, export and the admin."""

from renovation.phones import PhoneField, normalise_phone, validate_phone

__all__ = ["PhoneField", "mask_phone", "normalise_phone", "validate_phone"]


def mask_phone(value: str) -> str:
    """138****5678: enough to recognise a number, not enough to call it."""
    if not value:
        return ""
    digits = value.replace("-", "")
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"

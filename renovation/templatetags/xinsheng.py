import datetime
import math
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def percent(fraction) -> str:
    """0.6432 → "64.32%"; the report keeps shares as fractions, pages show percents."""
    try:
        return f"{Decimal(fraction) * 100:.2f}%"
    except (InvalidOperation, TypeError, ValueError):
        return ""


@register.filter
def yi(amount) -> str:
    """386000000 → "3.86": yuan in 亿元 (hundred millions), as the article counts money."""
    try:
        return f"{Decimal(amount) / 100_000_000:.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return ""


@register.filter
def duration(value: datetime.timedelta) -> str:
    """timedelta(minutes=90) → "1 小时 30 分钟" ("1 hour 30 minutes"): a wait in words, whole
    minutes rounded up, for pages that would otherwise print it as ISO 8601 ("PT1H30M")."""
    if not isinstance(value, datetime.timedelta):
        return ""
    hours, minutes = divmod(math.ceil(value.total_seconds() / 60), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours})
    if minutes or not hours:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes})
    return " ".join(parts)

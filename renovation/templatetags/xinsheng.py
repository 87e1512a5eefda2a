from decimal import Decimal, InvalidOperation

from django import template

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

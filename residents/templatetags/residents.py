from django import template

from ..selectors import shown_phone

register = template.Library()


@register.filter
def phone_for(request, user) -> str:
    """{{ req|phone_for:user }}: the contact phone as this user may see it."""
    return shown_phone(user, request)

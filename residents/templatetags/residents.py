from functools import cache

from django import template
from django.db.models import Field, Model
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext

from ..models import ResidentRequest
from ..selectors import shown_phone

register = template.Library()


@register.filter
def phone_for(request, user) -> str:
    """{{ req|phone_for:user }}: the contact phone as this user may see it."""
    return shown_phone(user, request)


@cache
def _choice_labels(field: Field, language: str | None) -> dict:
    return {value: str(label) for value, label in field.flatchoices}


@register.filter
def display(instance: Model, name: str) -> str:
    """{{ req|display:"status" }}: what get_status_display() gives, with the field's labels
    translated once per language; Django's translates every label of the field on every
    call, which a list of requests did three times a card."""
    field = instance._meta.get_field(name)
    value = getattr(instance, field.attname)
    return _choice_labels(field, get_language()).get(value, value)


@register.simple_tag
def request_tags(req: ResidentRequest) -> SafeString:
    """{% request_tags req %}: the request's status, and whether it is overdue or waits
    for verification."""
    return _tags(req, req.is_overdue)


def _tags(req: ResidentRequest, overdue: bool) -> SafeString:
    html = format_html('<span class="tag status-{}">{}</span>', req.status, display(req, "status"))
    if overdue:
        html += format_html(' <span class="tag warn">{}</span>', gettext("overdue"))
    if not req.is_verified:
        html += format_html(
            ' <span class="tag muted-tag">{}</span>', gettext("online, not yet verified")
        )
    return html


CARD = (
    '  <li class="card request{overdue}">\n'
    "    {pick}\n"
    '    <a href="{url}"><strong>{kind}</strong> · {compound} {place}</a>\n'
    "    <div>{tags}</div>\n"
    "    <p>{description}</p>\n"
    '    <p class="muted">{category} · {channel} · {contact} {phone} · {due} {due_on}</p>\n'
    "  </li>"
)
PICK = '<label class="pick"><input type="checkbox" name="requests" value="{0}"> #{0}</label>'


@register.simple_tag(takes_context=True)
def request_card(context, req: ResidentRequest) -> SafeString:
    """{% request_card req %}: one card of a list of requests, with a tick box for the
    bulk status change when the list offers one. Written here rather than in a template:
    thirty cards of a dozen lookups and filters each took a quarter of the page."""
    overdue = req.is_overdue
    category = req.category.name if req.category_id else ""
    return format_html(
        CARD,
        overdue=" overdue" if overdue else "",
        pick=format_html(PICK, req.pk) if context.get("can_change") else "",
        url=reverse("request-detail", args=[req.pk]),
        kind=display(req, "kind"),
        compound=req.compound.name,
        place=req.place,
        tags=_tags(req, overdue),
        description=Truncator(req.description).chars(80),
        category=category or gettext("other"),
        channel=display(req, "channel"),
        contact=req.contact_name,
        phone=shown_phone(context["user"], req),
        due=gettext("due"),
        due_on=req.due_on.isoformat(),
    )

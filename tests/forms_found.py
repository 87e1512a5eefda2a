"""Finding the forms of the project the way a browser does: by reading the pages. Each
<form> is kept with where it posts and the names of its fields, so the bad-input sweep can
fill every field of every form, and a form added to a page is swept without being listed."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.urls import Resolver404, resolve


@dataclass
class FoundForm:
    method: str
    action: str  # the path the form posts (or gets) to
    fields: dict[str, str] = field(default_factory=dict)  # name → input type / tag
    options: dict[str, list[str]] = field(default_factory=dict)  # select name → values


class _FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[FoundForm] = []
        self._form: FoundForm | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = urljoin(self.page, attrs.get("action") or self.page)
            method = (attrs.get("method") or "get").lower()
            self._form = FoundForm(method, urlsplit(action).path)
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea", "button"):
            name = attrs.get("name")
            if not name or name == "csrfmiddlewaretoken":
                return
            kind = attrs.get("type", tag) if tag == "input" else tag
            if tag == "button":
                kind = "submit"
            self._form.fields.setdefault(name, kind)
            if tag == "select":
                self._select = name
                self._form.options.setdefault(name, [])
        elif tag == "option" and self._form is not None and self._select:
            self._form.options[self._select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_in(page_url: str, html: str) -> list[FoundForm]:
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


def url_key(path: str) -> str | None:
    """The key of the URL pattern a path resolves to (as in tests.urlwalk), or None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name is None:
        return match.route
    return ":".join([*match.namespaces, match.url_name])

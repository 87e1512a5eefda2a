"""Lists shown a page at a time, for the views of every app."""

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paged(request: HttpRequest, rows, per_page: int = 50, count: int | None = None) -> tuple:
    """The requested page of `rows` and the query string without its page number; `count`,
    when the caller knows it already, spares the paginator its COUNT query."""
    paginator = Paginator(rows, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(request.GET.get("page")), query_without_page(request)


def page_number(asked) -> int:
    """The page number `asked` for (the `page` parameter) as Paginator.get_page reads it:
    anything but a number is the first page. For the keys of pages kept in the cache, so
    that what a user types makes no more keys than there are pages."""
    return int(asked) if str(asked).isdigit() else 1


def page_of(rows: list, number: int, count: int, per_page: int = 50) -> Page:
    """A page already cut (its `rows`, page `number` of `count` in all), for the template."""
    paginator = Paginator([], per_page)
    paginator.count = count
    return Page(rows, number, paginator)


def query_without_page(request: HttpRequest) -> str:
    """The request's query string without its page number, for the pages' links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()

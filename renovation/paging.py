"""Lists shown a page at a time, for the views of every app."""

from django.core.paginator import Paginator
from django.http import HttpRequest


def paged(request: HttpRequest, rows, per_page: int = 50, count: int | None = None) -> tuple:
    """The requested page of `rows` and the query string without its page number; `count`,
    when the caller knows it already, spares the paginator its COUNT query."""
    query = request.GET.copy()
    query.pop("page", None)
    paginator = Paginator(rows, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(request.GET.get("page")), query.urlencode()

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors
from .access import VIEW, get_profile, has_permission
from .filters import CompoundFilter
from .models import Compound
from .registry_import import template_workbook_bytes

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Compound, VIEW):
        raise PermissionDenied
    context = {
        "profile": get_profile(request.user),
        "totals": selectors.registry_totals(user=request.user),
    }
    return render(request, "renovation/home.html", context)


@login_required
def compound_list(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Compound, VIEW):
        raise PermissionDenied
    compounds = CompoundFilter(
        request.GET, queryset=selectors.compound_list(user=request.user), request=request
    )
    page = Paginator(compounds.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": compounds, "page": page, "query": query.urlencode()}
    return render(request, "renovation/compound_list.html", context)


@login_required
def compound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not has_permission(request.user, Compound, VIEW):
        raise PermissionDenied
    try:
        compound = selectors.compound_get(user=request.user, pk=pk)
    except Compound.DoesNotExist:
        raise Http404 from None
    buildings = selectors.building_list(user=request.user, compound=compound)
    return render(
        request, "renovation/compound_detail.html", {"compound": compound, "buildings": buildings}
    )


@login_required
def registry_template(request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Compound, "add"):
        raise PermissionDenied
    response = HttpResponse(template_workbook_bytes(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="registry-template.xlsx"'
    return response

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors
from .access import ADD, CHANGE, VIEW, get_profile, has_permission, scope_queryset
from .filters import CompoundFilter, ProjectFilter
from .forms import (
    AllocationForm,
    DisbursementForm,
    FundingSourceForm,
    ProgressForm,
    ProjectCreateForm,
    TransitionForm,
    add_service_errors,
)
from .models import (
    Compound,
    Disbursement,
    FundingAllocation,
    FundingSource,
    ProgressUpdate,
    RenovationProject,
)
from .registry_import import template_workbook_bytes
from .services import (
    allocation_create,
    allowed_transitions,
    disbursement_create,
    funding_source_create,
    progress_record,
    project_create,
    project_transition,
)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(user, model, action: str) -> None:
    if not has_permission(user, model, action):
        raise PermissionDenied


def _page(request: HttpRequest, queryset, per_page: int = 50) -> tuple:
    """The requested page and the query string without its page number."""
    query = request.GET.copy()
    query.pop("page", None)
    return Paginator(queryset, per_page).get_page(request.GET.get("page")), query.urlencode()


@login_required
def home(request: HttpRequest) -> HttpResponse:
    _require(request.user, Compound, VIEW)
    context = {
        "profile": get_profile(request.user),
        "totals": selectors.registry_totals(user=request.user),
    }
    return render(request, "renovation/home.html", context)


@login_required
def compound_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, Compound, VIEW)
    compounds = CompoundFilter(
        request.GET, queryset=selectors.compound_list(user=request.user), request=request
    )
    page, query = _page(request, compounds.qs)
    context = {"filter": compounds, "page": page, "query": query}
    return render(request, "renovation/compound_list.html", context)


@login_required
def compound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Compound, VIEW)
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
    _require(request.user, Compound, ADD)
    response = HttpResponse(template_workbook_bytes(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="registry-template.xlsx"'
    return response


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, RenovationProject, VIEW)
    projects = ProjectFilter(
        request.GET, queryset=selectors.project_list(user=request.user), request=request
    )
    totals = selectors.project_totals(projects.qs)
    page, query = _page(request, projects.qs)
    context = {
        "filter": projects,
        "page": page,
        "query": query,
        "totals": totals,
        "can_add": has_permission(request.user, RenovationProject, ADD),
    }
    return render(request, "renovation/project_list.html", context)


def _project_or_404(user, pk: int) -> RenovationProject:
    try:
        return selectors.project_get(user=user, pk=pk)
    except RenovationProject.DoesNotExist:
        raise Http404 from None


def _project_page(request: HttpRequest, project: RenovationProject, **forms) -> HttpResponse:
    user = request.user
    allowed = allowed_transitions(project)
    if has_permission(user, RenovationProject, CHANGE):
        forms.setdefault("transition_form", TransitionForm(project=project, allowed=allowed))
    if has_permission(user, ProgressUpdate, ADD):
        forms.setdefault("progress_form", ProgressForm())
    if has_permission(user, Disbursement, ADD):
        forms.setdefault(
            "disbursement_form", DisbursementForm(allocations=project.allocations.all())
        )
    money = {
        "allocated": project.allocated,
        "paid": project.paid,
        "paid_rate": selectors.rate(project.paid, project.allocated),
        "allocated_rate": selectors.rate(project.allocated, project.budget),
    }
    context = {"project": project, "money": money, "allowed": allowed, **forms}
    return render(request, "renovation/project_detail.html", context)


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, RenovationProject, VIEW)
    return _project_page(request, _project_or_404(request.user, pk))


@login_required
def project_create_view(request: HttpRequest) -> HttpResponse:
    _require(request.user, RenovationProject, ADD)
    compounds = selectors.compound_list(user=request.user)
    form = ProjectCreateForm(request.POST or None, compounds=compounds)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The project is in the pipeline."))
            return redirect("project-detail", pk=project.pk)
    return render(request, "renovation/project_form.html", {"form": form})


@login_required
@require_POST
def project_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, RenovationProject, CHANGE)
    project = _project_or_404(request.user, pk)
    form = TransitionForm(request.POST, project=project, allowed=allowed_transitions(project))
    if form.is_valid():
        try:
            project_transition(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The project's status has changed."))
            return redirect("project-detail", pk=project.pk)
    return _project_page(request, project, transition_form=form)


@login_required
@require_POST
def progress_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, ProgressUpdate, ADD)
    project = _project_or_404(request.user, pk)
    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            progress_record(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Progress recorded."))
            return redirect("project-detail", pk=project.pk)
    return _project_page(request, project, progress_form=form)


@login_required
@require_POST
def disbursement_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Disbursement, ADD)
    project = _project_or_404(request.user, pk)
    form = DisbursementForm(request.POST, allocations=project.allocations.all())
    if form.is_valid():
        try:
            disbursement_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("project-detail", pk=project.pk)
    return _project_page(request, project, disbursement_form=form)


@login_required
def funding_source_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, FundingSource, VIEW)
    sources = selectors.funding_source_list(user=request.user)
    year = request.GET.get("year", "")
    if year.isdigit():
        sources = sources.filter(year=int(year))
    rows = [
        (
            source,
            selectors.rate(source.allocated, source.amount),
            selectors.rate(source.paid, source.allocated),
        )
        for source in sources
    ]
    totals = selectors.funding_totals(sources)
    form = None
    if has_permission(request.user, FundingSource, ADD):
        form = FundingSourceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                source = funding_source_create(**form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Funding source added."))
                return redirect("funding-source-detail", pk=source.pk)
    elif request.method == "POST":
        raise PermissionDenied
    context = {"rows": rows, "totals": totals, "form": form, "year": year}
    return render(request, "renovation/funding_source_list.html", context)


@login_required
def funding_source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, FundingSource, VIEW)
    try:
        source = selectors.funding_source_get(user=request.user, pk=pk)
    except FundingSource.DoesNotExist:
        raise Http404 from None
    form = None
    if has_permission(request.user, FundingAllocation, ADD):
        projects = scope_queryset(
            request.user, RenovationProject.objects.select_related("compound")
        )
        form = AllocationForm(request.POST or None, projects=projects)
        if request.method == "POST" and form.is_valid():
            try:
                allocation_create(source=source, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Allocation recorded."))
                return redirect("funding-source-detail", pk=source.pk)
    elif request.method == "POST":
        raise PermissionDenied
    context = {
        "source": source,
        "form": form,
        "allocated_rate": selectors.rate(source.allocated, source.amount),
        "paid_rate": selectors.rate(source.paid, source.allocated),
        "available": source.amount - source.allocated,
    }
    return render(request, "renovation/funding_source_detail.html", context)

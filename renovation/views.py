import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import progress_import as progress_workbook
from . import selectors
from .access import ADD, CHANGE, VIEW, get_profile, get_role, has_permission, scope_queryset
from .cache import fragment_key
from .filters import CompoundFilter, ProjectFilter, filter_form_key
from .forms import (
    AllocationForm,
    DisbursementForm,
    FundingSourceForm,
    ProgressForm,
    ProgressImportForm,
    ProjectCreateForm,
    ReportRequestForm,
    TransitionForm,
    add_service_errors,
)
from .models import (
    Compound,
    Disbursement,
    FundingAllocation,
    FundingSource,
    MonthlyReport,
    ProgressUpdate,
    ProjectStatus,
    RenovationProject,
    Role,
)
from .paging import page_of, paged, query_without_page
from .registry_import import template_workbook_bytes
from .selectors import report as report_figures
from .selectors.report import Month
from .services import (
    allocation_create,
    allowed_transitions,
    disbursement_create,
    funding_source_create,
    progress_import,
    progress_record,
    project_create,
    project_transition,
    report_request,
)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(user, model, action: str) -> None:
    if not has_permission(user, model, action):
        raise PermissionDenied


@login_required
def home(request: HttpRequest) -> HttpResponse:
    _require(request.user, Compound, VIEW)
    if get_role(request.user) == Role.GRID_WORKER:
        return redirect("request-list")  # a grid worker's day starts from their requests
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
    page, query = paged(request, compounds.qs)
    context = {
        "filter": compounds,
        "filter_key": filter_form_key(compounds),
        "page": page,
        "query": query,
    }
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
        request.GET, queryset=selectors.project_scope(user=request.user), request=request
    )
    listed = selectors.project_page(projects.qs, request.GET.get("page"))
    page = page_of(listed["rows"], listed["number"], listed["count"])
    context = {
        "filter": projects,
        "filter_key": filter_form_key(projects),
        "page": page,
        # The rows' HTML is kept in the cache under what they show; the template calls
        # `rows` (works out their cells) only when it is not there.
        "rows_key": fragment_key(listed["rows"]),
        "rows": functools.partial(_project_rows, listed["rows"]),
        "query": query_without_page(request),
        "totals": listed["totals"],
        "can_add": has_permission(request.user, RenovationProject, ADD),
        "can_import_progress": has_permission(request.user, ProgressUpdate, ADD),
    }
    return render(request, "renovation/project_list.html", context)


def _project_rows(rows) -> list[dict]:
    """The cells of each row, as plain values: through template filters and model lookups,
    fifty rows of eleven cells took a fifth of the page."""
    kinds = {value: str(label) for value, label in RenovationProject.Kind.choices}
    statuses = {value: str(label) for value, label in ProjectStatus.choices}
    return [
        {
            "url": reverse("project-detail", args=[row.pk]),
            "name": row.name,
            "is_key": row.is_key,
            "place": f"{row.sub_district_name} {row.community_name}",
            "batch_year": row.batch_year,
            "kind": kinds[row.kind],
            "status": statuses[row.status],
            "progress": row.progress,
            "households": row.households_benefited,
            # As floatformat:"2g" writes them, without its rounding: money has two decimals.
            "budget": number_format(row.budget, 2, force_grouping=True),
            "allocated": number_format(row.allocated, 2, force_grouping=True),
            "paid": number_format(row.paid, 2, force_grouping=True),
            "planned_finish": row.planned_finish.isoformat() if row.planned_finish else "—",
            "delayed": row.delayed,
        }
        for row in rows
    ]


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
                source = funding_source_create(user=request.user, **form.cleaned_data)
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


def _month_or_last(request: HttpRequest) -> tuple[Month, str]:
    """The month asked for in ?month=YYYY-MM, else last month; and an error to show."""
    text = request.GET.get("month", "")
    if text:
        try:
            return Month.parse(text), ""
        except ValueError:
            error = _("Enter a month as YYYY-MM, such as 2022-06.")
            return Month.of(timezone.localdate()).previous(), error
    return Month.of(timezone.localdate()).previous(), ""


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require(request.user, MonthlyReport, VIEW)
    month, error = _month_or_last(request)
    figures = report_figures.dashboard_figures(month)
    now = figures["now"]
    context = {
        "month": month,
        "error": error,
        "figures": figures,
        # The figures' HTML is kept in the cache too, under the figures themselves.
        "figures_key": fragment_key(figures),
        "status_bars": _bars(
            [
                (_("in preparation"), now["batch_preparation"]),
                (ProjectStatus.UNDER_CONSTRUCTION.label, now["batch_under_construction"]),
                (ProjectStatus.COMPLETED.label, now["batch_completed"]),
                (ProjectStatus.ACCEPTED.label, now["batch_accepted"]),
            ]
        ),
        "money_bars": _bars(
            [
                (_("planned"), now["batch_budget"]),
                (_("allocated"), now["batch_allocated"]),
                (_("paid"), now["batch_paid"]),
            ]
        ),
        "can_request": has_permission(request.user, MonthlyReport, ADD),
    }
    return render(request, "renovation/dashboard.html", context)


def _bars(items: list[tuple]) -> list[dict]:
    """Label, value and width in percent of the largest, for a plain-CSS bar chart."""
    largest = max((value for _label, value in items), default=0) or 1
    return [
        {"label": label, "value": value, "width": round(100 * value / largest)}
        for label, value in items
    ]


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, MonthlyReport, VIEW)
    form = None
    if has_permission(request.user, MonthlyReport, ADD):
        form = ReportRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = report_request(month=form.cleaned_data["month"], user=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                report.refresh_from_db()
                if not report.not_queued:
                    messages.success(
                        request,
                        _("The report for %(month)s has been asked for.") % {"month": report},
                    )
                    return redirect("report-list")
                # The request is kept: the page says so and offers to queue it again.
                messages.error(request, _not_queued_message(report))
    elif request.method == "POST":
        raise PermissionDenied
    reports = scope_queryset(request.user, MonthlyReport.objects.select_related("requested_by"))
    page, query = paged(request, reports, per_page=24)
    context = {"form": form, "page": page, "query": query}
    return render(request, "renovation/report_list.html", context)


def _not_queued_message(report: MonthlyReport) -> str:
    return _(
        "The report for %(month)s could not be queued: the task service is not answering. "
        "The request is kept; ask again in a few minutes (it is also queued by itself once "
        "the service is back)."
    ) % {"month": report}


def _report_or_404(user, pk: int) -> MonthlyReport:
    _require(user, MonthlyReport, VIEW)
    try:
        return scope_queryset(user, MonthlyReport.objects.all()).get(pk=pk)
    except MonthlyReport.DoesNotExist:
        raise Http404 from None


@login_required
def report_status(request: HttpRequest, pk: int) -> JsonResponse:
    report = _report_or_404(request.user, pk)
    return JsonResponse(
        {
            "status": report.status,
            "label": _("not queued") if report.not_queued else report.get_status_display(),
            "error": report.error,
            "download": reverse("report-download", args=[report.pk])
            if report.status == MonthlyReport.Status.DONE
            else "",
        }
    )


@login_required
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_or_404(request.user, pk)
    if report.status != MonthlyReport.Status.DONE or not report.file:
        raise Http404(_("This report has no workbook yet."))
    try:
        workbook = report.file.open("rb")
    except FileNotFoundError:
        # The row outlived its file (a restore without the media folder): say so, and let
        # those who may ask for reports build it again.
        context = {
            "report": report,
            "can_request": has_permission(request.user, MonthlyReport, ADD),
        }
        return render(request, "renovation/report_missing.html", context, status=404)
    return FileResponse(
        workbook, as_attachment=True, filename=report.filename, content_type=XLSX_CONTENT_TYPE
    )


# --- The monthly progress import -----------------------------------------------------------


@login_required
def progress_import_view(request: HttpRequest) -> HttpResponse:
    _require(request.user, ProgressUpdate, ADD)
    form = ProgressImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = progress_import(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if result.ok and not result.dry_run and not result.warnings:
                messages.success(request, result.summary())
                return redirect("progress-import")
            if result.ok and not result.dry_run:
                # Saved, but staff should read the warnings here; the form is for the next file.
                form = ProgressImportForm()
    return render(request, "renovation/progress_import.html", {"form": form, "result": result})


@login_required
def progress_template(request: HttpRequest) -> HttpResponse:
    _require(request.user, ProgressUpdate, ADD)
    as_of = progress_workbook.default_as_of()
    projects = selectors.project_list(user=request.user).filter(
        status__in=progress_workbook.TEMPLATE_STATUSES
    )
    content = progress_workbook.template_workbook_bytes(projects, as_of=as_of)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="progress-{as_of:%Y-%m}.xlsx"'
    return response

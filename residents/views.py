from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renovation.access import ADD, CHANGE, VIEW, get_role, has_permission, scope_queryset
from renovation.cache import fragment_key, rows_shown
from renovation.filters import filter_form_key
from renovation.forms import add_service_errors
from renovation.models import Building, Compound, RenovationProject, Role
from renovation.paging import page_of, paged, query_without_page
from renovation.selectors import building_list, community_list, compound_list
from renovation.spreadsheets import csv_writer
from renovation.widgets import options_key

from . import selectors, services
from .filters import RequestFilter
from .forms import (
    AnswerForm,
    AssignForm,
    BookingForm,
    BulkTransitionForm,
    DemandItemsForm,
    DemandListCreateForm,
    DemandReviewForm,
    PublicWishForm,
    RequestForm,
    SurveyAnswerForm,
    SurveyCreateForm,
    TransitionForm,
)
from .models import (
    CompoundPage,
    DemandList,
    ErrandBooking,
    RequestKind,
    ResidentRequest,
    Survey,
    SurveyAnswer,
)
from .ratelimit import allow

LAST_COMPOUND = "residents:last_compound"


def _require(user, model, action: str) -> None:
    if not has_permission(user, model, action):
        raise PermissionDenied


# The residents' lists are read on phones: shorter pages than the office's lists.
PER_PAGE = 30


# ---------------------------------------------------------------------------------------
# Requests: grid workers' phone pages and the community queue


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """Grid workers: the requests they logged or were given. Staff: the queue of their area,
    with bulk status changes for community staff."""
    user = request.user
    _require(user, ResidentRequest, VIEW)
    requests = RequestFilter(
        request.GET, queryset=selectors.request_scope(user=user), request=request
    )
    # A grid worker's own requests, in the parts each read from an index (request_parts).
    parts = selectors.request_parts(user=user, requests=requests.qs)
    # Kept in the cache while the requests of the user's area are unchanged (request_page).
    listed = selectors.request_page(
        parts,
        request.GET.get("page"),
        per_page=PER_PAGE,
        communities=community_list(user=user),
    )
    page = page_of(listed["rows"], listed["number"], listed["summary"]["total"], PER_PAGE)
    can_change = has_permission(user, ResidentRequest, CHANGE)
    context = {
        "filter": requests,
        "filter_key": filter_form_key(requests),
        "page": page,
        # The cards' HTML is kept in the cache under what they show: the page's requests
        # (the name they are kept under, or every value loaded for them), who looks (the
        # phone in full or not, the tick boxes) and the day (whether overdue).
        "cards_key": fragment_key(
            rows_shown(listed["rows"]),
            user.pk,
            timezone.localdate(),
        ),
        "query": query_without_page(request),
        "summary": listed["summary"],
        "can_add": has_permission(user, ResidentRequest, ADD),
        "can_change": can_change,
        "is_grid_worker": get_role(user) == Role.GRID_WORKER,
    }
    return render(request, "residents/request_list.html", context)


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    """Log a request in under a minute: the pickers hold only the worker's own compounds,
    the last compound is remembered, and an error keeps everything typed."""
    user = request.user
    _require(user, ResidentRequest, ADD)
    compounds = scope_queryset(
        user, Compound.objects.select_related("community").order_by("community__code", "code")
    )
    buildings = building_list(user=user).order_by("compound__code", "number")
    initial = {"compound": request.session.get(LAST_COMPOUND)}
    form = RequestForm(
        request.POST or None, compounds=compounds, buildings=buildings, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            logged = services.request_create(user=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session[LAST_COMPOUND] = logged.compound_id
            messages.success(
                request,
                _("Logged: %(request)s, due %(due)s.")
                % {
                    "request": logged,
                    "due": logged.due_on.isoformat(),
                },
            )
            if "another" in request.POST:
                return redirect("request-create")
            return redirect("request-detail", pk=logged.pk)
    context = {"form": form}
    if not form.is_bound:
        # The empty form's HTML is kept in the cache under its pickers' options and the
        # compound chosen last (rendering it was two thirds of the page); a form with
        # errors is never kept.
        context["form_key"] = options_key(form, form.initial)
    return render(request, "residents/request_form.html", context)


def _request_or_404(user, pk: int) -> ResidentRequest:
    try:
        return selectors.request_get(user=user, pk=pk)
    except ResidentRequest.DoesNotExist:
        raise Http404 from None


def _request_page(request: HttpRequest, resident_request: ResidentRequest, **forms):
    user = request.user
    if has_permission(user, ResidentRequest, CHANGE):
        allowed = services.allowed_moves(resident_request)
        items = selectors.project_items_of(compound=resident_request.compound)
        forms.setdefault(
            "transition_form",
            TransitionForm(request=resident_request, items=items, allowed=allowed),
        )
        forms.setdefault(
            "assign_form",
            AssignForm(users=selectors.assignable_users(compound=resident_request.compound)),
        )
        forms.setdefault("answer_form", AnswerForm(initial={"answer": resident_request.answer}))
    if resident_request.kind == RequestKind.ERRAND and has_permission(user, ErrandBooking, ADD):
        slots = selectors.free_slots(community_id=resident_request.compound.community_id)
        forms.setdefault("booking_form", BookingForm(slots=slots))
    context = {
        "req": resident_request,
        "can_mark_done": has_permission(user, ErrandBooking, CHANGE),
        **forms,
    }
    return render(request, "residents/request_detail.html", context)


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, ResidentRequest, VIEW)
    return _request_page(request, _request_or_404(request.user, pk))


def _request_action(request: HttpRequest, pk: int, form_name: str, build_form, act) -> HttpResponse:
    """A form posted from a request's page: bind, call the service, and either go back to
    the page or show it again with the errors and what was typed."""
    resident_request = _request_or_404(request.user, pk)
    form = build_form(resident_request)
    if form.is_valid():
        try:
            act(resident_request, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("request-detail", pk=resident_request.pk)
    return _request_page(request, resident_request, **{form_name: form})


@login_required
@require_POST
def request_transition(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, ResidentRequest, CHANGE)

    def build(r):
        items = selectors.project_items_of(compound=r.compound)
        return TransitionForm(
            request.POST, request=r, items=items, allowed=services.allowed_moves(r)
        )

    def act(r, data):
        services.request_transition(request=r, user=request.user, **data)

    return _request_action(request, pk, "transition_form", build, act)


@login_required
@require_POST
def request_assign(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, ResidentRequest, CHANGE)

    def build(r):
        return AssignForm(request.POST, users=selectors.assignable_users(compound=r.compound))

    def act(r, data):
        services.request_assign(request=r, user=request.user, **data)

    return _request_action(request, pk, "assign_form", build, act)


@login_required
@require_POST
def request_answer(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, ResidentRequest, CHANGE)

    def act(r, data):
        services.request_answer(request=r, user=request.user, **data)

    return _request_action(request, pk, "answer_form", lambda r: AnswerForm(request.POST), act)


@login_required
@require_POST
def errand_book(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, ErrandBooking, ADD)

    def build(r):
        slots = selectors.free_slots(community_id=r.compound.community_id)
        return BookingForm(request.POST, slots=slots)

    def act(r, data):
        services.errand_book(request=r, user=request.user, **data)

    return _request_action(request, pk, "booking_form", build, act)


@login_required
@require_POST
def errand_done(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, ErrandBooking, CHANGE)
    try:
        booking = selectors.booking_list(user=request.user).get(pk=pk)
    except ErrandBooking.DoesNotExist:
        raise Http404 from None
    try:
        services.errand_done(booking=booking, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The errand is done."))
    return redirect("request-detail", pk=booking.request_id)


@login_required
@require_POST
def request_bulk_transition(request: HttpRequest) -> HttpResponse:
    _require(request.user, ResidentRequest, CHANGE)
    form = BulkTransitionForm(request.POST, requests=selectors.request_list(user=request.user))
    if form.is_valid():
        try:
            count = services.requests_bulk_transition(
                requests=form.cleaned_data["requests"],
                to_status=form.cleaned_data["to_status"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(count)s requests changed.") % {"count": count})
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    # Only back to a page of this site: "next" came from the form, and anything else in it
    # was an open redirect (or, if not a path, a server error).
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect("request-list")


@login_required
def request_export(request: HttpRequest) -> HttpResponse:
    """The filtered queue as CSV, phones masked by the same rule as every page."""
    user = request.user
    _require(user, ResidentRequest, VIEW)
    requests = RequestFilter(
        request.GET, queryset=selectors.request_list(user=user), request=request
    ).qs
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="resident-requests.csv"'
    response.write("\ufeff")  # so Excel reads the Chinese as UTF-8
    writer = csv_writer(response)  # every text cell escaped for Excel
    writer.writerow(
        [
            _("number"),
            _("kind"),
            _("status"),
            _("channel"),
            _("community"),
            _("compound"),
            _("place"),
            _("category"),
            _("description"),
            _("contact name"),
            _("contact phone"),
            _("logged at"),
            _("due on"),
            _("overdue"),
        ]
    )
    for r in requests.iterator(chunk_size=500):
        writer.writerow(
            [
                r.pk,
                r.get_kind_display(),
                r.get_status_display(),
                r.get_channel_display(),
                r.compound.community.name,
                r.compound.name,
                r.place,
                r.category.name if r.category else _("other"),
                r.description,
                r.contact_name,
                selectors.shown_phone(user, r),
                timezone.localtime(r.logged_at).strftime("%Y-%m-%d %H:%M"),
                r.due_on.isoformat(),
                _("yes") if r.is_overdue else "",
            ]
        )
    return response


# ---------------------------------------------------------------------------------------
# Surveys


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, Survey, VIEW)
    form = None
    if has_permission(user, Survey, ADD):
        compounds = compound_list(user=user)
        projects = scope_queryset(user, RenovationProject.objects.select_related("compound"))
        form = SurveyCreateForm(request.POST or None, compounds=compounds, projects=projects)
        if request.method == "POST" and form.is_valid():
            try:
                survey = services.survey_create(user=user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The survey is open."))
                return redirect("survey-detail", pk=survey.pk)
    elif request.method == "POST":
        raise PermissionDenied
    page, query = paged(request, selectors.survey_list(user=user), PER_PAGE)
    return render(
        request, "residents/survey_list.html", {"page": page, "query": query, "form": form}
    )


def _survey_or_404(user, pk: int) -> Survey:
    try:
        return selectors.survey_get(user=user, pk=pk)
    except Survey.DoesNotExist:
        raise Http404 from None


def _survey_page(request: HttpRequest, survey: Survey, form=None) -> HttpResponse:
    user = request.user
    if form is None and survey.status == Survey.Status.OPEN:
        if has_permission(user, SurveyAnswer, ADD):
            buildings = Building.objects.filter(compound=survey.compound).order_by("number")
            form = SurveyAnswerForm(buildings=buildings)
    context = {
        "survey": survey,
        "consent": selectors.survey_consent(survey),
        "threshold": selectors.percent(settings.WILLINGNESS_THRESHOLD),
        "form": form,
        "can_close": survey.status == Survey.Status.OPEN and has_permission(user, Survey, CHANGE),
    }
    return render(request, "residents/survey_detail.html", context)


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Survey, VIEW)
    return _survey_page(request, _survey_or_404(request.user, pk))


@login_required
@require_POST
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """Record one household's answer door to door, then come back for the next."""
    _require(request.user, SurveyAnswer, ADD)
    survey = _survey_or_404(request.user, pk)
    buildings = Building.objects.filter(compound=survey.compound).order_by("number")
    form = SurveyAnswerForm(request.POST, buildings=buildings)
    if form.is_valid():
        try:
            services.survey_answer_record(survey=survey, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Answer recorded."))
            return redirect("survey-detail", pk=survey.pk)
    return _survey_page(request, survey, form)


@login_required
@require_POST
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Survey, CHANGE)
    survey = _survey_or_404(request.user, pk)
    try:
        services.survey_close(survey=survey, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The survey is closed."))
    return redirect("survey-detail", pk=survey.pk)


# ---------------------------------------------------------------------------------------
# Demand lists


@login_required
def demand_list_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require(user, DemandList, VIEW)
    form = None
    if has_permission(user, DemandList, ADD):
        form = DemandListCreateForm(request.POST or None, compounds=compound_list(user=user))
        if request.method == "POST" and form.is_valid():
            try:
                made = services.demand_list_create(user=user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The demand list is started."))
                return redirect("demand-list-detail", pk=made.pk)
    elif request.method == "POST":
        raise PermissionDenied
    page, query = paged(request, selectors.demand_list_list(user=user), PER_PAGE)
    return render(
        request, "residents/demand_list_list.html", {"page": page, "query": query, "form": form}
    )


def _demand_list_or_404(user, pk: int) -> DemandList:
    try:
        return selectors.demand_list_get(user=user, pk=pk)
    except DemandList.DoesNotExist:
        raise Http404 from None


def _demand_list_page(request: HttpRequest, demand_list: DemandList, **forms) -> HttpResponse:
    user = request.user
    lines = selectors.demand_list_lines(demand_list)
    if demand_list.status == DemandList.Status.DRAFT and has_permission(user, DemandList, CHANGE):
        forms.setdefault("review_form", DemandReviewForm(initial={"on": timezone.localdate()}))
    if demand_list.status == DemandList.Status.RECEIVED and has_permission(
        user, DemandList, "receive"
    ):
        projects = RenovationProject.objects.filter(compound=demand_list.compound)
        forms.setdefault("items_form", DemandItemsForm(lines=lines, projects=projects))
    context = {
        "demand_list": demand_list,
        "lines": lines,
        "can_send": demand_list.status == DemandList.Status.DRAFT
        and has_permission(user, DemandList, CHANGE),
        "can_receive": demand_list.status == DemandList.Status.SENT
        and has_permission(user, DemandList, "receive"),
        **forms,
    }
    return render(request, "residents/demand_list_detail.html", context)


@login_required
def demand_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, DemandList, VIEW)
    return _demand_list_page(request, _demand_list_or_404(request.user, pk))


@login_required
@require_POST
def demand_list_review(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, DemandList, CHANGE)
    demand_list = _demand_list_or_404(request.user, pk)
    form = DemandReviewForm(request.POST)
    if form.is_valid():
        try:
            services.demand_list_review(
                demand_list=demand_list, user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The review is recorded."))
            return redirect("demand-list-detail", pk=demand_list.pk)
    return _demand_list_page(request, demand_list, review_form=form)


@login_required
@require_POST
def demand_list_send(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, DemandList, CHANGE)
    return _demand_list_step(request, pk, services.demand_list_send, _("The list is sent."))


@login_required
@require_POST
def demand_list_receive(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, DemandList, "receive")
    return _demand_list_step(request, pk, services.demand_list_receive, _("The list is received."))


def _demand_list_step(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    demand_list = _demand_list_or_404(request.user, pk)
    try:
        service(demand_list=demand_list, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("demand-list-detail", pk=demand_list.pk)


@login_required
@require_POST
def demand_list_items(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request.user, DemandList, "receive")
    demand_list = _demand_list_or_404(request.user, pk)
    projects = RenovationProject.objects.filter(compound=demand_list.compound)
    lines = selectors.demand_list_lines(demand_list)
    form = DemandItemsForm(request.POST, lines=lines, projects=projects)
    if form.is_valid():
        try:
            made = services.demand_list_create_items(
                demand_list=demand_list,
                project=form.cleaned_data["project"],
                quantities=form.quantities(),
                user=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(count)s project items created.") % {"count": len(made)})
            return redirect("demand-list-detail", pk=demand_list.pk)
    return _demand_list_page(request, demand_list, items_form=form)


# ---------------------------------------------------------------------------------------
# The public compound page (no login)


def _client_address(request: HttpRequest) -> str:
    # The proxy in front (see README) sets REMOTE_ADDR; a client-supplied X-Forwarded-For
    # is not trusted, or anyone could dodge the limit by making one up.
    return request.META.get("REMOTE_ADDR", "")


def public_compound(request: HttpRequest, token: str) -> HttpResponse:
    """The plan, the items, progress and the last updates, and a form to leave a wish.
    Nothing on it is personal, and nothing of anyone's request can be read back."""
    try:
        page = selectors.public_page_get(token=token)
    except CompoundPage.DoesNotExist:
        raise Http404 from None
    compound = page.compound
    buildings = Building.objects.filter(compound=compound).order_by("number")
    # Bound on every POST, even an empty one, so the limit's error can be added to it.
    form = PublicWishForm(request.POST if request.method == "POST" else None, buildings=buildings)
    status = 200
    if request.method == "POST":
        limit = settings.RESIDENTS_PUBLIC_PER_ADDRESS_PER_HOUR
        if not allow("address", _client_address(request), limit=limit, seconds=3600):
            form.full_clean()  # add_error needs a cleaned form (it answered 500 before)
            form.add_error(None, _("Too many wishes from this network: try again in an hour."))
            status = 429
        elif form.is_valid():
            phone_limit = settings.RESIDENTS_PUBLIC_PER_PHONE_PER_DAY
            if form.is_robot:
                return redirect("public-compound-thanks", token=token)
            if not allow(
                "phone", form.cleaned_data["contact_phone"], limit=phone_limit, seconds=86400
            ):
                form.add_error(
                    "contact_phone",
                    _("This number has left %(limit)s wishes today: try again tomorrow.")
                    % {"limit": phone_limit},
                )
                status = 429
            else:
                data = {k: v for k, v in form.cleaned_data.items() if k != "website"}
                try:
                    services.public_wish_create(page=page, **data)
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    return redirect("public-compound-thanks", token=token)
    context = {
        "page": page,
        "compound": compound,
        "form": form,
        **selectors.public_compound_facts(compound),
        "hours": selectors.service_hours(community_id=compound.community_id),
    }
    return render(request, "residents/public_compound.html", context, status=status)


def public_compound_thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        page = selectors.public_page_get(token=token)
    except CompoundPage.DoesNotExist:
        raise Http404 from None
    return render(request, "residents/public_thanks.html", {"page": page})

"""Pages of meetings and decisions: the meeting list and page, the forms posted from it,
and the decisions board."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renovation.access import ADD, CHANGE, VIEW, has_permission, scope_queryset
from renovation.forms import add_service_errors
from renovation.paging import paged
from renovation.selectors import community_list

from .. import selectors, services
from ..filters import DecisionFilter, MeetingFilter
from ..forms import (
    DecisionForm,
    DecisionUpdateForm,
    MeetingForm,
    MeetingMinutesForm,
    SettlementForm,
    VoteForm,
)
from ..models import (
    VOTING_KINDS,
    Decision,
    Meeting,
    MeetingKind,
    MeetingVote,
    ObjectionSettlement,
    TemporaryBranch,
)
from .common import DISTRICT, flash_errors, require, saved

# ---------------------------------------------------------------------------------------
# Meetings and decisions


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Meeting, VIEW)
    meetings = MeetingFilter(
        request.GET, queryset=selectors.meeting_list(user=request.user), request=request
    )
    page, query = paged(request, meetings.qs)
    context = {
        "filter": meetings,
        "page": page,
        "query": query,
        "can_add": has_permission(request.user, Meeting, ADD),
    }
    return render(request, "partycells/meeting_list.html", context)


@login_required
def meeting_create_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Meeting, ADD)
    # Dissolved branches too: a past meeting may be recorded late; the service checks the
    # date falls within the branch's life.
    branches = scope_queryset(user, TemporaryBranch.objects.select_related("community"))
    initial = {"branch": request.GET.get("branch"), "kind": request.GET.get("kind")}
    form = MeetingForm(
        request.POST or None,
        branches=branches,
        communities=community_list(user=user),
        district_level=has_permission(user, Meeting, DISTRICT),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_create(user=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return saved(request, _("Meeting recorded."), "party-meeting-detail", pk=meeting.pk)
    return render(request, "partycells/meeting_form.html", {"form": form})


def _meeting_or_404(user, pk: int) -> Meeting:
    try:
        return selectors.meeting_get(user=user, pk=pk)
    except Meeting.DoesNotExist:
        raise Http404 from None


def _may(user, model, action: str, meeting: Meeting) -> bool:
    """Permission on a meeting's records: a district-level meeting is the programme
    office's alone."""
    return has_permission(user, model, action) and (
        not meeting.is_district_level or has_permission(user, Meeting, DISTRICT)
    )


def _meeting_page(request: HttpRequest, meeting: Meeting, **forms) -> HttpResponse:
    user = request.user
    if _may(user, Meeting, CHANGE, meeting):
        forms.setdefault(
            "minutes_form",
            MeetingMinutesForm(
                initial={
                    f: getattr(meeting, f)
                    for f in ("place", "chair", "agenda", "attendees", "attendance", "minutes")
                }
            ),
        )
    if _may(user, Decision, ADD, meeting):
        forms.setdefault("decision_form", DecisionForm())
    if meeting.kind in VOTING_KINDS and _may(user, MeetingVote, ADD, meeting):
        forms.setdefault("vote_form", VoteForm())
    if meeting.kind == MeetingKind.CONSULTATION and _may(user, ObjectionSettlement, ADD, meeting):
        forms.setdefault(
            "settlement_form",
            SettlementForm(objections=selectors.settleable_objections(user=user, meeting=meeting)),
        )
    context = {
        "meeting": meeting,
        "can_update": _may(user, Decision, CHANGE, meeting),
        "update_form": DecisionUpdateForm(),
        **forms,
    }
    return render(request, "partycells/meeting_detail.html", context)


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Meeting, VIEW)
    return _meeting_page(request, _meeting_or_404(request.user, pk))


def _meeting_post(request, pk, model, action, form_name: str, make_form, save, message: str):
    user = request.user
    require(user, model, action)
    meeting = _meeting_or_404(user, pk)
    if not _may(user, model, action, meeting):
        raise PermissionDenied
    form = make_form(meeting)
    if form.is_valid():
        try:
            save(meeting, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return saved(request, message, "party-meeting-detail", pk=meeting.pk)
    return _meeting_page(request, meeting, **{form_name: form})


@login_required
@require_POST
def meeting_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _meeting_post(
        request,
        pk,
        Meeting,
        CHANGE,
        "minutes_form",
        lambda meeting: MeetingMinutesForm(request.POST),
        lambda meeting, data: services.meeting_update(meeting=meeting, user=request.user, **data),
        _("Minutes saved."),
    )


@login_required
@require_POST
def decision_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _meeting_post(
        request,
        pk,
        Decision,
        ADD,
        "decision_form",
        lambda meeting: DecisionForm(request.POST),
        lambda meeting, data: services.decision_create(meeting=meeting, user=request.user, **data),
        _("Decision recorded."),
    )


@login_required
@require_POST
def vote_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _meeting_post(
        request,
        pk,
        MeetingVote,
        ADD,
        "vote_form",
        lambda meeting: VoteForm(request.POST),
        lambda meeting, data: services.vote_record(meeting=meeting, user=request.user, **data),
        _("Vote recorded."),
    )


@login_required
@require_POST
def settlement_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _meeting_post(
        request,
        pk,
        ObjectionSettlement,
        ADD,
        "settlement_form",
        lambda meeting: SettlementForm(
            request.POST,
            objections=selectors.settleable_objections(user=request.user, meeting=meeting),
        ),
        lambda meeting, data: services.objection_settle(meeting=meeting, user=request.user, **data),
        _("The objection is settled and its outcome recorded on it."),
    )


@login_required
@require_POST
def decision_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    require(user, Decision, CHANGE)
    try:
        decision = selectors.decision_list(user=user).get(pk=pk)
    except Decision.DoesNotExist:
        raise Http404 from None
    if not _may(user, Decision, CHANGE, decision.meeting):
        raise PermissionDenied
    form = DecisionUpdateForm(request.POST)
    meeting = None
    if form.is_valid():
        data = dict(form.cleaned_data)
        meeting_id = data.pop("meeting")
        if meeting_id:
            meeting = scope_queryset(user, Meeting.objects.all()).filter(pk=meeting_id).first()
            if meeting is None:
                raise Http404
        try:
            services.decision_update(decision=decision, user=user, meeting=meeting, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Decision updated."))
    flash_errors(request, form)
    target = request.POST.get("next", "")
    # A path of this site only: redirect() takes anything else for a URL name (a 500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect("party-decision-board")


@login_required
def decision_board(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Decision, VIEW)
    decisions = DecisionFilter(
        request.GET, queryset=selectors.decision_list(user=user), request=request
    )
    page, query = paged(request, decisions.qs)
    context = {
        "filter": decisions,
        "page": page,
        "query": query,
        "totals": selectors.decision_totals(decisions.qs),
        "can_update_local": has_permission(user, Decision, CHANGE),
        "can_update_district": has_permission(user, Decision, CHANGE)
        and has_permission(user, Meeting, DISTRICT),
        "update_form": DecisionUpdateForm(),
    }
    return render(request, "partycells/decision_board.html", context)

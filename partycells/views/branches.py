"""Pages of branches: the list, the branch page and the forms posted from it, and the
organisation department's coverage page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renovation.access import ADD, CHANGE, VIEW, get_role, has_permission, scope_queryset
from renovation.forms import add_service_errors
from renovation.models import ProjectStatus, RenovationProject, Role
from renovation.paging import paged

from .. import selectors, services
from ..filters import BranchFilter
from ..forms import (
    ActivityForm,
    BranchCreateForm,
    EscalationAnswerForm,
    EscalationForm,
    EscalationResolveForm,
    GroupForm,
    MemberForm,
    MemberLeaveForm,
    TeamForm,
    VolunteerForm,
)
from ..models import (
    Activity,
    BranchMember,
    BuildingGroup,
    Decision,
    Escalation,
    Meeting,
    TemporaryBranch,
    VolunteerMember,
    VolunteerTeam,
)
from .common import flash_errors, require, saved

# ---------------------------------------------------------------------------------------
# Branches


@login_required
def branch_list(request: HttpRequest) -> HttpResponse:
    require(request.user, TemporaryBranch, VIEW)
    branches = BranchFilter(
        request.GET, queryset=selectors.branch_list(user=request.user), request=request
    )
    page, query = paged(request, branches.qs)
    context = {
        "filter": branches,
        "page": page,
        "query": query,
        "can_add": has_permission(request.user, TemporaryBranch, ADD),
    }
    return render(request, "partycells/branch_list.html", context)


def _branch_or_404(user, pk: int) -> TemporaryBranch:
    try:
        return selectors.branch_get(user=user, pk=pk)
    except TemporaryBranch.DoesNotExist:
        raise Http404 from None


def _answer_level(user) -> str | None:
    """Which level of the "社街报到" a person answers for."""
    return {
        Role.COMMUNITY_STAFF: services.Level.COMMUNITY,
        Role.SUB_DISTRICT_STAFF: services.Level.SUB_DISTRICT,
    }.get(get_role(user))


def _branch_page(request: HttpRequest, branch: TemporaryBranch, **forms) -> HttpResponse:
    user = request.user
    active = branch.is_active
    if active and has_permission(user, BranchMember, ADD):
        forms.setdefault("member_form", MemberForm())
    if active and has_permission(user, BuildingGroup, ADD):
        members = selectors.member_choices(branch)
        forms.setdefault(
            "group_form",
            GroupForm(buildings=selectors.building_choices(branch), members=members),
        )
    if active and has_permission(user, VolunteerTeam, ADD):
        forms.setdefault("team_form", TeamForm())
    if has_permission(user, VolunteerMember, ADD) and branch.volunteer_teams.all():
        forms.setdefault(
            "volunteer_form",
            VolunteerForm(
                teams=VolunteerTeam.objects.filter(branch=branch),
                buildings=selectors.building_choices(branch),
            ),
        )
    if has_permission(user, Activity, ADD):
        forms.setdefault(
            "activity_form",
            ActivityForm(requests=selectors.request_choices(user=user, branch=branch)),
        )
    if active and has_permission(user, Escalation, ADD):
        forms.setdefault("escalation_form", EscalationForm())
    sees_matters = has_permission(user, Decision, VIEW)
    context = {
        "branch": branch,
        "gaps": list(selectors.branch_gap_buildings(branch)) if active else [],
        "open_decisions": (
            list(selectors.branch_open_decisions(user=user, branch=branch)) if sees_matters else []
        ),
        "meetings": (
            selectors.meeting_list(user=user).filter(branch=branch)[:20]
            if has_permission(user, Meeting, VIEW)
            else []
        ),
        "sees_matters": sees_matters,
        "answer_level": (
            _answer_level(user) if has_permission(user, Escalation, "answer") else None
        ),
        "can_resolve": has_permission(user, Escalation, CHANGE),
        "can_leave": has_permission(user, BranchMember, CHANGE) and active,
        "can_meet": has_permission(user, Meeting, ADD),
        **forms,
    }
    return render(request, "partycells/branch_detail.html", context)


@login_required
def branch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, TemporaryBranch, VIEW)
    return _branch_page(request, _branch_or_404(request.user, pk))


@login_required
def branch_create_view(request: HttpRequest) -> HttpResponse:
    require(request.user, TemporaryBranch, ADD)
    projects = scope_queryset(
        request.user,
        RenovationProject.objects.exclude(status=ProjectStatus.ACCEPTED).select_related(
            "compound__community"
        ),
    )
    initial = {"projects": request.GET.getlist("project")}
    form = BranchCreateForm(request.POST or None, projects=projects, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            branch = services.branch_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return saved(request, _("The branch is set up."), "party-branch-detail", pk=branch.pk)
    return render(request, "partycells/branch_form.html", {"form": form})


def _branch_post(request, pk, model, form_name: str, make_form, save, message: str):
    """The common shape of a form posted from the branch page: permission, the branch in
    the user's area, the form, one service; back to the page, with the errors if any."""
    require(request.user, model, ADD)
    branch = _branch_or_404(request.user, pk)
    form = make_form(branch)
    if form.is_valid():
        try:
            save(branch, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return saved(request, message, "party-branch-detail", pk=branch.pk)
    return _branch_page(request, branch, **{form_name: form})


@login_required
@require_POST
def member_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _branch_post(
        request,
        pk,
        BranchMember,
        "member_form",
        lambda branch: MemberForm(request.POST),
        lambda branch, data: services.member_add(branch=branch, user=request.user, **data),
        _("Member added."),
    )


@login_required
@require_POST
def group_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _branch_post(
        request,
        pk,
        BuildingGroup,
        "group_form",
        lambda branch: GroupForm(
            request.POST,
            buildings=selectors.building_choices(branch),
            members=selectors.member_choices(branch),
        ),
        lambda branch, data: services.group_create(branch=branch, user=request.user, **data),
        _("Building party group founded."),
    )


@login_required
@require_POST
def team_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _branch_post(
        request,
        pk,
        VolunteerTeam,
        "team_form",
        lambda branch: TeamForm(request.POST),
        lambda branch, data: services.team_create(branch=branch, user=request.user, **data),
        _("Volunteer team formed."),
    )


@login_required
@require_POST
def volunteer_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _branch_post(
        request,
        pk,
        VolunteerMember,
        "volunteer_form",
        lambda branch: VolunteerForm(
            request.POST,
            teams=VolunteerTeam.objects.filter(branch=branch),
            buildings=selectors.building_choices(branch),
        ),
        lambda branch, data: services.volunteer_add(user=request.user, **data),
        _("Volunteer added."),
    )


@login_required
@require_POST
def activity_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _branch_post(
        request,
        pk,
        Activity,
        "activity_form",
        lambda branch: ActivityForm(
            request.POST, requests=selectors.request_choices(user=request.user, branch=branch)
        ),
        lambda branch, data: services.activity_record(branch=branch, user=request.user, **data),
        _("Activity recorded."),
    )


@login_required
@require_POST
def escalation_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _branch_post(
        request,
        pk,
        Escalation,
        "escalation_form",
        lambda branch: EscalationForm(request.POST),
        lambda branch, data: services.escalation_raise(branch=branch, user=request.user, **data),
        _("The matter has been escalated to the community and the sub-district."),
    )


@login_required
@require_POST
def member_leave_view(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, BranchMember, CHANGE)
    try:
        member = scope_queryset(request.user, BranchMember.objects.all()).get(pk=pk)
    except BranchMember.DoesNotExist:
        raise Http404 from None
    form = MemberLeaveForm(request.POST)
    if form.is_valid():
        try:
            services.member_leave(member=member, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s has left the branch.") % {"name": member.name})
    flash_errors(request, form)
    return redirect("party-branch-detail", pk=member.branch_id)


def _escalation_or_404(user, pk: int) -> Escalation:
    try:
        return selectors.escalation_list(user=user).get(pk=pk)
    except Escalation.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def escalation_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Escalation, "answer")
    escalation = _escalation_or_404(request.user, pk)
    form = EscalationAnswerForm(request.POST)
    if form.is_valid():
        try:
            services.escalation_answer(
                escalation=escalation,
                level=_answer_level(request.user),
                user=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your answer is recorded."))
    flash_errors(request, form)
    return redirect("party-branch-detail", pk=escalation.branch_id)


@login_required
@require_POST
def escalation_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Escalation, CHANGE)
    escalation = _escalation_or_404(request.user, pk)
    form = EscalationResolveForm(request.POST)
    if form.is_valid():
        try:
            services.escalation_resolve(
                escalation=escalation, user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The matter is resolved."))
    flash_errors(request, form)
    return redirect("party-branch-detail", pk=escalation.branch_id)


# ---------------------------------------------------------------------------------------
# Coverage


@login_required
def coverage_view(request: HttpRequest) -> HttpResponse:
    require(request.user, TemporaryBranch, "coverage")
    projects = selectors.coverage(user=request.user)
    totals = selectors.coverage_totals(projects)
    show_all = request.GET.get("all") == "1"
    page, query = paged(request, projects if show_all else selectors.coverage_gaps(projects))
    context = {
        "page": page,
        "query": query,
        "totals": totals,
        "show_all": show_all,
        "can_add": has_permission(request.user, TemporaryBranch, ADD),
    }
    return render(request, "partycells/coverage.html", context)

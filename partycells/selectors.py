"""Reads of party cells and meetings, scoped to the person asking and joined for the page
that shows them, so no page runs a query per row."""

import datetime

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from renovation.access import scope_queryset
from renovation.models import Building, ProjectStatus, RenovationProject
from renovation.selectors.report import Month
from residents.models import RequestKind, RequestStatus, ResidentRequest
from residents.selectors import request_list

from .models import (
    Activity,
    ActivityRequest,
    BranchMember,
    BuildingGroup,
    Decision,
    DecisionReport,
    DecisionStatus,
    Escalation,
    Meeting,
    MeetingKind,
    MeetingVote,
    MemberRole,
    ObjectionSettlement,
    TemporaryBranch,
    VolunteerMember,
    VolunteerTeam,
)

# Projects that should have a branch: from an approved plan until they are accepted.
ACTIVE_PROJECT_STATUSES = [
    ProjectStatus.PLAN_APPROVED,
    ProjectStatus.UNDER_CONSTRUCTION,
    ProjectStatus.COMPLETED,
]
LEADING_ROLES = [MemberRole.FIRST_SECRETARY, MemberRole.SECRETARY]
# Members listed by role, first secretary first.
ROLE_RANK = Case(
    *[When(role=role, then=Value(rank)) for rank, role in enumerate(MemberRole)],
    output_field=IntegerField(),
)
# How far back the activity form offers requests to link.
REQUEST_CHOICE_DAYS = 60


def count_subquery(queryset: QuerySet, outer: str, field: str = "pk") -> Coalesce:
    """COUNT of related rows as a subquery, so several counts never multiply rows."""
    counted = (
        queryset.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Count(field))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _sum(queryset: QuerySet, outer: str, field: str) -> Coalesce:
    summed = (
        queryset.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Sum(field))
        .values("n")
    )
    return Coalesce(Subquery(summed, output_field=IntegerField()), Value(0))


def active_branch_q(prefix: str = "", on: datetime.date | None = None) -> Q:
    """Q for a branch (reached through `prefix`) that exists on `on`, today by default."""
    on = on or timezone.localdate()
    return Q(**{f"{prefix}founded_on__lte": on}) & (
        Q(**{f"{prefix}dissolved_on__isnull": True}) | Q(**{f"{prefix}dissolved_on__gt": on})
    )


# ---------------------------------------------------------------------------------------
# Branches


def branch_list(*, user) -> QuerySet[TemporaryBranch]:
    """Branches the user may see, with their projects and headline counts."""
    queryset = (
        TemporaryBranch.objects.select_related("community__sub_district")
        .prefetch_related(
            Prefetch("projects", queryset=RenovationProject.objects.select_related("compound"))
        )
        .annotate(
            member_count=count_subquery(BranchMember.objects.current(), "branch"),
            group_count=count_subquery(BuildingGroup.objects.all(), "branch"),
            activity_count=count_subquery(Activity.objects.all(), "branch"),
            open_escalations=count_subquery(Escalation.objects.open(), "branch"),
        )
        .order_by(*TemporaryBranch._meta.ordering)
    )
    return scope_queryset(user, queryset)


def branch_get(*, user, pk: int) -> TemporaryBranch:
    """One branch with everything its page shows; DoesNotExist outside the user's area, so
    a guessed id looks exactly like one that does not exist."""
    today = timezone.localdate()
    activities = Activity.objects.annotate(
        opinions=count_subquery(ActivityRequest.objects.all(), "activity")
    ).order_by("-held_on", "-pk")
    return (
        branch_list(user=user)
        .prefetch_related(
            Prefetch(
                "members",
                queryset=BranchMember.objects.annotate(
                    serving=ExpressionWrapper(
                        Q(left_on__isnull=True) | Q(left_on__gt=today),
                        output_field=BooleanField(),
                    ),
                    rank=ROLE_RANK,
                ).order_by("-serving", "rank", "name", "pk"),
            ),
            Prefetch(
                "building_groups",
                queryset=BuildingGroup.objects.select_related("building", "leader")
                .prefetch_related("members")
                .order_by("building__number"),
            ),
            Prefetch(
                "volunteer_teams",
                queryset=VolunteerTeam.objects.prefetch_related(
                    Prefetch("members", queryset=VolunteerMember.objects.select_related("building"))
                ),
            ),
            Prefetch("activities", queryset=activities),
            Prefetch(
                "escalations",
                queryset=Escalation.objects.select_related(
                    "raised_by", "community_answered_by", "sub_district_answered_by"
                ),
            ),
        )
        .get(pk=pk)
    )


def branch_gap_buildings(branch: TemporaryBranch) -> QuerySet[Building]:
    """Buildings of the branch's compounds that no serving branch has a party group for."""
    return (
        Building.objects.filter(compound__projects__party_branches=branch)
        .exclude(
            Exists(
                BuildingGroup.objects.filter(active_branch_q("branch__"), building=OuterRef("pk"))
            )
        )
        .select_related("compound")
        .distinct()
        .order_by("compound__code", "number")
    )


def branch_open_decisions(*, user, branch: TemporaryBranch) -> QuerySet[Decision]:
    """Open decisions of the branch's meetings: the matters still in hand."""
    return decision_list(user=user).filter(meeting__branch=branch, status=DecisionStatus.OPEN)


def request_choices(*, user, branch: TemporaryBranch) -> QuerySet[ResidentRequest]:
    """Requests an activity of the branch may count: recent, from its compounds, not yet
    counted for another activity."""
    since = timezone.now() - datetime.timedelta(days=REQUEST_CHOICE_DAYS)
    return (
        request_list(user=user)
        .filter(compound__projects__party_branches=branch, logged_at__gte=since)
        .exclude(Exists(ActivityRequest.objects.filter(request=OuterRef("pk"))))
        .distinct()
        .order_by("-logged_at")
    )


def member_choices(branch: TemporaryBranch) -> QuerySet[BranchMember]:
    return BranchMember.objects.current().filter(branch=branch).order_by("role", "name")


def building_choices(branch: TemporaryBranch) -> QuerySet[Building]:
    return (
        Building.objects.filter(compound__projects__party_branches=branch)
        .select_related("compound")
        .distinct()
        .order_by("compound__code", "number")
    )


# ---------------------------------------------------------------------------------------
# Meetings and decisions


def meeting_list(*, user) -> QuerySet[Meeting]:
    queryset = (
        Meeting.objects.select_related("branch", "community__sub_district")
        .annotate(
            decision_count=count_subquery(Decision.objects.all(), "meeting"),
            open_count=count_subquery(Decision.objects.open(), "meeting"),
        )
        .order_by(*Meeting._meta.ordering)
    )
    return scope_queryset(user, queryset)


def meeting_get(*, user, pk: int) -> Meeting:
    """One meeting with its agenda, votes, decisions, the items carried to it and the
    objections it settled; DoesNotExist outside the user's area."""
    return (
        meeting_list(user=user)
        .select_related("recorded_by")
        .prefetch_related(
            "departments",
            Prefetch("votes", queryset=MeetingVote.objects.order_by("pk")),
            Prefetch("decisions", queryset=_decisions().order_by("pk")),
            Prefetch(
                "reports",
                queryset=DecisionReport.objects.select_related(
                    "decision__meeting", "decision__responsible_department"
                ).order_by("decision__due_on", "pk"),
            ),
            Prefetch(
                "settlements",
                queryset=ObjectionSettlement.objects.select_related(
                    "request__compound", "request__building", "settled_by"
                ),
            ),
        )
        .get(pk=pk)
    )


def _decisions() -> QuerySet[Decision]:
    return Decision.objects.select_related(
        "meeting__community__sub_district", "meeting__branch", "responsible_department"
    ).annotate(times_carried=count_subquery(DecisionReport.objects.all(), "decision"))


def decision_list(*, user) -> QuerySet[Decision]:
    """Decisions the user may see, with their meeting, who answers for them and how many
    times they have been carried over."""
    return scope_queryset(user, _decisions().order_by("due_on", "pk"))


def decision_totals(decisions: QuerySet[Decision]) -> dict:
    today = timezone.localdate()
    return decisions.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status=DecisionStatus.OPEN)),
        overdue=Count("pk", filter=Q(status=DecisionStatus.OPEN, due_on__lt=today)),
        done=Count("pk", filter=Q(status=DecisionStatus.DONE)),
    )


def settleable_objections(*, user, meeting: Meeting) -> QuerySet[ResidentRequest]:
    """Objections a consultation council may settle: accepted for a council, from the
    compounds of its branch, raised by the day it met, not settled yet."""
    if meeting.kind != MeetingKind.CONSULTATION or meeting.branch_id is None:
        return ResidentRequest.objects.none()
    return (
        request_list(user=user)
        .filter(
            kind=RequestKind.OBJECTION,
            status=RequestStatus.ACCEPTED,
            compound__projects__party_branches=meeting.branch_id,
            logged_at__date__lte=meeting.held_on,
        )
        .exclude(Exists(ObjectionSettlement.objects.filter(request=OuterRef("pk"))))
        .distinct()
        .order_by("logged_at")
    )


def escalation_list(*, user) -> QuerySet[Escalation]:
    return scope_queryset(
        user, Escalation.objects.select_related("branch__community__sub_district")
    )


# ---------------------------------------------------------------------------------------
# Coverage


def coverage(*, user) -> QuerySet[RenovationProject]:
    """Active projects with what their party organisation lacks: a serving branch, a
    secretary, a first secretary for a key project, a group for each building. Each project
    carries `active_branches` (with their `leaders`) and its compound's buildings, each
    marked `grouped`."""
    branch_of_project = TemporaryBranch.objects.filter(active_branch_q(), projects=OuterRef("pk"))
    leaders = BranchMember.objects.current().filter(
        active_branch_q("branch__"), branch__projects=OuterRef("pk")
    )
    grouped = BuildingGroup.objects.filter(active_branch_q("branch__"), building=OuterRef("pk"))
    ungrouped = Building.objects.filter(compound=OuterRef("compound")).exclude(Exists(grouped))
    queryset = (
        RenovationProject.objects.filter(status__in=ACTIVE_PROJECT_STATUSES)
        .select_related("compound__community__sub_district")
        .annotate(
            has_branch=Exists(branch_of_project),
            has_secretary=Exists(leaders.filter(role=MemberRole.SECRETARY)),
            has_first_secretary=Exists(leaders.filter(role=MemberRole.FIRST_SECRETARY)),
            buildings_without_group=_count_outer(ungrouped, "compound"),
        )
        .prefetch_related(
            Prefetch(
                "party_branches",
                queryset=TemporaryBranch.objects.filter(active_branch_q()).prefetch_related(
                    Prefetch(
                        "members",
                        queryset=BranchMember.objects.current().filter(role__in=LEADING_ROLES),
                        to_attr="leaders",
                    )
                ),
                to_attr="active_branches",
            ),
            Prefetch(
                "compound__buildings",
                queryset=Building.objects.annotate(grouped=Exists(grouped)).order_by("number"),
            ),
        )
        .order_by("compound__community__sub_district__code", "compound__community__code", "pk")
    )
    return scope_queryset(user, queryset)


def _count_outer(queryset: QuerySet, field: str) -> Coalesce:
    """COUNT of rows of `queryset` (already filtered by an OuterRef) grouped by `field`."""
    counted = queryset.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def coverage_totals(projects: QuerySet[RenovationProject]) -> dict:
    totals = projects.aggregate(
        projects=Count("pk"),
        without_branch=Count("pk", filter=Q(has_branch=False)),
        without_secretary=Count("pk", filter=Q(has_branch=True, has_secretary=False)),
        key_without_first_secretary=Count(
            "pk", filter=Q(is_key=True, has_branch=True, has_first_secretary=False)
        ),
    )
    # Counted from the buildings themselves: summing a subquery annotation is not portable,
    # and a compound with two active projects would count twice.
    grouped = BuildingGroup.objects.filter(active_branch_q("branch__"), building=OuterRef("pk"))
    totals["buildings_without_group"] = (
        Building.objects.filter(compound__in=projects.order_by().values("compound"))
        .exclude(Exists(grouped))
        .count()
    )
    return totals


def coverage_gaps(projects: QuerySet[RenovationProject]) -> QuerySet[RenovationProject]:
    """Only the projects that lack something."""
    return projects.filter(
        Q(has_branch=False)
        | Q(has_secretary=False)
        | Q(is_key=True, has_first_secretary=False)
        | Q(buildings_without_group__gt=0)
    )


# ---------------------------------------------------------------------------------------
# The monthly report: as the programme stood at the end of a month


def branch_rows(month: Month) -> QuerySet[TemporaryBranch]:
    """The Party branches sheet: every branch that existed during the month, with its
    members, trainees and groups at the month's end and its work during the month."""
    first, last = month.first, month.last
    in_month = {"held_on__range": (first, last)}
    consultations = Meeting.objects.filter(kind=MeetingKind.CONSULTATION, **in_month)
    return (
        TemporaryBranch.objects.active_during(first, last)
        .select_related("community__sub_district")
        .prefetch_related(
            Prefetch(
                "projects",
                queryset=RenovationProject.objects.select_related("compound").order_by("pk"),
            ),
            Prefetch(
                "members",
                queryset=BranchMember.objects.current(last)
                .filter(role__in=LEADING_ROLES)
                .order_by("role", "name"),
                to_attr="leaders_then",
            ),
        )
        .annotate(
            members_then=count_subquery(BranchMember.objects.current(last), "branch"),
            trainees_then=count_subquery(
                BranchMember.objects.current(last).filter(is_trainee=True), "branch"
            ),
            groups_then=count_subquery(
                BuildingGroup.objects.filter(founded_on__lte=last), "branch"
            ),
            activities_month=count_subquery(Activity.objects.filter(**in_month), "branch"),
            households_month=_sum(
                Activity.objects.filter(**in_month), "branch", "households_visited"
            ),
            opinions_month=count_subquery(
                ActivityRequest.objects.filter(activity__held_on__range=(first, last)),
                "activity__branch",
            ),
            consultations_month=count_subquery(consultations, "branch"),
            objections_month=count_subquery(
                ObjectionSettlement.objects.filter(meeting__in=consultations.values("pk")),
                "meeting__branch",
            ),
            escalations_month=count_subquery(
                Escalation.objects.filter(raised_at__date__range=(first, last)), "branch"
            ),
        )
        .order_by("community__sub_district__code", "community__code", "founded_on", "pk")
    )


def decision_rows(month: Month) -> QuerySet[Decision]:
    """The Decisions sheet: decisions of district joint meetings still open on the month's
    last day, with how many joint meetings they had been carried to by then."""
    return (
        Decision.objects.filter(meeting__kind=MeetingKind.JOINT)
        .open_on(month.last)
        .select_related("meeting", "responsible_department")
        .annotate(
            carried_then=count_subquery(
                DecisionReport.objects.filter(meeting__held_on__lte=month.last), "decision"
            )
        )
        .order_by("due_on", "meeting__held_on", "pk")
    )


def branch_secretaries_by_project(month: Month) -> dict[int, str]:
    """Each project's branch secretary at the end of the month (of its latest branch founded
    by then), for the Projects sheet; one query."""
    rows = (
        BranchMember.objects.current(month.last)
        .filter(role=MemberRole.SECRETARY, branch__founded_on__lte=month.last)
        .order_by("branch__founded_on", "branch_id")
        .values_list("branch__projects", "name")
    )
    return {project: name for project, name in rows if project is not None}

"""Writes of a branch's activities and of its escalations to the community and
sub-district."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from renovation.models import RenovationProject
from residents.models import ResidentRequest

from ..models import (
    Activity,
    ActivityRequest,
    Escalation,
    TemporaryBranch,
)
from .common import (
    ACTIVITY_REQUEST_WINDOW_DAYS,
    TEXT_MAX,
    branch_compound_ids,
    check_branch_open,
    check_choice,
    check_length,
    check_not_future,
    clean_text,
    fresh_branch,
    raise_if_any,
    today,
)

# ---------------------------------------------------------------------------------------
# Activities


@transaction.atomic
def activity_record(
    *,
    branch: TemporaryBranch,
    kind: str,
    held_on: datetime.date,
    place: str,
    participants: int,
    user,
    households_visited: int = 0,
    summary: str = "",
    requests: Iterable[ResidentRequest] = (),
) -> Activity:
    """Record a themed party day or branch meeting, with the resident requests it produced
    (logged in the branch's compounds on the day or within a week after)."""
    branch = fresh_branch(branch)
    place, summary = clean_text(place), clean_text(summary)
    requests = list(requests)
    errors: dict[str, str] = {}
    check_choice(kind, Activity.Kind, "kind", errors)
    if held_on is None:
        errors["held_on"] = _("Enter the date of the activity.")
    else:
        check_not_future(held_on, "held_on", errors)
        check_branch_open(branch, held_on, "held_on", errors)
    if not place:
        errors["place"] = _("Enter where the activity was held.")
    check_length(place, "place", 100, errors)
    check_length(summary, "summary", TEXT_MAX, errors)
    if participants is None or participants < 1:
        errors["participants"] = _("At least one person took part.")
    households = (
        RenovationProject.objects.filter(party_branches=branch).aggregate(
            total=Sum("compound__households")
        )["total"]
        or 0
    )
    if households_visited is None or households_visited < 0:
        errors["households_visited"] = _("The households visited cannot be negative.")
    elif households_visited > households:
        errors["households_visited"] = _(
            "The branch's compounds have %(households)s households; more cannot be visited."
        ) % {"households": households}
    compounds = branch_compound_ids(branch)
    for request in requests:
        if request.compound_id not in compounds:
            errors.setdefault(
                "requests",
                _("Request no. %(number)s is from a compound this branch does not cover.")
                % {"number": request.pk},
            )
        elif held_on is not None:
            logged = timezone.localdate(request.logged_at)
            window = held_on + datetime.timedelta(days=ACTIVITY_REQUEST_WINDOW_DAYS)
            if not held_on <= logged <= window:
                errors.setdefault(
                    "requests",
                    _(
                        "Request no. %(number)s was logged on %(date)s: an activity collects "
                        "requests logged on its day or in the %(days)s days after."
                    )
                    % {
                        "number": request.pk,
                        "date": logged.isoformat(),
                        "days": ACTIVITY_REQUEST_WINDOW_DAYS,
                    },
                )
    taken = ActivityRequest.objects.filter(request__in=[r.pk for r in requests]).first()
    if taken is not None:
        errors.setdefault(
            "requests",
            _("Request no. %(number)s is already counted for another activity.")
            % {"number": taken.request_id},
        )
    raise_if_any(errors)
    activity = Activity.objects.create(
        branch=branch,
        kind=kind,
        held_on=held_on,
        place=place,
        participants=participants,
        households_visited=households_visited,
        summary=summary,
        recorded_by=user,
    )
    ActivityRequest.objects.bulk_create(
        [ActivityRequest(activity=activity, request=r) for r in requests]
    )
    return activity


# ---------------------------------------------------------------------------------------
# Escalations


class Level:
    COMMUNITY = "community"
    SUB_DISTRICT = "sub_district"


@transaction.atomic
def escalation_raise(
    *, branch: TemporaryBranch, matter: str, user, at: datetime.datetime | None = None
) -> Escalation:
    """The branch "blows the whistle": the community and the sub-district must each answer
    within settings.PARTYCELLS_ESCALATION_ANSWER_HOURS."""
    branch = fresh_branch(branch)
    matter = clean_text(matter)
    at = at or timezone.now()
    errors: dict[str, str] = {}
    if not matter:
        errors["matter"] = _("Describe the matter the branch needs help with.")
    check_length(matter, "matter", TEXT_MAX, errors)
    if at > timezone.now():
        errors["at"] = _("The time cannot be later than now.")
    check_branch_open(branch, timezone.localdate(at), "matter", errors)
    raise_if_any(errors)
    hours = settings.PARTYCELLS_ESCALATION_ANSWER_HOURS
    return Escalation.objects.create(
        branch=branch,
        matter=matter,
        raised_at=at,
        raised_by=user,
        respond_by=at + datetime.timedelta(hours=hours),
    )


@transaction.atomic
def escalation_answer(
    *,
    escalation: Escalation,
    level: str,
    answer: str,
    user,
    at: datetime.datetime | None = None,
) -> Escalation:
    """The community or the sub-district reports in ("社街报到"). An answer after the
    deadline is recorded, and the escalation stays flagged as not answered in time."""
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    answer = clean_text(answer)
    at = at or timezone.now()
    errors: dict[str, str] = {}
    if level not in (Level.COMMUNITY, Level.SUB_DISTRICT):
        raise ValidationError({"level": _("Only the community or the sub-district answers.")})
    field = f"{level}_answered_at"
    if getattr(escalation, field) is not None:
        errors["answer"] = _("This level already answered on %(date)s.") % {
            "date": timezone.localtime(getattr(escalation, field)).strftime("%Y-%m-%d %H:%M")
        }
    if not answer:
        errors.setdefault("answer", _("Write what you will do about it."))
    check_length(answer, "answer", TEXT_MAX, errors)
    if at < escalation.raised_at or at > timezone.now():
        errors["at"] = _("The time must be between the escalation and now.")
    raise_if_any(errors)
    setattr(escalation, field, at)
    setattr(escalation, f"{level}_answer", answer)
    setattr(escalation, f"{level}_answered_by", user)
    escalation.save()
    return escalation


@transaction.atomic
def escalation_resolve(
    *, escalation: Escalation, resolution: str, user, on: datetime.date | None = None
) -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    resolution = clean_text(resolution)
    on = on or today()
    errors: dict[str, str] = {}
    if escalation.resolved_on is not None:
        errors["resolution"] = _("The matter was already resolved on %(date)s.") % {
            "date": escalation.resolved_on.isoformat()
        }
    if not resolution:
        errors.setdefault("resolution", _("Write how the matter was resolved."))
    check_length(resolution, "resolution", TEXT_MAX, errors)
    check_not_future(on, "on", errors)
    if on < timezone.localdate(escalation.raised_at):
        errors["on"] = _("The date cannot be before the matter was raised.")
    raise_if_any(errors)
    escalation.resolved_on, escalation.resolution = on, resolution
    escalation.save(update_fields=["resolved_on", "resolution"])
    return escalation

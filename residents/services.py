"""Writes of residents' data. Each service is atomic, checks its rules and raises
ValidationError (keyed by field) with a message a resident-facing worker can act on."""

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renovation.access import scope_queryset
from renovation.history import save_by
from renovation.models import (
    Building,
    Compound,
    ItemCategory,
    ProjectItem,
    RenovationProject,
    Role,
)
from renovation.models.projects import FINISHED

from .models import (
    TRANSITIONS,
    Channel,
    CompoundPage,
    DemandList,
    DemandListItem,
    ErrandBooking,
    RequestKind,
    RequestLog,
    RequestStatus,
    ResidentRequest,
    ServiceSlot,
    Survey,
    SurveyAnswer,
    new_token,
)
from .phones import normalise_phone
from .selectors import demand_list_lines, pending_wishes

DESCRIPTION_MAX = 1000
ANSWER_MAX = 1000
S = RequestStatus


def _today() -> datetime.date:
    return timezone.localdate()


def _check_not_future(day: datetime.date, field: str) -> None:
    if day > _today():
        raise ValidationError({field: _("The date cannot be later than today.")})


def _text(value: str | None) -> str:
    return (value or "").strip()


# ---------------------------------------------------------------------------------------
# Requests


def due_date_for(*, kind: str, compound: Compound, on: datetime.date) -> datetime.date:
    """When a request is due: errands within days, objections within the week, complaints
    within the period in settings; a wish before the compound's demand list in the making
    is sent, or within the default period when there is none (or it has no date)."""
    days = {
        RequestKind.ERRAND: settings.RESIDENTS_ERRAND_DAYS,
        RequestKind.OBJECTION: settings.RESIDENTS_OBJECTION_DAYS,
        RequestKind.COMPLAINT: settings.RESIDENTS_COMPLAINT_DAYS,
    }
    if kind in days:
        return on + datetime.timedelta(days=days[kind])
    draft = (
        DemandList.objects.filter(compound=compound, status=DemandList.Status.DRAFT)
        .values_list("send_by", flat=True)
        .first()
    )
    if draft and draft >= on:
        return draft
    return on + datetime.timedelta(days=settings.RESIDENTS_WISH_DAYS)


def _log(request: ResidentRequest, from_status: str, to_status: str, user, note: str = ""):
    return RequestLog.objects.create(
        request=request, from_status=from_status, to_status=to_status, note=note, by=user
    )


@transaction.atomic
def request_create(
    *,
    user,
    kind: str,
    channel: str,
    compound: Compound,
    description: str,
    building: Building | None = None,
    unit_number: int | None = None,
    room: str = "",
    category: ItemCategory | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    project: RenovationProject | None = None,
    logged_at: datetime.datetime | None = None,
    is_verified: bool | None = None,
) -> ResidentRequest:
    """Log a request from either track. `user` is None for the public online form, whose
    requests wait as "online, not yet verified" until community staff review them."""
    description = _text(description)
    room = _text(room)
    contact_name = _text(contact_name)
    errors: dict[str, str] = {}
    if kind not in RequestKind.values:
        errors["kind"] = _("Unknown kind of request.")
    if channel not in Channel.values:
        errors["channel"] = _("Unknown channel.")
    if (
        user is not None
        and not scope_queryset(user, Compound.objects.filter(pk=compound.pk)).exists()
    ):
        errors["compound"] = _("You can log requests only for compounds of your own area.")
    if not description:
        errors["description"] = _("Say what the resident asks for.")
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = _("Keep the description under %(max)s characters.") % {
            "max": DESCRIPTION_MAX
        }
    if building is not None and building.compound_id != compound.pk:
        errors["building"] = _("The building is not in the chosen compound.")
    if unit_number is not None:
        if building is None:
            errors["unit_number"] = _("Choose the building of the stairwell unit.")
        elif not 1 <= unit_number <= building.units:
            errors["unit_number"] = _("Building %(building)s has units 1 to %(units)s.") % {
                "building": building.number,
                "units": building.units,
            }
    if len(room) > 10:
        errors["room"] = _("A room number has at most 10 characters.")
    if len(contact_name) > 30:
        errors["contact_name"] = _("A name has at most 30 characters.")
    try:
        contact_phone = normalise_phone(contact_phone)
    except ValidationError as error:
        errors["contact_phone"] = error.messages[0]
    if kind == RequestKind.OBJECTION and "compound" not in errors:
        if project is None:
            project = (
                RenovationProject.objects.filter(compound=compound).order_by("-batch_year").first()
            )
            if project is None:
                errors["kind"] = _(
                    "An objection during construction needs a project: %(compound)s has none."
                ) % {"compound": compound.name}
        elif project.compound_id != compound.pk:
            errors["project"] = _("The project is not the chosen compound's.")
    elif project is not None and project.compound_id != compound.pk:
        errors["project"] = _("The project is not the chosen compound's.")
    if errors:
        raise ValidationError(errors)

    logged_at = logged_at or timezone.now()
    request = ResidentRequest(
        kind=kind,
        channel=channel,
        compound=compound,
        building=building,
        unit_number=unit_number,
        room=room,
        category=category,
        description=description,
        contact_name=contact_name,
        contact_phone=contact_phone,
        is_verified=(user is not None) if is_verified is None else is_verified,
        logged_by=user,
        logged_at=logged_at,
        due_on=due_date_for(kind=kind, compound=compound, on=timezone.localdate(logged_at)),
        project=project,
    )
    save_by(request, user)
    _log(request, "", S.NEW, user)
    return request


def allowed_moves(request: ResidentRequest) -> tuple[str, ...]:
    return TRANSITIONS[request.status]


def _check_move(request: ResidentRequest, target: str) -> None:
    current = S(request.status)
    try:
        target = S(target)
    except ValueError:
        raise ValidationError({"to_status": _("Unknown status.")}) from None
    if target == current:
        raise ValidationError(
            {"to_status": _("The request is already “%(status)s”.") % {"status": current.label}}
        )
    allowed = TRANSITIONS[current]
    if not allowed:
        raise ValidationError(
            {
                "to_status": _("A request that is “%(status)s” is closed and cannot change.")
                % {"status": current.label}
            }
        )
    if target not in allowed:
        raise ValidationError(
            {
                "to_status": _(
                    "A request that is “%(current)s” can only become %(allowed)s, not “%(target)s”."
                )
                % {
                    "current": current.label,
                    "allowed": _(" or ").join(f"“{S(s).label}”" for s in allowed),
                    "target": target.label,
                }
            }
        )


def _move(
    request: ResidentRequest,
    target: str,
    user,
    *,
    note: str = "",
    project_item: ProjectItem | None = None,
) -> RequestLog:
    """One step of the workflow on a locked row; the rules for every step live here."""
    _check_move(request, target)
    note = _text(note)
    if len(note) > ANSWER_MAX:
        raise ValidationError(
            {"note": _("Keep the note under %(max)s characters.") % {"max": ANSWER_MAX}}
        )
    if target == S.DECLINED:
        if not note:
            raise ValidationError(
                {"note": _("Declining a request needs a reason the resident can be told.")}
            )
        request.answer = note
    if target == S.PLANNED:
        if project_item is None:
            raise ValidationError(
                {"project_item": _("Planning a request needs the project item it goes into.")}
            )
        if project_item.project.compound_id != request.compound_id:
            raise ValidationError(
                {"project_item": _("The item belongs to another compound's project.")}
            )
        request.project_item = project_item
        request.project = project_item.project
    if target == S.DEFERRED and not note:
        raise ValidationError({"note": _("Deferring a request needs a reason.")})
    from_status = request.status
    if from_status == S.NEW:
        request.is_verified = True  # reviewed by staff: an online wish is no longer unchecked
    request.status = target
    save_by(request, user)
    return _log(request, from_status, target, user, note)


def _locked(request: ResidentRequest) -> ResidentRequest:
    return ResidentRequest.objects.select_for_update().select_related("compound").get(pk=request.pk)


@transaction.atomic
def request_transition(
    *,
    request: ResidentRequest,
    to_status: str,
    user,
    note: str = "",
    project_item: ProjectItem | None = None,
) -> RequestLog:
    """Move a request one step along new → under review → accepted / declined (with a
    reason) / deferred → planned (into a project item of its compound) → resolved."""
    locked = _locked(request)
    if locked.kind == RequestKind.OBJECTION and to_status == S.RESOLVED:
        raise ValidationError(
            {"to_status": _("An objection is resolved by settling it, with its outcome.")}
        )
    log = _move(locked, to_status, user, note=note, project_item=project_item)
    request.refresh_from_db()
    return log


@transaction.atomic
def requests_bulk_transition(
    *, requests: Iterable[ResidentRequest], to_status: str, user, note: str = ""
) -> int:
    """Move several requests at once; all move or none does, and the error names the
    requests that cannot."""
    ids = [r.pk for r in requests]
    if not ids:
        raise ValidationError({"requests": _("Choose at least one request.")})
    failures = []
    locked = ResidentRequest.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    for request in locked:
        try:
            if request.kind == RequestKind.OBJECTION and to_status == S.RESOLVED:
                raise ValidationError(_("An objection is resolved by settling it."))
            _move(request, to_status, user, note=note)
        except ValidationError as error:
            failures.append(f"#{request.pk}: {' '.join(error.messages)}")
    if failures:
        raise ValidationError({"to_status": failures})
    return len(ids)


@transaction.atomic
def request_assign(*, request: ResidentRequest, assignee, user) -> RequestLog:
    """Give a request to a grid worker or staff member of its community."""
    locked = _locked(request)
    profile = getattr(assignee, "staff_profile", None)
    if (
        profile is None
        or profile.role not in (Role.GRID_WORKER, Role.COMMUNITY_STAFF)
        or profile.community_id != locked.compound.community_id
        or not assignee.is_active
    ):
        raise ValidationError(
            {"assignee": _("Assign requests only to grid workers or staff of its community.")}
        )
    locked.assigned_to = assignee
    locked.save(update_fields=["assigned_to", "updated_at"])
    request.refresh_from_db()
    name = assignee.get_full_name() or assignee.get_username()
    note = _("Assigned to %(name)s.") % {"name": name}
    return _log(locked, locked.status, locked.status, user, note)


@transaction.atomic
def request_answer(*, request: ResidentRequest, answer: str, user) -> RequestLog:
    """Record the answer the resident is given (shown on the request and in its history)."""
    answer = _text(answer)
    if not answer:
        raise ValidationError({"answer": _("Write the answer the resident is given.")})
    if len(answer) > ANSWER_MAX:
        raise ValidationError(
            {"answer": _("Keep the answer under %(max)s characters.") % {"max": ANSWER_MAX}}
        )
    locked = _locked(request)
    locked.answer = answer
    locked.save(update_fields=["answer", "updated_at"])
    request.refresh_from_db()
    return _log(locked, locked.status, locked.status, user, answer)


@transaction.atomic
def objection_settle(
    *,
    request: ResidentRequest,
    outcome: str,
    user,
    meeting,
    on: datetime.date | None = None,
) -> RequestLog:
    """Record how an objection was settled at a consultation council (协商议事会), and
    resolve it. Objections are settled only there: the party-cells app calls this from its
    `objection_settle`, which keeps the link to the meeting (request.party_settlement)."""
    locked = _locked(request)
    outcome = _text(outcome)
    on = on or _today()
    if locked.kind != RequestKind.OBJECTION:
        raise ValidationError({"outcome": _("Only objections are settled at a meeting.")})
    if locked.status != S.ACCEPTED:
        raise ValidationError(
            {
                "outcome": _(
                    "An objection is settled once it has been accepted for a consultation "
                    "meeting; this one is “%(status)s”."
                )
                % {"status": S(locked.status).label}
            }
        )
    # Compared by value: the meeting model lives in partycells, which imports this app.
    if meeting is None or getattr(meeting, "kind", None) != "consultation":
        raise ValidationError(
            {
                "meeting": _(
                    "An objection is settled at a consultation council: settle it from the "
                    "council's page."
                )
            }
        )
    if not outcome:
        raise ValidationError({"outcome": _("Write what the meeting agreed.")})
    if len(outcome) > ANSWER_MAX:
        raise ValidationError(
            {"outcome": _("Keep the outcome under %(max)s characters.") % {"max": ANSWER_MAX}}
        )
    _check_not_future(on, "on")
    locked.settlement = outcome
    locked.settled_on = on
    locked.settled_by = user
    locked.answer = outcome
    log = _move(locked, S.RESOLVED, user, note=outcome)
    request.refresh_from_db()
    return log


# ---------------------------------------------------------------------------------------
# Surveys


@transaction.atomic
def survey_create(
    *,
    compound: Compound,
    kind: str,
    user,
    started_on: datetime.date | None = None,
    project: RenovationProject | None = None,
) -> Survey:
    """Open a willingness survey, or a satisfaction survey about a completed project."""
    started_on = started_on or _today()
    _check_not_future(started_on, "started_on")
    if kind not in Survey.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of survey.")})
    if Survey.objects.filter(compound=compound, kind=kind, status=Survey.Status.OPEN).exists():
        raise ValidationError(
            {
                "compound": _("%(compound)s already has an open %(kind)s.")
                % {"compound": compound.name, "kind": Survey.Kind(kind).label}
            }
        )
    if kind == Survey.Kind.SATISFACTION:
        if project is None or project.compound_id != compound.pk:
            raise ValidationError(
                {"project": _("A satisfaction survey asks about a project of the compound.")}
            )
        if project.status not in FINISHED:
            raise ValidationError(
                {"project": _("A satisfaction survey follows completion: the project is not.")}
            )
    elif project is not None:
        project = None  # a willingness survey comes before any project
    survey = Survey(
        compound=compound, kind=kind, started_on=started_on, project=project, created_by=user
    )
    return save_by(survey, user)


@transaction.atomic
def survey_answer_record(
    *,
    survey: Survey,
    building: Building,
    unit_number: int,
    room: str,
    answer: str,
    user,
    on: datetime.date | None = None,
) -> SurveyAnswer:
    """Record (or correct) one household's answer, identified by building, stairwell unit
    and room; no names are needed."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    room = _text(room)
    on = on or _today()
    errors: dict[str, str] = {}
    if survey.status != Survey.Status.OPEN:
        errors["survey"] = _("The survey is closed; its answers can no longer change.")
    if building.compound_id != survey.compound_id:
        errors["building"] = _("The building is not in the surveyed compound.")
    elif not unit_number or not 1 <= unit_number <= building.units:
        errors["unit_number"] = _("Building %(building)s has units 1 to %(units)s.") % {
            "building": building.number,
            "units": building.units,
        }
    if not room:
        errors["room"] = _("Give the room number of the household.")
    elif len(room) > 10:
        errors["room"] = _("A room number has at most 10 characters.")
    if answer not in SurveyAnswer.Answer.values:
        errors["answer"] = _("Choose agree, disagree or not reached.")
    if on > _today():
        errors["on"] = _("The date cannot be later than today.")
    elif on < survey.started_on:
        errors["on"] = _("The answer cannot be dated before the survey started.")
    if errors:
        raise ValidationError(errors)
    row, _created = SurveyAnswer.objects.update_or_create(
        survey=survey,
        building=building,
        unit_number=unit_number,
        room=room,
        defaults={"answer": answer, "answered_on": on, "recorded_by": user},
    )
    return row


@transaction.atomic
def survey_close(*, survey: Survey, user, on: datetime.date | None = None) -> Survey:
    """Close a survey: its consent counts from now on (the pipeline gate reads the latest
    closed willingness survey)."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    on = on or _today()
    if survey.status != Survey.Status.OPEN:
        raise ValidationError({"survey": _("The survey is already closed.")})
    if not survey.answers.exists():
        raise ValidationError({"survey": _("A survey with no answers cannot be closed.")})
    _check_not_future(on, "on")
    if on < survey.started_on:
        raise ValidationError({"on": _("A survey cannot close before it started.")})
    survey.status = Survey.Status.CLOSED
    survey.closed_on = on
    survey.save(update_fields=["status", "closed_on"])
    return survey


# ---------------------------------------------------------------------------------------
# Demand lists


def _locked_list(demand_list: DemandList) -> DemandList:
    return DemandList.objects.select_for_update().select_related("compound").get(pk=demand_list.pk)


def _frozen_error(demand_list: DemandList) -> ValidationError:
    return ValidationError(
        {
            "status": _("The demand list is “%(status)s”: what was sent cannot change.")
            % {"status": demand_list.get_status_display()}
        }
    )


@transaction.atomic
def demand_list_create(
    *, compound: Compound, user, send_by: datetime.date | None = None
) -> DemandList:
    """Start the compound's next demand list; its accepted wishes gather on it until sent."""
    if DemandList.objects.filter(compound=compound, status=DemandList.Status.DRAFT).exists():
        raise ValidationError(
            {
                "compound": _("%(compound)s already has a demand list in the making.")
                % {"compound": compound.name}
            }
        )
    if send_by is not None and send_by < _today():
        raise ValidationError({"send_by": _("The date to send by cannot be in the past.")})
    try:
        with transaction.atomic():
            return DemandList.objects.create(compound=compound, send_by=send_by, created_by=user)
    except IntegrityError:  # another draft was started at the same moment
        raise ValidationError(
            {
                "compound": _("%(compound)s already has a demand list in the making.")
                % {"compound": compound.name}
            }
        ) from None


@transaction.atomic
def demand_list_review(
    *, demand_list: DemandList, meeting: str, on: datetime.date, note: str, user
) -> DemandList:
    """Record the residents' council or party meeting that went through the draft."""
    demand_list = _locked_list(demand_list)
    if demand_list.is_frozen:
        raise _frozen_error(demand_list)
    note = _text(note)
    if meeting not in DemandList.Meeting.values:
        raise ValidationError({"meeting": _("Choose the meeting that reviewed the list.")})
    _check_not_future(on, "on")
    if not note:
        raise ValidationError({"note": _("Note what the meeting decided.")})
    if len(note) > ANSWER_MAX:
        raise ValidationError(
            {"note": _("Keep the note under %(max)s characters.") % {"max": ANSWER_MAX}}
        )
    demand_list.reviewed_at = meeting
    demand_list.reviewed_on = on
    demand_list.review_note = note
    demand_list.save(update_fields=["reviewed_at", "reviewed_on", "review_note"])
    return demand_list


@transaction.atomic
def demand_list_send(
    *, demand_list: DemandList, user, on: datetime.date | None = None
) -> DemandList:
    """Send the reviewed list to the housing bureau. Its lines are frozen as they stand and
    its wishes are tied to it; wishes accepted later go to the compound's next list."""
    demand_list = _locked_list(demand_list)
    on = on or _today()
    if demand_list.is_frozen:
        raise _frozen_error(demand_list)
    if not demand_list.reviewed_on:
        raise ValidationError(
            {"status": _("A demand list is reviewed at a meeting before it is sent.")}
        )
    _check_not_future(on, "on")
    if on < demand_list.reviewed_on:
        raise ValidationError({"on": _("A list cannot be sent before the meeting reviewed it.")})
    # Lock the wishes so none changes between counting and tying them to the list.
    wishes = list(pending_wishes(demand_list.compound).select_for_update())
    lines = demand_list_lines(demand_list)
    if not lines:
        raise ValidationError({"status": _("The list is empty: no accepted wishes to send.")})
    summaries: dict[int | None, list[str]] = {}
    for wish in wishes:
        summaries.setdefault(wish.category_id, []).append(wish.description[:60])
    DemandListItem.objects.bulk_create(
        DemandListItem(
            demand_list=demand_list,
            category=line.category,
            households=line.households,
            requests=line.requests,
            summary="\n".join(summaries.get(line.category.pk if line.category else None, [])[:20]),
        )
        for line in lines
    )
    for wish in wishes:  # one by one, so each request's history shows the list it went in
        wish.demand_list = demand_list
        save_by(wish, user, update_fields=["demand_list", "updated_at"])
    demand_list.status = DemandList.Status.SENT
    demand_list.sent_on = on
    demand_list.sent_by = user
    demand_list.save(update_fields=["status", "sent_on", "sent_by"])
    return demand_list


@transaction.atomic
def demand_list_receive(
    *, demand_list: DemandList, user, on: datetime.date | None = None
) -> DemandList:
    """The housing bureau acknowledges a sent list."""
    demand_list = _locked_list(demand_list)
    on = on or _today()
    if demand_list.status != DemandList.Status.SENT:
        raise ValidationError(
            {
                "status": _("Only a sent list can be received; this one is “%(status)s”.")
                % {"status": demand_list.get_status_display()}
            }
        )
    _check_not_future(on, "on")
    if on < demand_list.sent_on:
        raise ValidationError({"on": _("A list cannot be received before it was sent.")})
    demand_list.status = DemandList.Status.RECEIVED
    demand_list.received_on = on
    demand_list.received_by = user
    demand_list.save(update_fields=["status", "received_on", "received_by"])
    return demand_list


def _quantity(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("-1")


@transaction.atomic
def demand_list_create_items(
    *,
    demand_list: DemandList,
    project: RenovationProject,
    quantities: Mapping[int, object],
    user,
) -> list[ProjectItem]:
    """Turn lines of a received list into items of the compound's project (quantity given
    by staff per line), and move the wishes behind each line to "planned" in that item."""
    demand_list = _locked_list(demand_list)
    if demand_list.status != DemandList.Status.RECEIVED:
        raise ValidationError({"status": _("Project items are made from a received demand list.")})
    if project.compound_id != demand_list.compound_id:
        raise ValidationError({"project": _("The project is not this compound's.")})
    if project.status in FINISHED:
        raise ValidationError({"project": _("The project is finished; it takes no new items.")})
    lines = {item.pk: item for item in demand_list.items.select_related("category")}
    chosen: list[tuple[DemandListItem, Decimal]] = []
    errors = []
    for pk, raw in quantities.items():
        quantity = _quantity(raw)
        if quantity is None:
            continue
        line = lines.get(int(pk))
        if line is None:
            errors.append(_("A line that is not on this list was chosen."))
        elif line.category is None:
            errors.append(_("“Other” wishes have no catalogue item: add them by hand."))
        elif line.project_item_id is not None:
            errors.append(
                _("%(category)s is already an item of the project.")
                % {"category": line.category.name}
            )
        elif quantity <= 0 or quantity >= Decimal("1e10"):
            errors.append(
                _("The quantity of %(category)s must be a positive number.")
                % {"category": line.category.name}
            )
        else:
            chosen.append((line, quantity))
    if errors:
        raise ValidationError({"quantities": errors})
    if not chosen:
        raise ValidationError({"quantities": _("Give a quantity for at least one line.")})
    created = []
    for line, quantity in chosen:
        item = ProjectItem.objects.create(
            project=project,
            category=line.category,
            description=_("From the demand list: %(households)s households asked")
            % {"households": line.households},
            quantity=quantity,
            unit=line.category.default_unit,
            status=ProjectItem.Status.PLANNED,
        )
        line.project_item = item
        line.save(update_fields=["project_item"])
        wishes = ResidentRequest.objects.select_for_update().filter(
            demand_list=demand_list, category=line.category, status=S.ACCEPTED
        )
        for wish in wishes:
            _move(wish, S.PLANNED, user, project_item=item)
        created.append(item)
    return created


# ---------------------------------------------------------------------------------------
# Errands at the community station


def _walk_to_accepted(request: ResidentRequest, user) -> None:
    """Booking an errand takes it on: a new or reviewed errand is accepted, each step logged."""
    if request.status == S.NEW:
        _move(request, S.UNDER_REVIEW, user)
    if request.status == S.UNDER_REVIEW:
        _move(request, S.ACCEPTED, user)


@transaction.atomic
def errand_book(*, request: ResidentRequest, slot: ServiceSlot, user) -> ErrandBooking:
    """Book an errand into a free slot of its community station; a slot holds one errand.
    `user` is None when the resident books online."""
    request = _locked(request)
    # Lock the slot, so two people booking it at once cannot both succeed.
    slot = ServiceSlot.objects.select_for_update().get(pk=slot.pk)
    if request.kind != RequestKind.ERRAND:
        raise ValidationError({"slot": _("Only errands are booked into the station's slots.")})
    if request.status not in (S.NEW, S.UNDER_REVIEW, S.ACCEPTED):
        raise ValidationError(
            {
                "slot": _("A request that is “%(status)s” cannot be booked.")
                % {"status": S(request.status).label}
            }
        )
    if slot.community_id != request.compound.community_id:
        raise ValidationError({"slot": _("The slot is at another community's station.")})
    if slot.starts_at <= timezone.now():
        raise ValidationError({"slot": _("The slot has already begun: choose a later one.")})
    live = [ErrandBooking.Status.BOOKED, ErrandBooking.Status.DONE]
    if slot.bookings.filter(status__in=live).exists():
        raise ValidationError({"slot": _("This slot is already booked: choose another.")})
    if request.bookings.filter(status=ErrandBooking.Status.BOOKED).exists():
        raise ValidationError({"slot": _("The errand already has a booked slot.")})
    _walk_to_accepted(request, user)
    return ErrandBooking.objects.create(slot=slot, request=request, booked_by=user)


@transaction.atomic
def errand_done(*, booking: ErrandBooking, user) -> ErrandBooking:
    """Staff mark a booked errand done: the booking and its request are closed."""
    booking = ErrandBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != ErrandBooking.Status.BOOKED:
        raise ValidationError(
            {
                "status": _("Only a booked errand can be marked done; this one is “%(status)s”.")
                % {"status": booking.get_status_display()}
            }
        )
    request = _locked(booking.request)
    booking.status = ErrandBooking.Status.DONE
    booking.done_at = timezone.now()
    booking.done_by = user
    booking.save(update_fields=["status", "done_at", "done_by"])
    if request.status == S.ACCEPTED:
        _move(request, S.RESOLVED, user, note=_("Done at the community station."))
    return booking


@transaction.atomic
def errand_cancel(*, booking: ErrandBooking, user) -> ErrandBooking:
    """Free the slot of a booked errand; the errand itself stays open."""
    booking = ErrandBooking.objects.select_for_update().get(pk=booking.pk)
    if booking.status != ErrandBooking.Status.BOOKED:
        raise ValidationError({"status": _("Only a booked errand can be cancelled.")})
    booking.status = ErrandBooking.Status.CANCELLED
    booking.save(update_fields=["status"])
    return booking


# ---------------------------------------------------------------------------------------
# The public compound page


@transaction.atomic
def compound_page_get_or_create(*, compound: Compound) -> CompoundPage:
    page, _created = CompoundPage.objects.get_or_create(compound=compound)
    return page


@transaction.atomic
def compound_page_renew_token(*, page: CompoundPage) -> CompoundPage:
    """A new address for the page, for when the printed code was misused: the old one
    stops working at once."""
    page.token = new_token()
    page.save(update_fields=["token"])
    return page


def public_wish_create(
    *,
    page: CompoundPage,
    description: str,
    contact_phone: str,
    contact_name: str = "",
    building: Building | None = None,
    unit_number: int | None = None,
    room: str = "",
    category: ItemCategory | None = None,
) -> ResidentRequest:
    """A wish left on the public page: it lands in the community's queue as "online, not
    yet verified"."""
    if not (contact_phone or "").strip():
        raise ValidationError({"contact_phone": _("Leave a phone number so we can call back.")})
    return request_create(
        user=None,
        kind=RequestKind.WISH,
        channel=Channel.ONLINE,
        compound=page.compound,
        description=description,
        building=building,
        unit_number=unit_number,
        room=room,
        category=category,
        contact_name=contact_name,
        contact_phone=contact_phone,
        is_verified=False,
    )

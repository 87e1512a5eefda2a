"""Writes of renovation projects: creation through the willingness gate, the lifecycle state
machine, and progress updates."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partycells.services import branches_follow_project
from residents.selectors import willingness_passed

from ..history import save_by
from ..models import Building, Compound, ProgressUpdate, ProjectTransition, RenovationProject
from ..models.projects import LIFECYCLE, ProjectStatus

# The date field each forward step sets; a step back clears the dates beyond it.
STATUS_DATE_FIELD = {
    ProjectStatus.FEASIBILITY: "feasibility_on",
    ProjectStatus.PLAN_APPROVED: "plan_approved_on",
    ProjectStatus.UNDER_CONSTRUCTION: "actual_start",
    ProjectStatus.COMPLETED: "actual_finish",
    ProjectStatus.ACCEPTED: "accepted_on",
}
EARLIEST_BATCH_YEAR = 2000


def _today() -> datetime.date:
    return timezone.localdate()


def _check_not_future(day: datetime.date, field: str) -> None:
    if day > _today():
        raise ValidationError({field: _("The date cannot be later than today.")})


@transaction.atomic
def project_create(
    *,
    compound: Compound,
    batch_year: int,
    user,
    name: str = "",
    kind: str = RenovationProject.Kind.REGULAR,
    is_key: bool = False,
    lead_unit: str = "",
    builder: str = "",
    supervisor: str = "",
    budget=0,
    planned_start: datetime.date | None = None,
    planned_finish: datetime.date | None = None,
    plan: str = "",
    buildings: Iterable[Building] = (),
    households_benefited: int | None = None,
    entered_on: datetime.date | None = None,
) -> RenovationProject:
    """Put a compound's project into the pipeline ("one plan per compound" per batch year).

    A compound enters only when its latest closed willingness survey reached the threshold
    in settings (residents.selectors.willingness_passed); the staff member who puts it in is
    recorded as having confirmed it."""
    errors: dict[str, str] = {}
    if not willingness_passed(compound):
        errors["compound"] = _(
            "A compound enters the pipeline only after its willingness survey has passed."
        )
    if not EARLIEST_BATCH_YEAR <= batch_year <= _today().year + 5:
        errors["batch_year"] = _("The batch year must be between %(low)s and %(high)s.") % {
            "low": EARLIEST_BATCH_YEAR,
            "high": _today().year + 5,
        }
    if planned_start and planned_finish and planned_finish < planned_start:
        errors["planned_finish"] = _("The planned finish cannot be before the planned start.")
    if budget is not None and budget < 0:
        errors["budget"] = _("The budget cannot be negative.")
    buildings = list(buildings)
    if any(b.compound_id != compound.pk for b in buildings):
        errors["buildings"] = _("Only buildings of the project's own compound can be covered.")
    if RenovationProject.objects.filter(compound=compound, batch_year=batch_year).exists():
        errors["compound"] = _(
            "%(compound)s already has a project in the %(year)s batch: one plan per compound."
        ) % {"compound": compound.name, "year": batch_year}
    if errors:
        raise ValidationError(errors)

    entered_on = entered_on or _today()
    now = timezone.now()
    project = RenovationProject(
        compound=compound,
        batch_year=batch_year,
        name=name or _("%(compound)s renovation") % {"compound": compound.name},
        kind=kind,
        is_key=is_key,
        lead_unit=lead_unit,
        builder=builder,
        supervisor=supervisor,
        budget=budget or 0,
        planned_start=planned_start,
        planned_finish=planned_finish,
        plan=plan,
        households_benefited=(
            compound.households if households_benefited is None else households_benefited
        ),
        buildings_benefited=len(buildings) or compound.buildings.count(),
        willingness_confirmed_by=user,
        willingness_confirmed_at=now,
    )
    save_by(project, user)
    if buildings:
        project.buildings.set(buildings)
    ProjectTransition.objects.create(
        project=project,
        from_status="",
        to_status=ProjectStatus.PIPELINE,
        effective_on=entered_on,
        by=user,
    )
    return project


def allowed_transitions(project: RenovationProject) -> list[ProjectStatus]:
    """The statuses a project may move to: the next step, or any earlier one with a reason."""
    index = LIFECYCLE.index(ProjectStatus(project.status))
    forward = LIFECYCLE[index + 1 : index + 2]
    return forward + LIFECYCLE[:index][::-1]


@transaction.atomic
def project_transition(
    *,
    project: RenovationProject,
    to_status: str,
    user,
    on: datetime.date | None = None,
    reason: str = "",
) -> ProjectTransition:
    """Move a project one step forward, or back with a written reason, recording who and when.

    Moving forward sets the step's date; moving back clears the dates of the steps undone."""
    project = RenovationProject.objects.select_for_update().get(pk=project.pk)
    on = on or _today()
    reason = (reason or "").strip()
    try:
        target = ProjectStatus(to_status)
    except ValueError:
        raise ValidationError({"to_status": _("Unknown status.")}) from None
    current = ProjectStatus(project.status)
    current_index, target_index = LIFECYCLE.index(current), LIFECYCLE.index(target)

    if target == current:
        raise ValidationError(
            {"to_status": _("The project is already “%(status)s”.") % {"status": current.label}}
        )
    if target_index > current_index + 1:
        raise ValidationError(
            {
                "to_status": _(
                    "A project moves one step at a time: from “%(current)s” the next step is "
                    "“%(next)s”."
                )
                % {"current": current.label, "next": LIFECYCLE[current_index + 1].label}
            }
        )
    if target_index < current_index and not reason:
        raise ValidationError(
            {"reason": _("Moving a project back to an earlier step needs a written reason.")}
        )
    _check_not_future(on, "on")
    last = project.transitions.order_by("-effective_on", "-created_at").first()
    if last and on < last.effective_on:
        raise ValidationError(
            {
                "on": _("The date cannot be before the previous status change (%(date)s).")
                % {"date": last.effective_on.isoformat()}
            }
        )

    if target_index > current_index:
        field = STATUS_DATE_FIELD[target]
        setattr(project, field, on)
        if target == ProjectStatus.COMPLETED and project.actual_start and on < project.actual_start:
            raise ValidationError({"on": _("Completion cannot be before the actual start.")})
    else:
        for status in LIFECYCLE[target_index + 1 :]:
            setattr(project, STATUS_DATE_FIELD[status], None)
    project.status = target
    save_by(project, user)
    # A temporary party branch is dissolved when its projects are accepted (and reopened
    # if the acceptance is undone).
    branches_follow_project(project=project)

    if target == ProjectStatus.COMPLETED:
        latest = project.progress_updates.order_by("-recorded_on").first()
        if latest is None or latest.percent < 100:
            _progress_save(project=project, on=on, percent=100, note="", user=user)
    return ProjectTransition.objects.create(
        project=project,
        from_status=current,
        to_status=target,
        effective_on=on,
        reason=reason,
        by=user,
    )


def check_progress(
    *,
    status: str,
    percent: int,
    on: datetime.date,
    note: str,
    earlier: tuple[datetime.date, int] | None,
) -> None:
    """The rules every progress figure obeys, however it arrives (the project page or the
    monthly import). `earlier` is the latest figure before `on`, as (date, percent).

    Raises ValidationError keyed by "percent", "on" or "note"."""
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ValidationError({"percent": _("Progress is a whole number from 0 to 100.")})
    _check_not_future(on, "on")
    if status in (ProjectStatus.PIPELINE, ProjectStatus.FEASIBILITY) and percent > 0:
        raise ValidationError(
            {"percent": _("A project that has no approved plan yet cannot report progress.")}
        )
    if earlier is not None and percent < earlier[1] and not note:
        earlier_on, earlier_percent = earlier
        raise ValidationError(
            {
                "note": _(
                    "Progress is lower than the %(percent)s%% reported on %(date)s: "
                    "say why in the note."
                )
                % {"percent": earlier_percent, "date": earlier_on.isoformat()}
            }
        )


@transaction.atomic
def progress_record(
    *,
    project: RenovationProject,
    percent: int,
    on: datetime.date,
    user,
    note: str = "",
) -> ProgressUpdate:
    """Record progress as it stood on a date (one figure per project per day: a second entry
    for the same day replaces the first)."""
    note = (note or "").strip()
    # Re-read under a lock: the caller's copy may predate a status change.
    project = RenovationProject.objects.select_for_update().get(pk=project.pk)
    earlier = (
        project.progress_updates.filter(recorded_on__lt=on)
        .order_by("-recorded_on")
        .values_list("recorded_on", "percent")
        .first()
    )
    check_progress(status=project.status, percent=percent, on=on, note=note, earlier=earlier)
    return _progress_save(project=project, on=on, percent=percent, note=note, user=user)


def _progress_save(*, project, on, percent: int, note: str, user) -> ProgressUpdate:
    """One figure per project per day: a second one for the same day replaces the first."""
    update = ProgressUpdate.objects.filter(project=project, recorded_on=on).first()
    update = update or ProgressUpdate(project=project, recorded_on=on)
    update.percent, update.note, update.recorded_by = percent, note, user
    return save_by(update, user)

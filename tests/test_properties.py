"""Property-based tests (hypothesis) of the services that hold the money and status rules.

Each test drives a service with a random sequence of requests, good and bad, and keeps a
small model of what the rules allow beside it: every request must succeed exactly when the
model says it may, a refused one must change nothing, and after every step the invariants
hold (allocations never exceed their source, payments never exceed their allocation,
amounts are exact; a status is always legal, its dates agree with it and every move left
a row). Each example runs in its own transaction, rolled back at the end, so examples
never see each other's data."""

import datetime
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from renovation.models import (
    Disbursement,
    FundingAllocation,
    FundingSource,
    ItemCategory,
    ProjectItem,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
)
from renovation.models.projects import LIFECYCLE
from renovation.services import (
    allocation_create,
    disbursement_create,
    funding_source_create,
    funding_source_set_amount,
    project_create,
    project_transition,
)
from renovation.services.funding import MAX_AMOUNT
from renovation.services.projects import STATUS_DATE_FIELD
from residents.models import RequestKind, RequestLog, RequestStatus
from residents.services import request_create, request_transition
from tests.factories import ProjectFactory

D = datetime.date
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextmanager
def rolled_back():
    """One example's writes, undone when it ends (pytest-django's transaction stays)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# ---------------------------------------------------------------------------------------
# Money: sources, allocations, payments

# Amounts as staff type them: exact decimals, and the hostile ones the service must refuse
# (zero, negative, a third decimal, floats, not numbers, too large).
good_amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("2000000"), places=2, allow_nan=False
)
bad_amounts = st.one_of(
    st.sampled_from(
        ["0", "-0.01", "-100", "1.005", "NaN", "Infinity", "abc", "", "1e309", "12,34,5.6"]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=MAX_AMOUNT + 1, max_value=MAX_AMOUNT * 10, places=2),
)
amounts = st.one_of(good_amounts, good_amounts.map(str), bad_amounts)

money_steps = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.integers(0, 1), amounts),
        st.tuples(st.just("pay"), st.integers(0, 5), amounts),
        st.tuples(st.just("pay"), st.integers(0, 5), amounts),
        st.tuples(st.just("set_amount"), st.just(0), amounts),
    ),
    min_size=1,
    max_size=12,
)
sources = st.decimals(min_value=Decimal("1000"), max_value=Decimal("5000000"), places=2)


def _exact(amount) -> Decimal | None:
    """The amount the rules accept, or None when they must refuse it."""
    if isinstance(amount, float):
        return None
    try:
        value = Decimal(str(amount).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        return None
    return value if value == value.quantize(Decimal("0.01")) else None


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(initial=sources, steps=money_steps)
# Pinned: more than the source, a payment past its allocation, a source cut below what is
# allocated, and an amount too large to round.
@example(
    initial=Decimal("1000.00"),
    steps=[
        ("allocate", 0, Decimal("1000.01")),
        ("allocate", 0, Decimal("600.00")),
        ("pay", 0, Decimal("600.01")),
        ("set_amount", 0, Decimal("599.99")),
        ("set_amount", 0, "1e309"),
    ],
)
def test_money_never_exceeds_its_source_or_allocation(registry, users, initial, steps):
    office = users["finance"]
    with rolled_back():
        source = funding_source_create(
            kind=FundingSource.Kind.CENTRAL_FISCAL,
            year=2022,
            name="中央财政补助资金",
            document_number="桂财建〔2022〕88号",
            amount=initial,
            user=office,
        )
        projects = [ProjectFactory(compound=registry["compounds"][code]) for code in ("GY", "JN")]
        # The model: the source's amount, and each allocation with what was paid from it.
        total = initial
        allocations: list[list] = []  # [allocation, amount, paid]
        for action, index, amount in steps:
            value = _exact(amount)
            allocated = sum((a[1] for a in allocations), Decimal("0"))
            if action == "allocate":
                allowed = value is not None and value <= total - allocated
                call = lambda index=index, amount=amount: allocation_create(  # noqa: E731
                    source=source,
                    project=projects[index],
                    amount=amount,
                    on=D(2022, 3, 1),
                    user=office,
                )
            elif action == "pay":
                if not allocations:
                    continue
                entry = allocations[index % len(allocations)]
                allowed = value is not None and value <= entry[1] - entry[2]
                call = lambda entry=entry, amount=amount: disbursement_create(  # noqa: E731
                    allocation=entry[0], amount=amount, on=D(2022, 3, 15), user=office
                )
            else:
                allowed = value is not None and value >= allocated
                call = lambda amount=amount: funding_source_set_amount(  # noqa: E731
                    source=source, amount=amount, user=office
                )
            event(f"{action} {'allowed' if allowed else 'refused'}")
            before = (
                FundingAllocation.objects.count(),
                Disbursement.objects.count(),
                FundingSource.objects.get().amount,
            )
            try:
                made = call()
            except ValidationError as error:
                assert not allowed, f"{action} {amount!r} was refused: {error.messages}"
                after = (
                    FundingAllocation.objects.count(),
                    Disbursement.objects.count(),
                    FundingSource.objects.get().amount,
                )
                assert after == before, "a refused request changed the money"
            else:
                assert allowed, f"{action} {amount!r} should have been refused"
                if action == "allocate":
                    allocations.append([made, value, Decimal("0")])
                elif action == "pay":
                    entry[2] += value
                else:
                    total = value
            _assert_money_invariants(source, total, allocations)


def _assert_money_invariants(source, total: Decimal, allocations: list[list]) -> None:
    source.refresh_from_db()
    assert source.amount == total
    stored = FundingAllocation.objects.filter(source=source)
    allocated = stored.aggregate(sum=Sum("amount"))["sum"] or Decimal("0")
    assert allocated == sum((a[1] for a in allocations), Decimal("0"))
    assert allocated <= source.amount
    for allocation, amount, paid in allocations:
        allocation.refresh_from_db()
        assert allocation.amount == amount  # exact: no float ever crept in
        assert isinstance(allocation.amount, Decimal)
        payments = allocation.disbursements.aggregate(sum=Sum("amount"))["sum"] or 0
        assert payments == paid <= allocation.amount
        assert all(
            p.project_id == allocation.project_id and p.amount.as_tuple().exponent >= -2
            for p in allocation.disbursements.all()
        )
    for project in RenovationProject.objects.all():
        paid = project.disbursements.aggregate(sum=Sum("amount"))["sum"] or 0
        given_to_it = project.allocations.aggregate(sum=Sum("amount"))["sum"] or 0
        assert paid <= given_to_it


# ---------------------------------------------------------------------------------------
# The project lifecycle

# A move is asked relative to where the project stands (so that many go through): the next
# step, back by some steps, a leap of two or more, the same status, or a status that does
# not exist.
moves = st.sampled_from(["next", "next", "next", "back", "leap", "same", "demolished"])
transition_steps = st.lists(
    st.tuples(
        moves,
        st.integers(1, 5),  # how far back or how far the leap
        st.integers(-20, 120),  # days after the last move (negative: before it)
        st.sampled_from(["", "  ", "施工方案调整，退回重新审批"]),
        st.sampled_from([False] * 6 + [True]),  # True: dated in the future instead
    ),
    min_size=1,
    max_size=12,
)


def _target(status: str, move: str, steps: int) -> str:
    here = LIFECYCLE.index(ProjectStatus(status))
    if move == "next":
        return LIFECYCLE[min(here + 1, len(LIFECYCLE) - 1)].value
    if move == "back":
        return LIFECYCLE[max(here - steps, 0)].value
    if move == "leap":
        return LIFECYCLE[min(here + 1 + steps, len(LIFECYCLE) - 1)].value
    return status if move == "same" else move


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(steps=transition_steps)
# Pinned: a leap over a step, a step back without a reason, a date before the last move.
@example(steps=[("leap", 1, 10, "", False), ("next", 1, 10, "", False), ("back", 1, 5, "", False)])
@example(steps=[("next", 1, 10, "", False), ("next", 1, -5, "", False)])
def test_any_sequence_of_moves_leaves_a_legal_status_with_its_dates(willing, users, steps):
    office = users["programme_office"]
    today = timezone.localdate()
    with rolled_back():
        project = project_create(
            compound=willing["compounds"]["GY"],
            batch_year=2021,
            user=office,
            entered_on=D(2020, 1, 1),
        )
        status, last_on, moves = ProjectStatus.PIPELINE, D(2020, 1, 1), 1
        for move, far, days, reason, future in steps:
            target = _target(status, move, far)
            on = last_on + datetime.timedelta(days=days)
            if future:
                on = today + datetime.timedelta(days=1)
            allowed = _move_allowed(status, target, reason, on, last_on, today)
            event(f"move {'allowed' if allowed else 'refused'}")
            try:
                project_transition(
                    project=project, to_status=target, user=office, on=on, reason=reason
                )
            except ValidationError as error:
                assert not allowed, f"{status} → {target} on {on} refused: {error.messages}"
            else:
                assert allowed, f"{status} → {target} on {on} should have been refused"
                status, last_on, moves = ProjectStatus(target), on, moves + 1
            _assert_lifecycle_invariants(project, status, moves)


def _move_allowed(status, target, reason, on, last_on, today) -> bool:
    if target not in ProjectStatus.values or target == status:
        return False
    here, there = LIFECYCLE.index(status), LIFECYCLE.index(ProjectStatus(target))
    if there > here + 1:
        return False
    if there < here and not reason.strip():
        return False
    return last_on <= on <= today


def _assert_lifecycle_invariants(project, status, moves: int) -> None:
    project.refresh_from_db()
    assert project.status == status
    index = LIFECYCLE.index(ProjectStatus(project.status))
    dates = []
    for step, field in STATUS_DATE_FIELD.items():
        day = getattr(project, field)
        if LIFECYCLE.index(step) <= index:
            assert day is not None, f"{project.status} without {field}"
            dates.append(day)
        else:
            assert day is None, f"{project.status} with {field} set"
    assert dates == sorted(dates), "the steps' dates go back in time"
    transitions = ProjectTransition.objects.filter(project=project).order_by(
        "effective_on", "created_at", "pk"
    )
    assert transitions.count() == moves
    assert transitions.last().to_status == project.status


# ---------------------------------------------------------------------------------------
# The residents' request workflow

# A move follows the workflow from where the request stands (so that many go through), or
# asks for any status, or for one that does not exist.
request_moves = st.one_of(
    st.tuples(st.just("follow"), st.integers(0, 2)),
    st.tuples(st.just("follow"), st.integers(0, 2)),
    st.tuples(st.just("any"), st.sampled_from([s.value for s in RequestStatus])),
    st.tuples(st.just("any"), st.just("escalated")),
)
request_steps = st.lists(
    st.tuples(
        request_moves,
        st.sampled_from(["", "   ", "居民同意，列入清单", "居民同意，列入清单", "长" * 1001]),
        st.sampled_from(["none", "own", "own", "other"]),  # the item given when planning
    ),
    min_size=1,
    max_size=10,
)


# The workflow as the programme describes it, written out here rather than read from the
# code: new → under review → accepted, declined (with a reason) or deferred (with a reason);
# deferred → under review; accepted → planned (into an item of its compound) or resolved;
# planned → resolved. Declined and resolved are final.
S = RequestStatus
WORKFLOW = {
    S.NEW: (S.UNDER_REVIEW,),
    S.UNDER_REVIEW: (S.ACCEPTED, S.DECLINED, S.DEFERRED),
    S.DEFERRED: (S.UNDER_REVIEW,),
    S.ACCEPTED: (S.PLANNED, S.RESOLVED),
    S.PLANNED: (S.RESOLVED,),
    S.DECLINED: (),
    S.RESOLVED: (),
}


def _request_target(status: str, move: tuple) -> str:
    how, what = move
    if how == "follow":
        allowed = WORKFLOW[status]
        return allowed[what % len(allowed)] if allowed else RequestStatus.NEW.value
    return what


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(kind=st.sampled_from([RequestKind.WISH, RequestKind.OBJECTION]), steps=request_steps)
# Pinned: a new wish resolved at once, declined without a reason, planned into another
# compound's item, and an objection resolved without its council.
@example(kind=RequestKind.WISH, steps=[(("any", "resolved"), "", "none")])
@example(
    kind=RequestKind.WISH,
    steps=[
        (("any", "under_review"), "", "none"),
        (("any", "declined"), "  ", "none"),
        (("any", "accepted"), "", "none"),
        (("any", "planned"), "", "other"),
    ],
)
@example(
    kind=RequestKind.OBJECTION,
    steps=[
        (("any", "under_review"), "", "none"),
        (("any", "accepted"), "", "none"),
        (("any", "resolved"), "调整施工时间", "none"),
    ],
)
def test_any_sequence_of_request_moves_follows_the_workflow(registry, users, kind, steps):
    staff = users["community_staff"]
    with rolled_back():
        compound, other = registry["compounds"]["GY"], registry["compounds"]["JN"]
        category = ItemCategory.objects.order_by("pk").first()
        items = {}
        for name, place in (("own", compound), ("other", other)):
            project = ProjectFactory(compound=place)
            items[name] = ProjectItem.objects.create(
                project=project, category=category, quantity=1, unit=category.default_unit
            )
        request = request_create(
            user=users["grid_worker"],
            kind=kind,
            channel="door_to_door",
            compound=compound,
            description="楼道灯坏了",
            project=items["own"].project if kind == RequestKind.OBJECTION else None,
        )
        status, moves = RequestStatus.NEW, 1
        for move, note, item_choice in steps:
            target = _request_target(status, move)
            item = items.get(item_choice)
            allowed = _request_move_allowed(kind, status, target, note, item, compound)
            event(f"{target} {'allowed' if allowed else 'refused'}")
            try:
                request_transition(
                    request=request, to_status=target, user=staff, note=note, project_item=item
                )
            except ValidationError as error:
                assert not allowed, f"{status} → {target} refused: {error.messages}"
            else:
                assert allowed, f"{status} → {target} ({note!r}, {item_choice}) went through"
                status, moves = RequestStatus(target), moves + 1
            _assert_request_invariants(request, status, moves)


def _request_move_allowed(kind, status, target, note, item, compound) -> bool:
    if target not in RequestStatus.values or target == status:
        return False
    if kind == RequestKind.OBJECTION and target == RequestStatus.RESOLVED:
        return False  # settled at a council, with its outcome
    if target not in WORKFLOW[status]:
        return False
    note = note.strip()
    if len(note) > 1000:
        return False
    if target in (RequestStatus.DECLINED, RequestStatus.DEFERRED) and not note:
        return False
    if target == RequestStatus.PLANNED:
        return item is not None and item.project.compound_id == compound.pk
    return True


def _assert_request_invariants(request, status, moves: int) -> None:
    request.refresh_from_db()
    assert request.status == status
    log = RequestLog.objects.filter(request=request).order_by("at", "pk")
    assert log.count() == moves
    assert log.last().to_status == request.status
    if request.status == RequestStatus.DECLINED:
        assert request.answer.strip()
    if request.status == RequestStatus.PLANNED:
        assert request.project_item.project.compound_id == request.compound_id
    if request.status != RequestStatus.NEW:
        assert request.is_verified


def test_the_models_of_the_rules_can_disagree():
    """The models above are not the services restated: they refuse what the rules refuse,
    so a service that let a bad request through would fail the tests."""
    assert _exact("1.005") is None and _exact(0.1) is None and _exact("-1") is None
    assert _exact("125000.00") == Decimal("125000.00")
    today = D(2022, 6, 1)
    assert not _move_allowed("pipeline", "accepted", "", today, today, today)
    assert not _move_allowed("completed", "pipeline", " ", today, today, today)
    assert _move_allowed("completed", "pipeline", "返工", today, today, today)

"""Money in the admin: a payment or allocation entered there is saved, a rule the service
refuses (even one broken meanwhile by someone else) shows on the form and saves nothing,
and a deleted money row's history stays readable to the finance bureau and the programme
office."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from renovation.admin import NOT_DELETED
from renovation.models import Disbursement, FundingAllocation, FundingSource
from renovation.services import allocation_create, disbursement_create
from tests.factories import FundingSourceFactory, ProjectFactory
from tests.threads import (
    logged_in,
    open_in_thread,
    post_in_thread,
    wait_until_a_request_waits_for_a_lock,
)

D = datetime.date


@pytest.fixture
def finance(users):
    return users["finance"]


@pytest.fixture
def project(registry):
    return ProjectFactory(compound=registry["compounds"]["GY"])


@pytest.fixture
def source(db):
    return FundingSourceFactory(amount=Decimal("100.00"))


@pytest.fixture
def allocation(source, project, finance):
    return allocation_create(
        source=source, project=project, amount="80.00", on=D(2022, 4, 1), user=finance
    )


def add_url(model) -> str:
    return reverse(f"admin:renovation_{model._meta.model_name}_add")


def form_errors(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors.as_text()


def tomorrow() -> str:
    return (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


# --- Entered in the admin -------------------------------------------------------------------


def test_a_payment_entered_in_the_admin_is_saved_and_logged(client, finance, allocation):
    client.force_login(finance)
    data = {"allocation": allocation.pk, "amount": "30.00", "paid_on": "2022-04-10"}
    response = client.post(add_url(Disbursement), {**data, "voucher": "记-0410"})

    assert response.status_code == 302
    payment = Disbursement.objects.get()
    assert (payment.project, payment.amount, payment.by) == (
        allocation.project,
        Decimal("30.00"),
        finance,
    )
    assert payment.history.get().history_user == finance
    entry = LogEntry.objects.get(object_id=str(payment.pk))
    assert entry.object_repr == str(payment) and allocation.project.name in entry.object_repr


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (FundingSource, {"kind": "district_matching", "year": 2022, "amount": "5"}, "received_on"),
        (FundingAllocation, {"amount": "10.00"}, "allocated_on"),
        (Disbursement, {"amount": "10.00"}, "paid_on"),
    ],
    ids=["source", "allocation", "payment"],
)
def test_a_rule_only_the_service_checks_shows_on_the_form(
    client, finance, allocation, model, data, field
):
    """The services refuse a date after today; the admin forms do not check it themselves,
    so the refusal comes from save_model and answered 500."""
    client.force_login(finance)
    client.raise_request_exception = False
    before = model.objects.count()
    filled = {
        FundingSource: {"name": "城区配套资金", "document_number": "柳北财〔2022〕9号"},
        FundingAllocation: {"source": allocation.source_id, "project": allocation.project_id},
        Disbursement: {"allocation": allocation.pk},
    }[model]
    response = client.post(add_url(model), {**filled, **data, field: tomorrow()})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert "日期不能晚于今天" in form_errors(response)
    assert model.objects.count() == before
    assert not LogEntry.objects.exists()


# --- Two people at once (PostgreSQL) --------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_loser_of_two_allocations_at_once_gets_a_form_error(registry, users):
    """The form checks what is left before the lock; an allocation committed meanwhile
    makes the service refuse under the lock, and that refusal lands on the form."""
    finance, office = users["finance"], users["programme_office"]
    source = FundingSourceFactory(amount=Decimal("100.00"))
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    on = D(2022, 4, 1)
    _winner, commit_winner = open_in_thread(
        lambda: allocation_create(source=source, project=project, amount="60", on=on, user=office)
    )
    data = {"source": source.pk, "project": project.pk, "amount": "60.00", "allocated_on": on}
    response = post_in_thread(logged_in(finance), add_url(FundingAllocation), data)
    wait_until_a_request_waits_for_a_lock()
    commit_winner()

    loser = response()
    assert loser.status_code == 200
    errors = loser.context["adminform"].form.errors
    assert "amount" in errors and "剩余 ¥40.00" in errors.as_text()
    assert [a.amount for a in FundingAllocation.objects.all()] == [Decimal("60.00")]
    assert not LogEntry.objects.exists()


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lowering_a_source_below_an_allocation_made_meanwhile_gets_a_form_error(registry, users):
    finance, office = users["finance"], users["programme_office"]
    source = FundingSourceFactory(amount=Decimal("100.00"), name="中央财政补助资金")
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    _winner, commit_winner = open_in_thread(
        lambda: allocation_create(
            source=source, project=project, amount="60", on=D(2022, 4, 1), user=office
        )
    )
    data = {
        "kind": source.kind,
        "year": source.year,
        "name": "中央财政补助资金（更正）",
        "document_number": source.document_number,
        "amount": "50.00",
    }
    url = reverse("admin:renovation_fundingsource_change", args=[source.pk])
    response = post_in_thread(logged_in(finance), url, data)
    wait_until_a_request_waits_for_a_lock()
    commit_winner()

    loser = response()
    assert loser.status_code == 200
    errors = loser.context["adminform"].form.errors
    assert "amount" in errors and "已下达 ¥60.00" in errors.as_text()
    source.refresh_from_db()
    assert (source.amount, source.name) == (Decimal("100.00"), "中央财政补助资金")
    assert not LogEntry.objects.exists()


# --- The history of deleted money rows ------------------------------------------------------

# Who reads deleted money rows' history: tests.conftest.users key → may read.
READS_DELETED = {
    "programme_office": True,
    "finance": True,
    "organisation": False,
    "publicity": False,
    "leader": False,
    "sub_district_staff": False,
    "community_staff": False,
    "grid_worker": False,
    "no_role": False,
}


@pytest.fixture
def deleted(client, finance, allocation):
    """A payment and then its allocation, deleted in the admin by the finance bureau."""
    payment = disbursement_create(
        allocation=allocation, amount="30.00", on=D(2022, 4, 10), user=finance, voucher="记-0410"
    )
    client.force_login(finance)
    for row in (payment, allocation):
        url = reverse(f"admin:renovation_{row._meta.model_name}_delete", args=[row.pk])
        assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Disbursement.objects.exists() and not FundingAllocation.objects.exists()
    client.logout()
    return {"payment": payment.pk, "allocation": allocation.pk}


def test_the_deleted_view_lists_deleted_payments_with_who_deleted_them(client, users, deleted):
    client.force_login(users["programme_office"])
    response = client.get(reverse("admin:renovation_disbursement_deleted"))

    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row["deleted_by"] == users["finance"]
    assert "记-0410" in row["cells"] and "30.00" in row["cells"]
    history = reverse("admin:renovation_disbursement_history", args=[deleted["payment"]])
    assert row["history_url"] == history
    page = response.content.decode()
    assert history in page and "记-0410" in page


def test_the_money_lists_link_to_their_deleted_rows(client, users, deleted):
    for role, reads in READS_DELETED.items():
        if role in ("grid_worker", "no_role"):
            continue
        client.force_login(users[role])
        for model in ("fundingsource", "fundingallocation", "disbursement"):
            response = client.get(reverse(f"admin:renovation_{model}_changelist"))
            if response.status_code == 403:
                continue  # sources are district-level
            link = reverse(f"admin:renovation_{model}_deleted")
            assert (link in response.content.decode()) is reads, (role, model)


@pytest.mark.parametrize("role", [*READS_DELETED, "anonymous"])
def test_only_the_office_and_finance_read_deleted_money_rows(client, users, deleted, role):
    if role != "anonymous":
        client.force_login(users[role])
    staff = role not in ("anonymous", "grid_worker")
    reads = READS_DELETED.get(role, False)
    lists = {
        model: client.get(reverse(f"admin:renovation_{model}_deleted"))
        for model in ("fundingsource", "fundingallocation", "disbursement")
    }
    histories = [
        client.get(reverse(f"admin:renovation_{model}_history", args=[deleted[key]]))
        for model, key in (("disbursement", "payment"), ("fundingallocation", "allocation"))
    ]
    version = FundingAllocation.history.filter(id=deleted["allocation"]).latest()
    versions = [
        client.get(
            reverse(
                "admin:renovation_fundingallocation_simple_history",
                args=[deleted["allocation"], version.history_id],
            )
        )
    ]

    if reads:
        assert {r.status_code for r in [*lists.values(), *histories, *versions]} == {200}
        for history in histories:  # entered, then deleted
            assert [r.history_type for r in history.context["page_obj"]] == ["-", "+"]
    elif staff:
        assert {r.status_code for r in lists.values()} == {403}
        assert {r.status_code for r in [*histories, *versions]} <= {403, 404}
    else:
        for response in [*lists.values(), *histories, *versions]:
            assert response.status_code == 302 and "login" in response["Location"]


def test_a_deleted_rows_version_cannot_be_written_back(client, users, deleted):
    client.force_login(users["finance"])
    version = FundingAllocation.history.filter(id=deleted["allocation"]).latest()
    url = reverse(
        "admin:renovation_fundingallocation_simple_history",
        args=[deleted["allocation"], version.history_id],
    )
    assert client.post(url, {"amount": "80.00"}).status_code == 403
    assert not FundingAllocation.objects.exists()


def test_a_live_row_of_another_area_is_no_deleted_row(client, users, registry, finance):
    """The way in for deleted rows never opens a live row outside the user's area."""
    other = ProjectFactory(compound=registry["compounds"]["JN"])
    allocation = allocation_create(
        source=FundingSourceFactory(amount=100),
        project=other,
        amount="5",
        on=D(2022, 4, 1),
        user=finance,
    )
    client.force_login(users["community_staff"])
    url = reverse("admin:renovation_fundingallocation_history", args=[allocation.pk])
    assert client.get(url).status_code == 404
    assert client.get(url.replace(str(allocation.pk), "not-a-number")).status_code == 404


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deleting_an_allocation_while_it_is_paid_from_gives_a_message(registry, users):
    """The delete page finds no payment yet; one committed meanwhile makes the database
    refuse the deletion at commit, and that refusal comes back as a message."""
    finance, office = users["finance"], users["programme_office"]
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    allocation = allocation_create(
        source=FundingSourceFactory(amount=Decimal("100.00")),
        project=project,
        amount="80",
        on=D(2022, 4, 1),
        user=office,
    )
    _payment, commit_payment = open_in_thread(
        lambda: disbursement_create(
            allocation=allocation, amount="30", on=D(2022, 4, 2), user=office
        )
    )
    client = logged_in(finance)
    url = reverse("admin:renovation_fundingallocation_delete", args=[allocation.pk])
    response = post_in_thread(client, url, {"post": "yes"})
    wait_until_a_request_waits_for_a_lock()
    commit_payment()

    refused = response()
    assert refused.status_code == 302 and refused["Location"] == url
    assert FundingAllocation.objects.filter(pk=allocation.pk).exists()
    assert Disbursement.objects.filter(allocation=allocation).count() == 1
    page = client.get(url)
    shown = [str(message) for message in page.context["messages"]]
    with translation.override("zh-hans"):  # the page's language
        assert shown == [str(NOT_DELETED)]
    assert page.context["protected"]  # the payment that now stands in the way


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deleting_allocations_from_the_list_while_one_is_paid_from_gives_a_message(registry, users):
    """The same through the list's "delete selected" action: nothing is deleted."""
    finance, office = users["finance"], users["programme_office"]
    project = ProjectFactory(compound=registry["compounds"]["GY"])
    source = FundingSourceFactory(amount=Decimal("100.00"))
    paid, other = (
        allocation_create(
            source=source, project=project, amount="40", on=D(2022, 4, 1), user=office
        )
        for _ in range(2)
    )
    _payment, commit_payment = open_in_thread(
        lambda: disbursement_create(allocation=paid, amount="30", on=D(2022, 4, 2), user=office)
    )
    client = logged_in(finance)
    url = reverse("admin:renovation_fundingallocation_changelist")
    data = {"action": "delete_selected", "_selected_action": [paid.pk, other.pk], "post": "yes"}
    response = post_in_thread(client, url, data)
    wait_until_a_request_waits_for_a_lock()
    commit_payment()

    refused = response()
    assert refused.status_code == 302
    assert FundingAllocation.objects.filter(pk__in=[paid.pk, other.pk]).count() == 2
    page = client.get(url)
    shown = [str(message) for message in page.context["messages"]]
    with translation.override("zh-hans"):  # the page's language
        assert shown == [str(NOT_DELETED)]

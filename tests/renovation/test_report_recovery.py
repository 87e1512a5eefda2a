"""How a monthly report recovers without a person: a task's own retry takes its row back, the
sweep queues again what was left waiting or being built, a request the task queue could not
take is said so and queued when asked again, and a lost file answers a clear 404 offering to
build it again. End-to-end runs on a real worker are in test_report_worker.py."""

import datetime
import time

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone, translation

from config.celery import app
from renovation.models import MonthlyReport
from renovation.selectors.report import Month
from renovation.services import report_build, report_request, report_requeue_stale
from tests.renovation.brokers import broker, closed_port_url, hung_broker

JUNE = Month.parse("2022-06")
Status = MonthlyReport.Status


def zh(text: str) -> str:
    """What the page shows for a source string: its Chinese, once translated."""
    with translation.override("zh-hans"):
        return translation.gettext(text)


def ago(seconds: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(seconds=seconds)


def stale() -> datetime.datetime:
    return ago(django_settings.REPORT_STALE_AFTER + 60)


def make_report(month: str = "2022-06", **fields) -> MonthlyReport:
    values = {"status": Status.PENDING, "requested_at": timezone.now(), **fields}
    return MonthlyReport.objects.create(month=Month.parse(month).first, **values)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_retry_of_the_same_task_takes_its_running_row_back(registry, media):
    """The database went away mid-build: the task's retry (same task id) finds the row it
    left "being built" and builds it, instead of taking it for another build."""
    report = make_report(status=Status.RUNNING, task_id="task-1", started_at=ago(5), attempts=1)
    built = report_build(report_id=report.pk, task_id="task-1")
    assert built.status == Status.DONE and built.attempts == 2
    assert built.file and (media / built.file.name).exists()


def test_another_task_leaves_a_fresh_build_alone(registry, media):
    report = make_report(status=Status.RUNNING, task_id="task-1", started_at=ago(5), attempts=1)
    left = report_build(report_id=report.pk, task_id="task-2")
    left.refresh_from_db()
    assert left.status == Status.RUNNING and left.attempts == 1 and left.task_id == "task-1"
    assert not left.file


def test_another_task_takes_a_build_past_its_deadline(registry, media):
    report = make_report(status=Status.RUNNING, task_id="task-1", started_at=stale(), attempts=1)
    built = report_build(report_id=report.pk, task_id="task-2")
    assert built.status == Status.DONE and built.attempts == 2 and built.task_id == "task-2"


def test_the_build_keeps_the_task_that_took_the_row(registry, media):
    report = make_report()
    built = report_build(report_id=report.pk, task_id="task-9")
    assert built.task_id == "task-9"


def test_asking_records_the_task_and_that_it_was_queued(
    registry, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # tasks run inline, on commit
        report = report_request(month=JUNE)
    report.refresh_from_db()
    assert report.status == Status.DONE
    assert report.task_id and report.queued_at is not None


def test_the_sweep_queues_again_rows_past_their_deadline_and_leaves_fresh_ones(
    registry, django_capture_on_commit_callbacks
):
    lost_waiting = make_report("2022-01", requested_at=stale(), queued_at=stale(), task_id="a")
    lost_building = make_report(
        "2022-02", status=Status.RUNNING, started_at=stale(), queued_at=stale(), task_id="b"
    )
    never_queued = make_report("2022-03", requested_at=ago(120), queued_at=None, task_id="c")
    waiting = make_report("2022-04", queued_at=ago(30), task_id="d")
    building = make_report(
        "2022-05", status=Status.RUNNING, started_at=ago(30), queued_at=ago(31), task_id="e"
    )
    just_asked = make_report("2022-06", requested_at=ago(5), queued_at=None, task_id="f")
    done = make_report("2022-07", status=Status.DONE, finished_at=stale(), task_id="g")
    failed = make_report("2022-08", status=Status.FAILED, finished_at=stale(), task_id="h")

    with django_capture_on_commit_callbacks() as queued:
        requeued = report_requeue_stale()

    assert {r.pk for r in requeued} == {lost_waiting.pk, lost_building.pk, never_queued.pk}
    assert len(queued) == 3  # one task each, sent once committed
    for report, task_id in [(lost_waiting, "a"), (lost_building, "b"), (never_queued, "c")]:
        report.refresh_from_db()
        assert report.status == Status.PENDING
        assert report.task_id and report.task_id != task_id
    for report, status in [
        (waiting, Status.PENDING),
        (building, Status.RUNNING),
        (just_asked, Status.PENDING),
        (done, Status.DONE),
        (failed, Status.FAILED),
    ]:
        before = report.task_id
        report.refresh_from_db()
        assert report.status == status and report.task_id == before


def test_the_sweep_builds_what_it_queued_again(registry, media, django_capture_on_commit_callbacks):
    report = make_report(status=Status.RUNNING, started_at=stale(), task_id="lost", attempts=1)
    with django_capture_on_commit_callbacks(execute=True):  # tasks run inline, on commit
        report_requeue_stale()
    report.refresh_from_db()
    assert report.status == Status.DONE and report.attempts == 2


def test_the_sweep_is_on_the_schedule():
    schedule = django_settings.CELERY_BEAT_SCHEDULE["monthly-report-sweep"]
    assert schedule["task"] in app.tasks
    assert schedule["schedule"] == django_settings.REPORT_SWEEP_EVERY


def test_the_deadline_is_above_the_tasks_time_limit_and_below_the_brokers_redelivery():
    """A build still in time is never taken for a lost one; a task whose worker died comes
    back from the broker just after the time limit."""
    limit = django_settings.REPORT_TIME_LIMIT
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert django_settings.REPORT_STALE_AFTER > limit
    assert limit < visibility <= limit + 5 * 60
    assert django_settings.CELERY_TASK_ACKS_LATE
    assert django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST


def test_asking_again_queues_a_request_the_queue_could_not_take(
    registry, django_capture_on_commit_callbacks
):
    report = make_report(requested_at=ago(5), queued_at=None, task_id="never-sent")
    with django_capture_on_commit_callbacks() as queued:
        again = report_request(month=JUNE)
    assert len(queued) == 1
    assert again.pk == report.pk and again.task_id != "never-sent"


def test_asking_again_while_queued_queues_nothing(registry, django_capture_on_commit_callbacks):
    make_report(requested_at=ago(5), queued_at=ago(5), task_id="sent")
    with django_capture_on_commit_callbacks() as queued:
        again = report_request(month=JUNE)
    assert not queued and again.task_id == "sent"


@pytest.mark.django_db(transaction=True)  # the task is sent once the request is committed
@pytest.mark.parametrize("down", ["closed", "hung"])
def test_asking_while_the_broker_is_down_answers_at_once_and_says_so(client, users, down):
    client.force_login(users["programme_office"])
    with hung_broker() as hung:
        url = closed_port_url() if down == "closed" else hung
        with broker(url):
            began = time.monotonic()
            response = client.post(reverse("report-list"), {"month": "2022-06"})
            took = time.monotonic() - began
    assert response.status_code == 200
    assert took < 3, f"the page waited {took:.1f} s on a dead broker"
    page = response.content.decode()
    assert '<li class="error">' in page  # the message: not queued, ask again
    report = MonthlyReport.objects.get()
    assert report.status == Status.PENDING and report.queued_at is None and report.not_queued
    # The list says so for the row, without polling it, and offers to queue it again.
    assert 'data-status="not-queued"' in page
    assert zh("not queued") in page and zh("Queue it again") in page


def test_the_status_of_a_request_not_queued_says_so(client, users, registry):
    report = make_report(queued_at=None)
    client.force_login(users["leader"])
    status = client.get(reverse("report-status", args=[report.pk])).json()
    assert status["status"] == "pending" and status["label"] == zh("not queued")


@pytest.fixture
def lost_file(registry, media):
    """A report built once whose file is gone (restored without the media folder)."""
    report = make_report(status=Status.DONE, finished_at=timezone.now())
    report.file.name = "reports/2022-06/老旧小区改造联席会议月报-2022-06.xlsx"
    report.save()
    return report


def test_a_missing_file_answers_a_clear_404_offering_to_build_it_again(client, users, lost_file):
    client.force_login(users["programme_office"])
    response = client.get(reverse("report-download", args=[lost_file.pk]))
    assert response.status_code == 404
    assert "renovation/report_missing.html" in [t.name for t in response.templates]
    assert "base.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert zh("Rebuild") in page
    assert f'action="{reverse("report-list")}"' in page
    assert 'name="month" value="2022-06"' in page


def test_rebuilding_a_missing_file_builds_it_again(
    client, users, lost_file, media, django_capture_on_commit_callbacks
):
    client.force_login(users["programme_office"])
    with django_capture_on_commit_callbacks(execute=True):  # tasks run inline, on commit
        client.post(reverse("report-list"), {"month": "2022-06"})
    lost_file.refresh_from_db()
    assert lost_file.status == Status.DONE and (media / lost_file.file.name).exists()
    response = client.get(reverse("report-download", args=[lost_file.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "sees", "may_rebuild"),
    [
        ("programme_office", True, True),
        ("finance", True, False),
        ("organisation", True, False),
        ("publicity", True, False),
        ("leader", True, False),
        ("sub_district_staff", False, False),
        ("community_staff", False, False),
        ("grid_worker", False, False),
        ("no_role", False, False),
    ],
)
def test_who_may_see_a_missing_file_and_build_it_again(
    client, users, lost_file, django_capture_on_commit_callbacks, role, sees, may_rebuild
):
    client.force_login(users[role])
    response = client.get(reverse("report-download", args=[lost_file.pk]))
    assert response.status_code == (404 if sees else 403)
    if sees:
        rebuild_form = 'name="month" value="2022-06"' in response.content.decode()
        assert rebuild_form == may_rebuild
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("report-list"), {"month": "2022-06"})
    # Allowed: the build is asked for (and queued once the request's transaction commits).
    assert response.status_code != 403 if may_rebuild else response.status_code == 403
    lost_file.refresh_from_db()
    assert (lost_file.status == Status.PENDING) == may_rebuild
    assert len(queued) == (1 if may_rebuild else 0)


def test_the_list_offers_to_build_a_failed_report_again(client, users, registry):
    make_report(status=Status.FAILED, error="MemoryError", queued_at=ago(60))
    client.force_login(users["programme_office"])
    page = client.get(reverse("report-list")).content.decode()
    assert zh("Rebuild") in page and 'name="month" value="2022-06"' in page
    client.force_login(users["leader"])
    page = client.get(reverse("report-list")).content.decode()
    assert 'name="month" value="2022-06"' not in page

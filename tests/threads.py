"""A write left open in another thread, for tests of what readers see meanwhile and of the
locks a write holds (PostgreSQL: tests with transaction=True)."""

import threading
import time
from collections.abc import Callable

from django.db import connection, connections, transaction
from django.test import Client


def open_in_thread(write: Callable) -> tuple[object, Callable[[], None]]:
    """Run `write()` in a transaction in another thread and leave the transaction open:
    returns what `write()` returned, once it has, and a function that commits it and waits
    for the thread to end."""
    written, commit = threading.Event(), threading.Event()
    result = {}

    def run():
        try:
            with transaction.atomic():
                result["value"] = write()
                written.set()
                commit.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    assert written.wait(10), "the write in the other thread did not happen"

    def commit_and_wait():
        commit.set()
        thread.join()

    return result["value"], commit_and_wait


def post_in_thread(client: Client, url: str, data: dict):
    """POST from another thread (its own connection); returns a function that waits for the
    response and gives it."""
    answer = {}

    def run():
        try:
            answer["response"] = client.post(url, data)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()

    def response():
        thread.join(20)
        assert not thread.is_alive(), "the admin's request never finished"
        return answer["response"]

    return response


def wait_until_a_request_waits_for_a_lock() -> None:
    """Returns once a connection to this database waits for a lock: a row locked, or a
    row with the same key inserted, by a transaction still open."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("no request came to wait for the lock")


def logged_in(user) -> Client:
    """A test client of `user` for another thread, which answers 500 instead of raising."""
    client = Client(raise_request_exception=False)  # a 500 is a response to look at
    client.force_login(user)
    return client

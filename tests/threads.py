"""A write left open in another thread, for tests of what readers see meanwhile and of the
locks a write holds (PostgreSQL: tests with transaction=True)."""

import threading
from collections.abc import Callable

from django.db import connections, transaction


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

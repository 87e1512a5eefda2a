"""Brokers for the report tests: the web side (this process) pointed at a real Redis, at a
closed port, or at a server that accepts and never answers (a hung broker)."""

import contextlib
import socket
import threading
from collections.abc import Iterator

from kombu import pools

from config.celery import app


@contextlib.contextmanager
def broker(url: str, queue: str = "celery") -> Iterator[None]:
    """This process sends its tasks to `url`, as a web server configured with
    CELERY_BROKER_URL does, instead of running them inline."""
    conf = app.conf
    before = (conf.task_always_eager, conf.broker_url, conf.task_default_queue)
    conf.task_always_eager, conf.broker_url, conf.task_default_queue = False, url, queue
    _drop_broker_connections()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url, conf.task_default_queue = before
        _drop_broker_connections()


def _drop_broker_connections() -> None:
    """A web process keeps its broker connections (Celery's pools) for its life: a test that
    moves the broker drops them, as a web process started with the new setting has none.
    Celery offers no public call for it (`app.close()` leaves the producer pool)."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def closed_port_url() -> str:
    """A broker address where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/15"


class HungBroker:
    """A TCP server that accepts connections and never answers: a broker that hangs. After
    `hold` seconds it lets go of each connection, so code that would wait for ever (no
    socket timeout) fails a test instead of hanging it."""

    def __init__(self, hold: float = 10) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/15"
        self.hold = hold
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                held = self.server.accept()[0]
                self.held.append(held)
                threading.Timer(self.hold, held.close).start()

    def close(self) -> None:
        self.server.close()
        for held in self.held:
            held.close()


@contextlib.contextmanager
def hung_broker() -> Iterator[str]:
    hung = HungBroker()
    try:
        yield hung.url
    finally:
        hung.close()

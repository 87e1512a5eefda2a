"""The Redis client of the cache (CACHE_URL): a cache that may be lost.

Everything in the cache can be worked out again from the database, so a Redis that is
stopped, hung or full must cost a page no more than that work. django-redis turns a call
that fails into a miss (IGNORE_EXCEPTIONS) and the socket timeouts in settings bound each
call; this client adds the short circuit: once Redis fails to answer, the process does not
ask it again for `retry_after` seconds, so a hung Redis costs one timeout per process and
interval instead of one for each cache call of every page. Each outage is logged once, when
it starts, and again when Redis answers."""

import logging
import threading
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django_redis.cache import RedisCache

logger = logging.getLogger(__name__)

# When each Redis (host, port, path, db) may be asked again; per process, as the pools are.
_down_until: dict[tuple, float] = {}
_lock = threading.Lock()


class FailFastRedis(redis.Redis):
    """redis.Redis that stops asking a Redis for a while once it failed to answer."""

    def __init__(self, *args, retry_after: float = 5.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after
        options = self.connection_pool.connection_kwargs
        self._where = tuple(options.get(name) for name in ("host", "port", "path", "db"))

    def execute_command(self, *args, **options):
        down_until = _down_until.get(self._where)
        if down_until is not None and time.monotonic() < down_until:
            # django-redis takes this for an unreachable server: the call is a miss.
            raise redis.ConnectionError("the cache did not answer: not asked again yet")
        try:
            result = super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            with _lock:
                first = self._where not in _down_until
                _down_until[self._where] = time.monotonic() + self.retry_after
            if first:
                logger.warning(
                    "The cache at %s did not answer (%s): pages are worked out without it, "
                    "and it is asked again every %s s",
                    self._describe(),
                    error,
                    self.retry_after,
                )
            raise
        except redis.ResponseError as error:
            # A refused command (a full Redis under noeviction, say) is a miss too: say so.
            logger.warning("The cache at %s refused %s: %s", self._describe(), args[0], error)
            raise
        if down_until is not None:
            with _lock:
                _down_until.pop(self._where, None)
            logger.warning("The cache at %s answers again", self._describe())
        return result

    def _describe(self) -> str:
        host, port, path, db = self._where
        return f"{path or f'{host}:{port}'}/{db}"


class SessionCopies(RedisCache):
    """The cache of the sessions' copies (SESSION_CACHE_ALIAS), where a copy lives five
    minutes at most. A change the cache missed while it could not be reached, a log-out above
    all (the session is deleted from the database only), would otherwise be undone by the
    old copy when Redis comes back with its data (a hung Redis that resumes) until the
    session's own end, hours later. A session is then read from the database once in five
    minutes instead of once a day, which keeps nearly all that the copy spares."""

    LONGEST = 5 * 60

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, *args, **kwargs):
        if timeout is DEFAULT_TIMEOUT or timeout is None or timeout > self.LONGEST:
            timeout = self.LONGEST
        return super().set(key, value, timeout, *args, **kwargs)

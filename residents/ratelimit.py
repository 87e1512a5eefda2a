"""Fixed-window counters in the Django cache, for the public page's abuse limits.

They fail open: with the cache unreachable (CACHE_URL's Redis stopped or hung, which
django-redis answers with None), every use is allowed, so residents can still leave their
wishes. What a flood then leaves gets no further than the community's queue, where online
wishes arrive unverified."""

import hashlib

from django.core.cache import cache


def allow(scope: str, value: str, *, limit: int, seconds: int) -> bool:
    """Count one use of `value` (an address, a phone number) and say whether it is still
    within `limit` uses per window. Values are hashed: the cache never holds a number."""
    digest = hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()[:32]
    key = f"residents:rate:{scope}:{digest}"
    if cache.add(key, 1, seconds):
        return limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        count = 1
    if count is None:  # the cache could not be reached: fail open (see above)
        return True
    return count <= limit

"""Limits on what one client may ask: a request body size cap and a per-client rate limit.

`RateLimiter` is the one interface the routes (and anything else that limits clients) use; where the hits are
counted is its `HitCounter`: in this process's memory (`MemoryCounter`, the default), or in the shared database
so that every app replica counts against the same budget (`shared_limits.PostgresCounter`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from fastapi import Request

from assistant.interfaces.http.errors import ApiError


class HitCounter(Protocol):
    """Counts a client's requests in a sliding window."""

    def hit(self, client: str, limit: int, window: float) -> int:
        """Count one request of `client` if it has had fewer than `limit` in the last `window` seconds and return
        0; else count nothing and return the seconds until it may ask again (at least 1)."""


class MemoryCounter:
    """The hits of this process only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str, limit: int, window: float) -> int:
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, int(hits[0] + window - now) + 1)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - window]:
                    del self._hits[key]
            return 0


class RateLimiter:
    """At most `limit` requests per client in any `window` seconds, counted by `counter` (default: in memory, per
    app process)."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        counter: HitCounter | None = None,
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.counter: HitCounter = counter if counter is not None else MemoryCounter(clock)

    def check(self, client: str) -> int:
        """0 when allowed (and counted), else the seconds to wait."""
        if self.limit <= 0:
            return 0
        return self.counter.hit(client, self.limit, self.window)

    def enforce(self, client: str) -> None:
        """Raise a 429 with Retry-After when the client is over its limit."""
        wait = self.check(client)
        if wait:
            raise ApiError(429, "rate_limited", "api.rate_limited", {"Retry-After": str(wait)}, seconds=wait)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is (declared or found to be) larger than `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "body_too_large", "api.body_too_large", limit=limit)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise ApiError(413, "body_too_large", "api.body_too_large", limit=limit)
    return bytes(body)

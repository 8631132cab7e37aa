"""A small in-process sliding-window rate limiter, per client key."""

from __future__ import annotations

from collections import deque


class RateLimiter:
    """Allow at most `limit` hits per `window` seconds per key. Time is passed in."""

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def allow(self, key: str, now: float) -> bool:
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def exceeded(self, key: str, now: float) -> bool:
        """Whether ``key`` has used up its hits in the window (records nothing)."""
        hits = self._hits.get(key)
        return hits is not None and sum(1 for t in hits if t > now - self.window) >= self.limit

    def _evict(self, now: float) -> None:
        stale = [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]
        if len(self._hits) >= self._max_keys:
            self._hits.clear()

"""Per-key rate limits: fixed one-minute windows kept in memory (a restart forgets them, which only helps a client)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends and the count starts again

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset_seconds)}


class RateLimiter:
    """At most `limit` hits per `window` seconds per name."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit = limit
        self.window = window
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, name: str, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        with self._lock:
            start, count = self._windows.get(name, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            allowed = count < self.limit
            if allowed:
                count += 1
            self._windows[name] = (start, count)
            if len(self._windows) > 100_000:  # forget finished windows of keys not seen for a while
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self.window}
        reset = max(math.ceil(start + self.window - now), 1)
        return Decision(allowed, self.limit, max(self.limit - count, 0), reset)

"""What a render reports while it runs and when it ends, and how a caller stops it: Progress, RenderResult,
CancelToken. Every backend and front end shares these; none of them depends on a backend."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from reelforge.errors import RenderCancelled


@dataclass(frozen=True)
class Progress:
    """How far a render is: `fraction` of the whole (0..1), the `stage` it is in, and the seconds left."""

    fraction: float
    stage: str
    eta_seconds: float | None


@dataclass
class RenderResult:
    """A finished render: the MP4, what it holds, where the time went and how much of the cache it reused."""

    path: Path
    duration: float
    width: int
    height: int
    size_bytes: int
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: int = 0
    cache_misses: int = 0


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Set it (from any thread, or a signal handler) to stop a render at once.

    A token made with a `parent` is also cancelled when its parent is: a render stops its own remaining work
    through such a token when one part fails, without cancelling the caller's token."""

    def __init__(self, parent: "CancelToken | None" = None) -> None:
        self._event = threading.Event()
        self.parent = parent

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or (self.parent is not None and self.parent.cancelled)

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds; True as soon as the token is cancelled."""
        if self.parent is None:
            return self._event.wait(timeout)
        deadline = time.monotonic() + timeout
        while not self.cancelled:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._event.wait(min(left, 0.05))
        return True

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise RenderCancelled()


class ProgressTracker:
    """Turns per-task amounts of work into one fraction with an ETA; thread-safe, at most ten reports a second."""

    def __init__(self, weights: dict[str, float], callback: ProgressCallback | None):
        self.weights = weights
        self.done = {key: 0.0 for key in weights}
        self.total = sum(weights.values()) or 1.0
        self.callback = callback
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.last_emit = 0.0

    def update(self, key: str, amount: float, stage: str, force: bool = False) -> None:
        with self.lock:
            self.done[key] = min(amount, self.weights.get(key, amount))
            fraction = min(sum(self.done.values()) / self.total, 1.0)
            now = time.monotonic()
            if self.callback is None or (not force and now - self.last_emit < 0.1):
                return
            self.last_emit = now
            elapsed = now - self.started
            eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
            self.callback(Progress(fraction, stage, eta))

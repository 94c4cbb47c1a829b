"""Webhooks through a durable outbox: each job event that has a receiver is a row of `webhook_deliveries`, made
in the same transaction as the event, and sent until the receiver answers 2xx within the timeout, with
exponential backoff, across restarts.

What a delivery looks like is the job's API's business: a `WebhookFormat` per API (`v1` here; the
compatibility routers register theirs) turns an event into a body and headers, or None to skip that event.
The v1 body carries the event id (for de-duplication) and the time of this delivery; it is signed as sent:
`X-Reelforge-Signature: sha256=<hex HMAC-SHA256 of the raw body with the job's secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from reelforge.resolve.fetch import AddressRefused, send_once
from reelforge.resolve.policy import AddressRules
from reelforge.service.store import Store, dumps, loads

_LOG = logging.getLogger("reelforge.service.webhooks")
V1_EVENTS = ("render.queued", "render.started", "render.completed", "render.failed", "render.cancelled")


@dataclass(frozen=True)
class Event:
    """A job event as stored: its id, type, time and the job as it was then (the engine's job dict)."""

    id: str
    job_id: str
    type: str
    created_at: float
    data: dict[str, Any]


class WebhookFormat(Protocol):
    def __call__(self, event: Event, secret: str, attempt: int, now: float) -> tuple[bytes, dict[str, str]] | None:
        ...


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def v1_format(event: Event, secret: str, attempt: int, now: float) -> tuple[bytes, dict[str, str]] | None:
    """The native webhook: `{id, type, createdAt, timestamp, attempt, data: {render}}`, signed over the raw body."""
    if event.type not in V1_EVENTS:
        return None
    from reelforge.service.jobs import iso

    timestamp = int(now)
    body = dumps({"id": event.id, "object": "event", "type": event.type, "createdAt": iso(event.created_at),
                  "timestamp": timestamp, "attempt": attempt,
                  "data": {"render": {k: v for k, v in event.data.items() if k != "extra"}}}).encode("utf-8")
    return body, {"X-Reelforge-Signature": sign(secret, body), "X-Reelforge-Timestamp": str(timestamp),
                  "X-Reelforge-Event": event.type, "X-Reelforge-Event-Id": event.id}


FORMATS: dict[str, WebhookFormat] = {"v1": v1_format}
RETRIES: dict[str, int] = {}  # an API that promises its receivers a number of retries: deliveries = 1 + retries


def register_format(api: str, webhook_format: WebhookFormat, *, retries: int | None = None) -> None:
    """Deliver the events of jobs submitted through `api` in this format (and, when its contract says how many
    times a failed delivery is retried, that many times instead of the service's setting)."""
    FORMATS[api] = webhook_format
    if retries is not None:
        RETRIES[api] = retries


class Outbox:
    """Sends due deliveries from a thread of its own, a few at once; each claim is a lease, so a delivery that a
    killed server was sending is sent again after it (receivers de-duplicate by event id)."""

    def __init__(self, store: Store, rules: AddressRules, *, attempts: int, backoff: float, timeout: float,
                 on_delivered: Callable[[str, str], None] | None = None):
        self.store = store
        self.rules = rules
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.on_delivered = on_delivered
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                due = self._claim_due()
            except Exception:  # a locked or broken database must not end the outbox
                _LOG.exception("webhook outbox")
                due = []
            for row in due:
                self._pool.submit(self._deliver, row)
            self._wake.wait(0.2 if due else 1.0)
            self._wake.clear()

    def _claim_due(self) -> list[dict[str, Any]]:
        now = time.time()
        lease = now + self.timeout + 5
        with self.store.write() as db:
            rows = db.execute(
                "SELECT d.event_id, d.attempts, e.job_id, e.type, e.created_at, e.data, j.webhook_url, "
                "j.webhook_secret, j.api FROM webhook_deliveries d JOIN job_events e ON e.id = d.event_id "
                "JOIN jobs j ON j.id = d.job_id WHERE d.state = 'pending' AND d.next_attempt_at <= ? "
                "ORDER BY d.next_attempt_at LIMIT 8", (now,)).fetchall()
            for row in rows:
                db.execute("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE event_id = ?",
                           (lease, row["event_id"]))
        return [dict(row) for row in rows]

    def _deliver(self, row: dict[str, Any]) -> None:
        event = Event(row["event_id"], row["job_id"], row["type"], row["created_at"], loads(row["data"]))
        attempt = row["attempts"] + 1
        formatter = FORMATS.get(row["api"], v1_format)
        status: int | None = None
        error: str | None = None
        try:
            made = formatter(event, row["webhook_secret"] or "", attempt, time.time())
            if made is None:
                self._finish(event.id, "skipped", attempt - 1, None, None)
                return
            body, headers = made
            status = send_once(row["webhook_url"], self.rules, body=body, headers=headers, timeout=self.timeout)
        except AddressRefused as exc:
            error = f"refused: {exc}"
        except Exception as exc:  # no answer, a reset, a bad certificate: all worth another try
            error = f"{type(exc).__name__}: {exc}"[:300]
        if status is not None and 200 <= status < 300:
            self._finish(event.id, "delivered", attempt, status, None)
            if self.on_delivered is not None:
                self.on_delivered(event.id, event.type)
            return
        attempts = RETRIES[row["api"]] + 1 if row["api"] in RETRIES else self.attempts
        if attempt >= attempts or (error or "").startswith("refused"):
            self._finish(event.id, "failed", attempt, status, error or f"HTTP {status}")
            return
        wait = self.backoff * (2 ** (attempt - 1))
        with self.store.write() as db:
            db.execute("UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ?, last_status = ?, "
                       "last_error = ? WHERE event_id = ?", (attempt, time.time() + wait, status,
                                                            error or f"HTTP {status}", event.id))
        self.wake()

    def _finish(self, event_id: str, state: str, attempts: int, status: int | None, error: str | None) -> None:
        with self.store.write() as db:
            db.execute("UPDATE webhook_deliveries SET state = ?, attempts = ?, last_status = ?, last_error = ?, "
                       "delivered_at = ? WHERE event_id = ?",
                       (state, attempts, status, error, time.time() if state == "delivered" else None, event_id))


def deliveries(store: Store, job_id: str) -> list[dict[str, Any]]:
    """The job's webhook deliveries, oldest first (for tests and operators)."""
    rows = store.read().execute(
        "SELECT d.*, e.type FROM webhook_deliveries d JOIN job_events e ON e.id = d.event_id WHERE d.job_id = ? "
        "ORDER BY d.seq", (job_id,)).fetchall()
    return [dict(row) for row in rows]


def parse_body(body: bytes) -> dict[str, Any]:
    return json.loads(body)

"""What a key has besides its jobs: a render quota the operator sets (TikVod's credits; unlimited unless set) and
webhook endpoints registered per API (for contracts whose receivers are set up once, not per job)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from reelforge.service.errors import NotFound
from reelforge.service.ids import new_id
from reelforge.service.store import Store


@dataclass(frozen=True)
class Balance:
    quota: int | None  # None: unlimited
    used: int

    @property
    def left(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.used, 0)


@dataclass(frozen=True)
class Endpoint:
    id: str
    key_id: str
    api: str
    url: str
    secret: str
    created_at: float


class Quotas:
    """Renders a key may have made, counted over its jobs of one API that did not fail or get cancelled (those
    are refunded)."""

    def __init__(self, store: Store):
        self.store = store

    def set(self, key_id: str, videos: int | None) -> None:
        with self.store.write() as db:
            if videos is None:
                db.execute("DELETE FROM key_quotas WHERE key_id = ?", (key_id,))
            else:
                db.execute("INSERT INTO key_quotas (key_id, videos, updated_at) VALUES (?, ?, ?) ON CONFLICT (key_id) "
                           "DO UPDATE SET videos = excluded.videos, updated_at = excluded.updated_at",
                           (key_id, int(videos), time.time()))

    def balance(self, key_id: str, api: str) -> Balance:
        db = self.store.read()
        row = db.execute("SELECT videos FROM key_quotas WHERE key_id = ?", (key_id,)).fetchone()
        used = db.execute("SELECT COUNT(*) FROM jobs WHERE key_id = ? AND api = ? AND test = 0 AND status IN "
                          "('queued', 'rendering', 'completed')", (key_id, api)).fetchone()[0]
        return Balance(row["videos"] if row is not None else None, used)


class Endpoints:
    """One webhook endpoint per key and API (registering again replaces it); its secret is made here."""

    def __init__(self, store: Store):
        self.store = store

    def register(self, key_id: str, api: str, url: str, prefix: str = "whsec") -> Endpoint:
        endpoint_id, secret, now = new_id("we"), f"{prefix}_{secrets.token_urlsafe(24)}", time.time()
        with self.store.write() as db:
            db.execute("DELETE FROM webhook_endpoints WHERE key_id = ? AND api = ?", (key_id, api))
            db.execute("INSERT INTO webhook_endpoints (id, key_id, api, url, secret, created_at) VALUES "
                       "(?, ?, ?, ?, ?, ?)", (endpoint_id, key_id, api, url, secret, now))
        return Endpoint(endpoint_id, key_id, api, url, secret, now)

    def get(self, key_id: str, api: str) -> Endpoint | None:
        row = self.store.read().execute("SELECT * FROM webhook_endpoints WHERE key_id = ? AND api = ?",
                                        (key_id, api)).fetchone()
        return Endpoint(**dict(row)) if row is not None else None

    def remove(self, key_id: str, endpoint_id: str) -> None:
        with self.store.write() as db:
            if not db.execute("DELETE FROM webhook_endpoints WHERE key_id = ? AND id = ?",
                              (key_id, endpoint_id)).rowcount:
                raise NotFound(f"no webhook endpoint {endpoint_id}", code="resource_missing")

"""Idempotency records: an `Idempotency-Key` with the hash of its request and the answer first given, kept for 24 h.

`begin` answers None (go ahead: the record is taken), the stored answer (a replay), or raises Conflict (the same
key with another request, or the first request still running)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from reelforge.service.errors import Conflict, Invalid
from reelforge.service.store import Store, dumps, loads

MAX_KEY_LENGTH = 255


class Idempotency:
    def __init__(self, store: Store, lifetime: float):
        self.store = store
        self.lifetime = lifetime

    def begin(self, key_id: str, idem_key: str, request_hash: str) -> tuple[int, dict[str, Any]] | None:
        if not idem_key or len(idem_key) > MAX_KEY_LENGTH or not idem_key.isprintable():
            raise Invalid(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                          code="invalid_idempotency_key")
        now = time.time()
        with self.store.write() as db:
            db.execute("DELETE FROM idempotency WHERE created_at < ?", (now - self.lifetime,))
            try:
                db.execute("INSERT INTO idempotency (key_id, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?)",
                           (key_id, idem_key, request_hash, now))
                return None
            except sqlite3.IntegrityError:
                row = db.execute("SELECT * FROM idempotency WHERE key_id = ? AND idem_key = ?",
                                 (key_id, idem_key)).fetchone()
        if row["request_hash"] != request_hash:
            raise Conflict("this Idempotency-Key was used with a different request", code="idempotency_key_reused")
        if row["status"] is None:
            raise Conflict("a request with this Idempotency-Key is still being processed", code="idempotency_in_progress")
        return row["status"], loads(row["response"])

    def finish(self, key_id: str, idem_key: str, status: int, response: dict[str, Any]) -> None:
        with self.store.write() as db:
            db.execute("UPDATE idempotency SET status = ?, response = ? WHERE key_id = ? AND idem_key = ?",
                       (status, dumps(response), key_id, idem_key))

    def abandon(self, key_id: str, idem_key: str) -> None:
        """Forget a record whose request was not carried out (a server error, a rate limit): it may be sent again."""
        with self.store.write() as db:
            db.execute("DELETE FROM idempotency WHERE key_id = ? AND idem_key = ? AND status IS NULL", (key_id, idem_key))

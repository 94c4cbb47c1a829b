"""API keys: shown once when made, stored as a SHA-256 hash (a key is 190 random bits, so a fast hash is enough),
revoked or rotated by id. A test key (`rf_test_…`) has its jobs checked and queued, never rendered."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from reelforge.service.errors import NotFound
from reelforge.service.ids import new_id
from reelforge.service.store import Store

LIVE_PREFIX = "rf_live_"
TEST_PREFIX = "rf_test_"


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    test: bool
    hint: str  # the key's first characters, to tell keys apart in a list
    created_at: float
    rotated_at: float | None = None
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _new_secret(test: bool) -> str:
    return (TEST_PREFIX if test else LIVE_PREFIX) + secrets.token_urlsafe(24)


def _key(row) -> ApiKey:
    return ApiKey(row["id"], row["name"], bool(row["test"]), row["hint"], row["created_at"], row["rotated_at"],
                  row["revoked_at"])


class Keys:
    """The keys table."""

    def __init__(self, store: Store):
        self.store = store

    def create(self, name: str, *, test: bool = False) -> tuple[ApiKey, str]:
        """A new key and its secret (the only time the secret is seen)."""
        secret = _new_secret(test)
        key_id = new_id("key")
        with self.store.write() as db:
            db.execute("INSERT INTO keys (id, name, hash, hint, test, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (key_id, name, hash_secret(secret), secret[:12], int(test), time.time()))
        return self.get(key_id), secret

    def get(self, key_id: str) -> ApiKey:
        row = self.store.read().execute("SELECT * FROM keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFound(f"no key {key_id}")
        return _key(row)

    def list(self) -> list[ApiKey]:
        return [_key(row) for row in self.store.read().execute("SELECT * FROM keys ORDER BY created_at, id")]

    def revoke(self, key_id: str) -> ApiKey:
        self.get(key_id)
        with self.store.write() as db:
            db.execute("UPDATE keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", (time.time(), key_id))
        return self.get(key_id)

    def rotate(self, key_id: str) -> tuple[ApiKey, str]:
        """A new secret for the same key (its jobs stay its own); the old secret stops working at once."""
        key = self.get(key_id)
        if not key.active:
            raise NotFound(f"key {key_id} is revoked")
        secret = _new_secret(key.test)
        with self.store.write() as db:
            db.execute("UPDATE keys SET hash = ?, hint = ?, rotated_at = ? WHERE id = ?",
                       (hash_secret(secret), secret[:12], time.time(), key_id))
        return self.get(key_id), secret

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key with this secret, or None."""
        if not secret or len(secret) > 200:
            return None
        row = self.store.read().execute("SELECT * FROM keys WHERE hash = ?", (hash_secret(secret),)).fetchone()
        if row is None or row["revoked_at"] is not None:
            return None
        return _key(row)

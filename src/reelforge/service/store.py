"""The service's one SQLite database (WAL mode) in the data folder: keys, jobs, job events, webhook deliveries,
idempotency records. A connection per thread; writes in short `BEGIN IMMEDIATE` transactions."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, hint TEXT NOT NULL,
    test INTEGER NOT NULL, created_at REAL NOT NULL, rotated_at REAL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, key_id TEXT NOT NULL, api TEXT NOT NULL,
    test INTEGER NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, eta REAL,
    attempts INTEGER NOT NULL DEFAULT 0, quality TEXT, metadata TEXT NOT NULL, webhook_url TEXT,
    webhook_secret TEXT, extra TEXT, error TEXT, result TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, started_at REAL, updated_at REAL NOT NULL, finished_at REAL);
CREATE INDEX IF NOT EXISTS jobs_by_key ON jobs (key_id, seq);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);
CREATE TABLE IF NOT EXISTS job_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, job_id TEXT NOT NULL, type TEXT NOT NULL,
    created_at REAL NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_job ON job_events (job_id, seq);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, job_id TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
    last_status INTEGER, last_error TEXT, created_at REAL NOT NULL, delivered_at REAL);
CREATE INDEX IF NOT EXISTS deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS key_quotas (key_id TEXT PRIMARY KEY, videos INTEGER NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY, key_id TEXT NOT NULL, api TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
    created_at REAL NOT NULL, UNIQUE (key_id, api));
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, key_id TEXT NOT NULL, api TEXT NOT NULL, status TEXT NOT NULL, edit_token TEXT NOT NULL UNIQUE,
    share_token TEXT NOT NULL UNIQUE, edit_expires_at REAL NOT NULL, revision INTEGER NOT NULL DEFAULT 0,
    render_job_id TEXT, request TEXT NOT NULL, meta TEXT NOT NULL, error TEXT, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, completed_at REAL);
CREATE TABLE IF NOT EXISTS idempotency (
    key_id TEXT NOT NULL, idem_key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER, response TEXT,
    created_at REAL NOT NULL, PRIMARY KEY (key_id, idem_key));
"""


class Store:
    """The database file, opened in WAL mode; `read()` and `write()` hand out this thread's connection."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connection().executescript(SCHEMA)
        with self.write() as db:
            db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # with WAL: nothing committed is lost when the process dies
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
        return connection

    def read(self) -> sqlite3.Connection:
        return self._connection()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction that holds the write lock from its start (no lock upgrade can deadlock)."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def meta(self, name: str, default: str | None = None) -> str | None:
        row = self.read().execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row["value"] if row is not None else default

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None

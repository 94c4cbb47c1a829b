"""A job as the engine knows it, and its canonical JSON (the native API's `render` object, also the data of its
events): status, phase, progress, timestamps, error and result."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Callable

from reelforge.service.store import loads

STATUSES = ("queued", "rendering", "completed", "failed", "cancelled")
TERMINAL = ("completed", "failed", "cancelled")
PHASES = ("queued", "preparing_assets", "narrating", "rendering", "muxing", "completed", "failed", "cancelled")


def iso(stamp: float | None) -> str | None:
    """A Unix time as an ISO 8601 UTC string with milliseconds."""
    if stamp is None:
        return None
    return _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def phase_of(stage: str, current: str) -> str:
    """The job's phase for a renderer's progress stage."""
    if stage.startswith("narration"):
        return "narrating"
    if stage in ("mux", "done"):
        return "muxing"
    if stage in ("starting", "video", "audio", "cards"):
        return "rendering"
    return current


@dataclass(frozen=True)
class Job:
    id: str
    key_id: str
    api: str
    test: bool
    status: str
    phase: str
    progress: float
    eta: float | None
    attempts: int
    quality: str | None
    metadata: dict[str, Any]
    webhook_url: str | None
    error: dict[str, Any] | None
    result: dict[str, Any] | None
    cancel_requested: bool
    created_at: float
    started_at: float | None
    updated_at: float
    finished_at: float | None
    extra: dict[str, Any]  # what the API the job came through keeps with it (a compatibility router's own fields)

    @classmethod
    def from_row(cls, row) -> "Job":
        return cls(row["id"], row["key_id"], row["api"], bool(row["test"]), row["status"], row["phase"],
                   row["progress"], row["eta"], row["attempts"], row["quality"], loads(row["metadata"]) or {},
                   row["webhook_url"], loads(row["error"]), loads(row["result"]), bool(row["cancel_requested"]),
                   row["created_at"], row["started_at"], row["updated_at"], row["finished_at"],
                   loads(row["extra"]) or {})

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def to_dict(self, links: Callable[["Job"], dict[str, Any]] | None = None) -> dict[str, Any]:
        """The `render` object: what GET /v1/renders/{id} answers and what webhooks carry."""
        result = None
        if self.result is not None:
            result = dict(self.result)
            if links is not None and self.status == "completed" and not self.test:
                result.update(links(self))
        return {
            "id": self.id, "object": "render", "status": self.status, "phase": self.phase,
            "progress": int(self.progress), "etaSeconds": round(self.eta, 1) if self.eta is not None else None,
            "attempts": self.attempts, "quality": self.quality, "test": self.test, "metadata": self.metadata,
            "webhook": {"url": self.webhook_url} if self.webhook_url else None,
            "cancelRequested": self.cancel_requested, "createdAt": iso(self.created_at),
            "startedAt": iso(self.started_at), "updatedAt": iso(self.updated_at), "finishedAt": iso(self.finished_at),
            "error": self.error, "result": result,
        }

"""Editable projects behind a token (TutorFlow's videos): a document written from a prompt, changed only through
the core's edit operations (`reelforge.editing.Project`: validation, undo, staleness), saved atomically after each
change, and rendered as an engine job on demand.

A project has a revision that every change (edit, undo, redo) raises by one; a change sent with the revision it
was made against (`if_match`) is refused with Conflict when the project has moved on since, so two clients editing
at once never lose each other's edits silently. Its edit token's lifetime slides on every read; its share token
is permanent. Folders: `<data>/projects/<id>/project.json` and `uploads/` (custom clips).
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from reelforge.editing.operations import Edit
from reelforge.editing.project import Project, StaleMarker
from reelforge.errors import EditError
from reelforge.service.errors import Conflict, Invalid, NotFound
from reelforge.service.store import dumps, loads

PROJECT_FILE = "project.json"


@dataclass(frozen=True)
class ProjectRecord:
    id: str
    key_id: str
    api: str
    status: str  # PENDING, PROCESSING, COMPLETED, FAILED (writing the scenes)
    edit_token: str
    share_token: str
    edit_expires_at: float
    revision: int
    render_job_id: str | None
    request: dict[str, Any]
    meta: dict[str, Any]
    error: str | None
    created_at: float
    updated_at: float
    completed_at: float | None

    @classmethod
    def from_row(cls, row) -> "ProjectRecord":
        return cls(row["id"], row["key_id"], row["api"], row["status"], row["edit_token"], row["share_token"],
                   row["edit_expires_at"], row["revision"], row["render_job_id"], loads(row["request"]) or {},
                   loads(row["meta"]) or {}, row["error"], row["created_at"], row["updated_at"], row["completed_at"])

    @property
    def title(self) -> str | None:
        return self.meta.get("title")


class Projects:
    """The projects table and folders of one engine."""

    def __init__(self, engine, lifetime: float):
        self.engine = engine
        self.store = engine.store
        self.lifetime = lifetime
        self.folder = engine.settings.data / "projects"
        self.folder.mkdir(exist_ok=True)
        self._open: dict[str, Project] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- records -----------------------------------------------------------------------------------------------

    def create(self, key, api: str, request: dict[str, Any], meta: dict[str, Any]) -> ProjectRecord:
        project_id, now = str(uuid.uuid4()), time.time()
        (self.folder / project_id / "uploads").mkdir(parents=True)
        with self.store.write() as db:
            db.execute("INSERT INTO projects (id, key_id, api, status, edit_token, share_token, edit_expires_at, "
                       "request, meta, created_at, updated_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?, ?)",
                       (project_id, key.id, api, secrets.token_hex(16), secrets.token_hex(16), now + self.lifetime,
                        dumps(request), dumps(meta), now, now))
        return self._record(project_id)

    def _record(self, project_id: str) -> ProjectRecord:
        row = self.store.read().execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        if row is None:
            raise NotFound(f"no video {project_id}", code="video_not_found")
        return ProjectRecord.from_row(row)

    def get(self, key, project_id: str) -> ProjectRecord:
        record = self._record(project_id)
        if record.key_id != key.id:
            raise NotFound(f"no video {project_id}", code="video_not_found")
        return record

    def by_edit_token(self, token: str, *, slide: bool = True) -> ProjectRecord:
        """The project of an edit token that has not expired; its lifetime extended (`slide`)."""
        now = time.time()
        with self.store.write() as db:
            row = db.execute("SELECT id, edit_expires_at FROM projects WHERE edit_token = ?", (token,)).fetchone()
            if row is None or row["edit_expires_at"] < now:
                raise NotFound("this edit token is not valid or has expired", code="edit_token_expired")
            if slide:
                db.execute("UPDATE projects SET edit_expires_at = ? WHERE id = ?", (now + self.lifetime, row["id"]))
        return self._record(row["id"])

    def shared(self, token: str) -> tuple[ProjectRecord, dict[str, Any]] | None:
        """The project of a share token and its document's wire form (None for an unknown token)."""
        row = self.store.read().execute("SELECT id FROM projects WHERE share_token = ?", (token,)).fetchone()
        if row is None:
            return None
        record = self._record(row["id"])
        path = self.folder / record.id / PROJECT_FILE
        return record, (loads(path.read_text(encoding="utf-8")) if path.is_file() else {"name": record.title})

    def _update(self, project_id: str, **fields: Any) -> ProjectRecord:
        fields["updated_at"] = time.time()
        names = ", ".join(f"{name} = ?" for name in fields)
        values = [dumps(v) if name in ("meta", "request") else v for name, v in fields.items()]
        with self.store.write() as db:
            db.execute(f"UPDATE projects SET {names} WHERE id = ?", (*values, project_id))
        return self._record(project_id)

    # -- writing the scenes ---------------------------------------------------------------------------------------

    def generate(self, record: ProjectRecord, write: Callable[[], tuple[Any, dict[str, Any]]]) -> ProjectRecord:
        """Run `write` (→ the document and meta to add), save the document, mark the project COMPLETED (or
        FAILED with the error's message)."""
        self._update(record.id, status="PROCESSING")
        try:
            document, meta = write()
            project = Project.new(document, self.folder / record.id / PROJECT_FILE)
            project.save()
            with self._guard:
                self._open[record.id] = project
            return self._update(record.id, status="COMPLETED", meta={**record.meta, **meta},
                                completed_at=time.time())
        except Exception as error:  # the writer's failure is the project's state, reported to the client
            message = getattr(error, "message", None) or str(error)
            return self._update(record.id, status="FAILED", error=self.engine.public_text(message),
                                completed_at=time.time())

    def unfinished(self) -> list[ProjectRecord]:
        rows = self.store.read().execute("SELECT id FROM projects WHERE status IN ('PENDING', 'PROCESSING')").fetchall()
        return [self._record(row["id"]) for row in rows]

    # -- editing --------------------------------------------------------------------------------------------------

    def _lock(self, project_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(project_id, threading.Lock())

    def project(self, record: ProjectRecord) -> Project:
        """The project being edited (loaded from its file the first time after a start)."""
        if record.status != "COMPLETED":
            raise Conflict(f"video {record.id} is {record.status}: its scenes can be edited once they are written",
                           code="video_not_ready")
        with self._guard:
            project = self._open.get(record.id)
        if project is None:
            project = Project.open(self.folder / record.id / PROJECT_FILE, assets=self.uploads(record))
            with self._guard:
                project = self._open.setdefault(record.id, project)
        return project

    def uploads(self, record: ProjectRecord) -> Path:
        return self.folder / record.id / "uploads"

    def change(self, record: ProjectRecord, step: Callable[[Project], Any], if_match: int | None) -> ProjectRecord:
        """Apply one change (an edit, undo or redo) against revision `if_match` (None: the current one); save; the
        revision raised by one when the document changed."""
        with self._lock(record.id):
            current = self._record(record.id)
            if if_match is not None and if_match != current.revision:
                raise Conflict(f"the video was changed since revision {if_match}: it is at revision "
                               f"{current.revision}; read it again and repeat the edit",
                               code="revision_conflict", details={"revision": current.revision})
            project = self.project(current)
            before = project.document
            try:
                step(project)
            except EditError as error:
                raise Invalid(str(error), code="invalid_edit",
                              details={"errors": [{"path": "", "message": str(error)}]}) from None
            if project.document == before:
                return current
            project.save()
            return self._update(record.id, revision=current.revision + 1)

    def edit(self, record: ProjectRecord, edit: Edit, if_match: int | None = None) -> ProjectRecord:
        return self.change(record, lambda project: project.apply(edit), if_match)

    def add_upload(self, record: ProjectRecord, name: str, source: Path) -> str:
        """Keep an uploaded file (already checked by the upload writer) among the project's custom clips."""
        target = self.uploads(record) / name
        os.replace(source, target)
        return name

    def stale(self, record: ProjectRecord) -> frozenset[StaleMarker]:
        with self._guard:
            project = self._open.get(record.id)
        return project.stale if project is not None else frozenset()

    # -- rendering ------------------------------------------------------------------------------------------------

    def render(self, record: ProjectRecord, key, *, api: str) -> ProjectRecord:
        """Submit the current document as a render job (its custom clips linked into the job's folder)."""
        from reelforge.service.uploads import sniff

        with self._lock(record.id):
            current = self._record(record.id)
            project = self.project(current)
            draft = self.engine.open_draft("rnd")
            for path in sorted(self.uploads(current).iterdir()):
                if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
                    try:
                        os.link(path, draft.uploads / path.name)
                    except OSError:
                        shutil.copyfile(path, draft.uploads / path.name)
                    with path.open("rb") as handle:
                        draft.files[path.name] = sniff(handle.read(64)) or "application/octet-stream"
            job = self.engine.submit(key, draft, project.document.to_json_dict(), api=api,
                                     extra={"project": current.id, "revision": current.revision})
            project.mark_fresh(*project.stale)
            return self._update(current.id, render_job_id=job.id,
                                meta={**current.meta, "renderCancelled": False})

    def cancel_render(self, record: ProjectRecord, key) -> ProjectRecord:
        if record.render_job_id:
            self.engine.cancel(key, record.render_job_id)
        return self._update(record.id, meta={**record.meta, "renderCancelled": True})

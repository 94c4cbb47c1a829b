"""The job engine: submissions checked and queued in the database, a dispatcher handing queued jobs to the
executor in submission order, progress and results written back, cancel at any moment, restart after a kill.

Kill the process at any moment and start it again: a queued job is still queued; a job that was rendering is
queued again (its attempt counted) until `max_attempts`, then failed with the reason; a finished job is never
run again, and its events (and their webhooks) are written exactly once, with its status, in one transaction.
The output appears only when complete (the renderer writes it atomically) and is served only once the job is
marked completed.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelforge.errors import DocumentError, Problem, RenderCancelled
from reelforge.job import RenderJob
from reelforge.progress import CancelToken, Progress
from reelforge.reports import error_report
from reelforge.service.errors import Conflict, Invalid, NotFound, RateLimited, ServiceError, Unavailable
from reelforge.service.executor import Executor, LocalExecutor, ProcessExecutor, RenderTask
from reelforge.service.idempotency import Idempotency
from reelforge.service.ids import new_id
from reelforge.service.jobs import TERMINAL, Job, iso, phase_of
from reelforge.service.keys import ApiKey, Keys
from reelforge.service.limits import Decision, RateLimiter
from reelforge.service.settings import ServiceSettings
from reelforge.service.store import Store, dumps, loads
from reelforge.service.uploads import UploadBudget, UploadWriter
from reelforge.service.webhooks import V1_EVENTS, Outbox
from reelforge.workspace import Workspace

_LOG = logging.getLogger("reelforge.service")
QUALITIES = ("draft", "web", "studio")
MAX_METADATA_KEYS = 20
PROGRESS_WRITE_SECONDS = 0.5
VIDEO_NAME = "video.mp4"
TASK_FILE = "task.json"  # a job that is not a render: {kind, params}
SCENES_NAME = "scenes.json"  # a render's scene index: each scene's id, start, end and narration
CAPTION_FORMATS = ("srt", "vtt")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~\\-])/(?:[^\s'\"/,;:()]+/)*([^\s'\",;:()/]*)")


@dataclass
class Validation:
    """What a dry run found: errors and warnings located by JSON path, and the estimated length."""

    errors: list[Problem]
    warnings: list[Problem]
    estimated_duration: float | None
    document: Any = None

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class Draft:
    """A job being received: its id and folder exist, its uploads stream in; `submit` makes it a job."""

    id: str
    folder: Path
    budget: UploadBudget
    files: dict[str, str] = field(default_factory=dict)  # uploadName → media type

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"

    def upload(self, name: str) -> UploadWriter:
        """A writer for one uploaded file; call `finish()` (then `add`) or `abort()`."""
        return UploadWriter(self.uploads, name, self.budget)

    def add(self, writer: UploadWriter) -> None:
        self.files[writer.name] = writer.finish()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class _Running:
    token: CancelToken
    done: threading.Event = field(default_factory=threading.Event)
    requeue: bool = False  # stopped by the server's own shutdown, not by the client


class Engine:
    """The service's jobs, keys, limits and webhooks over one data folder."""

    def __init__(self, settings: ServiceSettings, *, executor: Executor | None = None):
        self.settings = settings
        settings.data.mkdir(parents=True, exist_ok=True)
        settings.jobs_dir.mkdir(exist_ok=True)
        self.store = Store(settings.database)
        self.keys = Keys(self.store)
        from reelforge.service.accounts import Endpoints, Quotas

        self.quotas = Quotas(self.store)
        self.endpoints = Endpoints(self.store)
        self.idempotency = Idempotency(self.store, settings.idempotency_seconds)
        if executor is None and settings.scheduler:  # renders' video runs on a Dask cluster (issue 16)
            from reelforge.cluster.executor import DaskExecutor

            executor = DaskExecutor.connect(settings.scheduler, settings.workers, shared=settings.shared_folder)
        if executor is None:
            kind = ProcessExecutor if settings.executor == "process" else LocalExecutor
            executor = kind(settings.workers, nice=settings.render_nice)
        self.executor = executor
        self.policy = settings.source_policy()
        self.requests = RateLimiter(settings.requests_per_minute)
        self.submissions = RateLimiter(settings.submissions_per_minute)
        self.outbox = Outbox(self.store, settings.webhook_rules(), attempts=settings.webhook_attempts,
                             backoff=settings.webhook_backoff_seconds, timeout=settings.webhook_timeout_seconds)
        self.base_url = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
        self._secret = self._download_secret()
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file: int | None = None

    # -- life cycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the data folder (one server per folder), recover what a kill left, start dispatching."""
        fd = os.open(self.settings.data / "server.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise Unavailable("another reelforge server is using this data folder") from None
        self._lock_file = fd
        self._recover()
        self._thread = threading.Thread(target=self._dispatch, name="dispatcher", daemon=True)
        self._thread.start()
        self.outbox.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking jobs; renders in progress are stopped and queued again (no attempt counted)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            running = list(self._running.values())
        for item in running:
            item.requeue = True
            item.token.cancel()
        for item in running:
            item.done.wait(timeout)
        self.executor.shutdown(wait=False)
        self.outbox.stop()
        self.store.close()
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None

    def _recover(self) -> None:
        now = time.time()
        cleanup = []
        with self.store.write() as db:
            for row in db.execute("SELECT id, attempts, cancel_requested FROM jobs WHERE status = 'rendering'").fetchall():
                job_id = row["id"]
                cleanup.append(job_id)
                if row["cancel_requested"]:
                    self._set_terminal(db, job_id, "cancelled", now)
                elif row["attempts"] >= self.settings.max_attempts:
                    error = {"code": "interrupted", "path": None, "message": f"the server stopped during each of "
                             f"the {row['attempts']} attempts to render this job"}
                    self._set_terminal(db, job_id, "failed", now, error=error)
                else:
                    db.execute("UPDATE jobs SET status = 'queued', phase = 'queued', progress = 0, eta = NULL, "
                               "updated_at = ? WHERE id = ?", (now, job_id))
                    self._event(db, job_id, "render.requeued", now)
            db.execute("DELETE FROM idempotency WHERE status IS NULL OR created_at < ?",
                       (now - self.settings.idempotency_seconds,))
            known = {row["id"] for row in db.execute("SELECT id FROM jobs")}
        for job_id in cleanup:
            self._clean(job_id)
        for folder in self.settings.jobs_dir.iterdir():  # drafts whose request died with the server
            if folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)

    # -- limits ----------------------------------------------------------------------------------------------

    def admit(self, key: ApiKey, kind: str = "request") -> Decision:
        """Count one request (or submission) of `key`; RateLimited when it is over its limit."""
        limiter = self.submissions if kind == "submission" else self.requests
        decision = limiter.hit(key.id)
        if not decision.allowed:
            error = RateLimited(f"too many {'submissions' if kind == 'submission' else 'requests'}: at most "
                                f"{decision.limit} a minute; try again in {decision.reset_seconds} s",
                                decision.reset_seconds, details={"limit": decision.limit})
            error.headers = decision.headers()
            raise error
        return decision

    # -- submitting ------------------------------------------------------------------------------------------

    def open_draft(self, prefix: str = "rnd") -> Draft:
        """A new job's id (with a readable `prefix`: each API names its jobs its own way) and folder."""
        job_id = new_id(prefix)
        folder = self.settings.jobs_dir / job_id
        (folder / "uploads").mkdir(parents=True)
        return Draft(job_id, folder, UploadBudget(self.settings.max_upload_bytes, self.settings.max_job_bytes))

    def validate(self, data: Any, *, uploads: set[str] | None = None) -> Validation:
        """Check a document as a submission would, rendering nothing (`uploads`: the names of its files, or None
        when they are not known yet)."""
        from reelforge.document.checks import check_document, iter_sources
        from reelforge.document.estimate import document_seconds
        from reelforge.document.loader import validate_data
        from reelforge.resolve.sources import policy_problems

        try:
            document = validate_data(data)
        except DocumentError as error:
            return Validation([p for p in error.problems if p.severity == "error"],
                              [p for p in error.problems if p.severity != "error"], None)
        problems = check_document(document) + policy_problems(document, self.policy)
        for where, source in iter_sources(document):
            if source.upload_name is None:
                continue
            if uploads is None:
                problems.append(Problem(f"{where}.uploadName", f"{source.upload_name!r} must be uploaded with the "
                                        "render (a `files` part of that name)", "warning"))
            elif source.upload_name not in uploads:
                problems.append(Problem(f"{where}.uploadName", f"no file named {source.upload_name!r} was "
                                        "uploaded with the render"))
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity != "error"]
        try:
            seconds = round(float(document_seconds(document)), 2)
        except Exception:
            seconds = None
        return Validation(errors, warnings, seconds, document)

    def submit(self, key: ApiKey, draft: Draft, document: Any, *, quality: str | None = None,
               webhook: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None,
               api: str = "v1", extra: dict[str, Any] | None = None, active_limit: int | None = None) -> Job:
        """Check and queue a job from a draft (its files uploaded); Invalid or Conflict otherwise. The draft's
        folder becomes the job's, or is removed when the submission is refused.

        `api` names the wire contract the job came through (its webhooks use that API's format); `extra` is
        data that API keeps with the job; `active_limit` overrides the active jobs a key may have (a contract
        that allows one at a time)."""
        try:
            return self._submit(key, draft, document, quality, webhook, metadata or {}, api, extra or {},
                                active_limit or self.settings.active_jobs_per_key)
        except BaseException:
            draft.discard()
            raise

    def _submit(self, key: ApiKey, draft: Draft, document: Any, quality: str | None,
                webhook: dict[str, Any] | None, metadata: dict[str, Any], api: str, extra: dict[str, Any],
                limit: int) -> Job:
        self._check_active(key, limit)
        if quality is not None and quality not in QUALITIES:
            raise _invalid("quality", f"must be one of {', '.join(QUALITIES)}")
        _check_metadata(metadata)
        url, secret = self._check_webhook(webhook)
        report = self.validate(document, uploads=set(draft.files))
        if not report.valid:
            first = report.errors[0]
            raise Invalid(f"{first.path or '(document)'}: {first.message}", code="invalid_document",
                          details={"errors": [_problem(p) for p in report.errors],
                                   "warnings": [_problem(p) for p in report.warnings]})
        folder = draft.folder
        job = RenderJob(document=document, output=str(folder / "output" / VIDEO_NAME), assets=str(draft.uploads),
                        base_dir=str(self.policy.media_root or folder), quality=quality,
                        workers=self.settings.render_threads, sources=self.policy)
        from reelforge.fileio import write_atomic

        write_atomic(folder / "job.json", job.to_json())
        return self._insert(key, draft, quality, metadata, url, secret, api, extra, limit)

    def submit_task(self, key: ApiKey, draft: Draft, kind: str, params: dict[str, Any], *,
                    webhook: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None, api: str = "v1",
                    extra: dict[str, Any] | None = None, active_limit: int | None = None) -> Job:
        """Queue a job that is not a render (`kind` names a task of `reelforge.service.tasks`, `params` its plain
        data): the same queue, limits, cancel, restart and webhooks as renders."""
        try:
            from reelforge.service.tasks import check_kind

            check_kind(kind)
            metadata = metadata or {}
            limit = active_limit or self.settings.active_jobs_per_key
            self._check_active(key, limit)
            _check_metadata(metadata)
            url, secret = self._check_webhook(webhook)
            from reelforge.fileio import write_atomic

            write_atomic(draft.folder / TASK_FILE, dumps({"kind": kind, "params": params}))
            return self._insert(key, draft, None, metadata, url, secret, api, extra or {}, limit)
        except BaseException:
            draft.discard()
            raise

    def _insert(self, key: ApiKey, draft: Draft, quality: str | None, metadata: dict[str, Any], url: str | None,
                secret: str | None, api: str, extra: dict[str, Any], limit: int) -> Job:
        now = time.time()
        with self.store.write() as db:
            self._check_active(key, limit, db)
            db.execute("INSERT INTO jobs (id, key_id, api, test, status, phase, quality, metadata, webhook_url, "
                       "webhook_secret, extra, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', 'queued', ?, ?, "
                       "?, ?, ?, ?, ?)", (draft.id, key.id, api, int(key.test), quality, dumps(metadata), url, secret,
                                          dumps(extra), now, now))
            self._event(db, draft.id, "render.queued", now)
            job = Job.from_row(db.execute("SELECT * FROM jobs WHERE id = ?", (draft.id,)).fetchone())
        self._wake.set()
        self.outbox.wake()
        return job

    def _check_active(self, key: ApiKey, limit: int, db=None) -> None:
        db = db or self.store.read()
        active = db.execute("SELECT COUNT(*) FROM jobs WHERE key_id = ? AND status IN ('queued', 'rendering')",
                            (key.id,)).fetchone()[0]
        if active >= limit:
            raise Conflict(f"this key has {active} jobs queued or rendering, the most it may have; wait for one to "
                           "finish", code="too_many_active_jobs", details={"limit": limit})

    def check_webhook(self, webhook: dict[str, Any] | None) -> tuple[str | None, str | None]:
        """A webhook `{url, secret}` checked as a submission checks it (Invalid when refused)."""
        return self._check_webhook(webhook)

    def _check_webhook(self, webhook: dict[str, Any] | None) -> tuple[str | None, str | None]:
        if webhook is None:
            return None, None
        if not isinstance(webhook, dict) or set(webhook) - {"url", "secret"}:
            raise _invalid("webhook", "must be an object with `url` and `secret`")
        url, secret = webhook.get("url"), webhook.get("secret")
        if not isinstance(url, str) or not url or len(url) > 2048:
            raise _invalid("webhook.url", "must be a URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise _invalid("webhook.secret", "must be a string of 8 to 256 characters (it signs each delivery)")
        from reelforge.resolve.fetch import AddressRefused, resolve_target

        try:
            resolve_target(url, self.settings.webhook_rules(), timeout=5)
        except AddressRefused as exc:
            raise _invalid("webhook.url", f"{url} is refused: {exc}", code="webhook_refused") from None
        except (OSError, TimeoutError) as exc:
            raise _invalid("webhook.url", f"{url} is refused: {exc}", code="webhook_refused") from None
        return url, secret

    # -- reading ---------------------------------------------------------------------------------------------

    def _job(self, job_id: str) -> Job:
        row = self.store.read().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no render {job_id}")
        return Job.from_row(row)

    def job(self, job_id: str) -> Job:
        """Any key's job: for a caller holding its own credential for it (a signed link, a project's token)."""
        return self._job(job_id)

    def derived_secret(self, label: str) -> str:
        """A secret of this server for `label` (stable across restarts; e.g. an account's webhook secret)."""
        return hmac.new(self._secret, label.encode("utf-8"), hashlib.sha256).hexdigest()

    def get(self, key: ApiKey, job_id: str) -> Job:
        """The key's job; NotFound for a job of another key, as for one that does not exist."""
        row = self.store.read().execute("SELECT * FROM jobs WHERE id = ? AND key_id = ?", (job_id, key.id)).fetchone()
        if row is None:
            raise NotFound(f"no render {job_id}", code="render_not_found")
        return Job.from_row(row)

    def list(self, key: ApiKey, *, limit: int = 20, cursor: str | None = None,
             status: str | None = None, api: str | None = None) -> tuple[list[Job], bool]:
        """The key's jobs, newest first, after `cursor` (the last id of the previous page); and whether there are more.
        `api`: only the jobs submitted through that API."""
        query = "SELECT * FROM jobs WHERE key_id = ?"
        params: list[Any] = [key.id]
        if api is not None:
            query += " AND api = ?"
            params.append(api)
        if cursor:
            row = self.store.read().execute("SELECT seq FROM jobs WHERE id = ? AND key_id = ?", (cursor, key.id)).fetchone()
            if row is None:
                raise _invalid("cursor", "is not a render of this key", code="invalid_cursor")
            query += " AND seq < ?"
            params.append(row["seq"])
        if status:
            query += " AND status = ?"
            params.append(status)
        rows = self.store.read().execute(query + " ORDER BY seq DESC LIMIT ?", (*params, limit + 1)).fetchall()
        return [Job.from_row(row) for row in rows[:limit]], len(rows) > limit

    def events(self, job_id: str) -> list[dict[str, Any]]:
        rows = self.store.read().execute("SELECT * FROM job_events WHERE job_id = ? ORDER BY seq", (job_id,)).fetchall()
        return [{"id": r["id"], "type": r["type"], "createdAt": iso(r["created_at"]), "data": loads(r["data"])}
                for r in rows]

    def output_file(self, job: Job, kind: str = "video") -> Path:
        """The finished job's video (`video`) or caption file (`srt`, `vtt`); NotFound until it is completed."""
        if job.status != "completed":
            raise Conflict(f"render {job.id} is {job.status}: its files exist once it is completed",
                           code="render_not_completed")
        if job.test:
            raise NotFound(f"render {job.id} was made with a test key: nothing was rendered", code="no_output")
        folder = (self.settings.jobs_dir / job.id / "output").resolve()
        name = VIDEO_NAME if kind == "video" else f"captions.{kind}"
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            raise NotFound(f"render {job.id} has no {name}", code="no_output")
        return path

    def output_path(self, job: Job, name: str) -> Path | None:
        """A file the job's task wrote into its output folder so far (an item's result, the scene index, a
        poster), whatever the job's status; None when it is not there. Never a path outside that folder."""
        folder = (self.settings.jobs_dir / job.id / "output").resolve()
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            return None
        return path

    def job_folder(self, job: Job) -> Path:
        """The job's own folder (its uploads, its output)."""
        return self.settings.jobs_dir / job.id

    # -- signed links ----------------------------------------------------------------------------------------

    def _download_secret(self) -> bytes:
        value = self.store.meta("download_secret")
        if value is None:
            with self.store.write() as db:
                db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('download_secret', ?)",
                           (secrets.token_hex(32),))
            value = self.store.meta("download_secret")
        return bytes.fromhex(value or "")

    def signature(self, job_id: str, expires: int) -> str:
        return hmac.new(self._secret, f"{job_id}.{expires}".encode(), hashlib.sha256).hexdigest()

    def signed_query(self, job_id: str, seconds: int | None = None) -> tuple[str, int]:
        expires = int(time.time()) + (seconds or self.settings.download_url_seconds)
        return f"expires={expires}&signature={self.signature(job_id, expires)}", expires

    def check_signature(self, job_id: str, expires: int, signature: str) -> bool:
        return expires >= time.time() and hmac.compare_digest(self.signature(job_id, expires), signature)

    def signed_job(self, job_id: str, expires: int, signature: str) -> Job:
        if not self.check_signature(job_id, expires, signature):
            raise NotFound("this download link is not valid or has expired", code="link_expired")
        return self._job(job_id)

    def links(self, job: Job, base_url: str | None = None) -> dict[str, Any]:
        """Signed download URLs of a completed job, absolute on the server's address (or `base_url`)."""
        query, expires = self.signed_query(job.id)
        root = (base_url or self.base_url).rstrip("/")
        base = f"{root}/v1/renders/{job.id}"
        captions = {kind: f"{base}/captions.{kind}?{query}" for kind in (job.result or {}).get("captions", [])}
        return {"downloadUrl": f"{base}/video?{query}", "captionUrls": captions, "expiresAt": iso(expires),
                "shareUrl": f"{root}/share/{self.share_token(job.id, expires)}"}

    def share_token(self, job_id: str, expires: int) -> str:
        """The share page's token for a job (`/share/<token>`): signed like the download links, expiring with them."""
        return f"{job_id}.{expires}.{self.signature(job_id, expires)}"

    def job_dict(self, job: Job, base_url: str | None = None) -> dict[str, Any]:
        """The job's canonical JSON, its download links signed now."""
        return job.to_dict(lambda done: self.links(done, base_url))

    def event_data(self, job: Job) -> dict[str, Any]:
        """What an event records: the job's dict, and (for its API's webhook format) the job's `extra`."""
        return {**self.job_dict(job), "extra": job.extra}

    # -- cancelling ------------------------------------------------------------------------------------------

    def cancel(self, key: ApiKey, job_id: str, *, wait: float = 15.0, queued_only: bool = False) -> Job:
        """Cancel a queued or rendering job (its ffmpeg stops at once); a finished job is answered as it is.
        `queued_only`: a contract that cancels only jobs not yet started; Conflict for any other."""
        job = self.get(key, job_id)
        if job.terminal and not queued_only:
            return job
        now = time.time()
        with self.store.write() as db:
            queued = db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'queued'",
                                (job_id,)).rowcount
            if queued:
                self._set_terminal(db, job_id, "cancelled", now)
            elif queued_only:
                status = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()["status"]
                raise Conflict(f"job {job_id} is {status}: only a job still queued can be cancelled",
                               code="not_cancellable", details={"status": status})
            else:
                db.execute("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status = 'rendering'",
                           (now, job_id))
        self.outbox.wake()
        if not queued:
            with self._lock:
                running = self._running.get(job_id)
            if running is not None:
                running.token.cancel()
                running.done.wait(wait)
        return self.get(key, job_id)

    # -- running ---------------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while not self._stopping.is_set():
            try:
                self._finish_test_jobs()
                while len(self._running) < self.executor.slots and not self._stopping.is_set():
                    job_id = self._claim()
                    if job_id is None:
                        break
                    self._launch(job_id)
            except Exception:
                _LOG.exception("dispatcher")
            self._wake.wait(1.0)
            self._wake.clear()

    def _claim(self) -> str | None:
        now = time.time()
        with self.store.write() as db:
            row = db.execute("SELECT id FROM jobs WHERE status = 'queued' AND test = 0 ORDER BY seq LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET status = 'rendering', phase = 'preparing_assets', progress = 0, eta = NULL, "
                       "attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ?",
                       (now, now, row["id"]))
            self._event(db, row["id"], "render.started", now)
        self.outbox.wake()
        return row["id"]

    def _launch(self, job_id: str) -> None:
        folder = self.settings.jobs_dir / job_id
        running = _Running(CancelToken())
        with self._lock:
            self._running[job_id] = running
        try:
            self._clean(job_id)
            (folder / "output").mkdir(exist_ok=True)
            workspace = Workspace(self.settings.cache_dir, work=folder / "work", voices=self.settings.voices)
            if (folder / TASK_FILE).is_file():
                spec = loads((folder / TASK_FILE).read_text(encoding="utf-8"))
                params = {**spec["params"], "folder": str(folder), "policy": self.policy.model_dump(mode="json")}
                task = RenderTask(job_id, None, workspace.to_dict(), kind=spec["kind"], params=params)
            else:
                job = RenderJob.from_json((folder / "job.json").read_bytes())
                task = RenderTask(job_id, job, workspace.to_dict(),
                                  tuple(str(folder / "output" / f"captions.{kind}") for kind in CAPTION_FORMATS),
                                  scenes=str(folder / "output" / SCENES_NAME))
            if self._job(job_id).cancel_requested:
                running.token.cancel()
            future = self.executor.submit(task, _ProgressWriter(self, job_id), running.token)
        except BaseException as exc:
            future = Future()
            future.set_exception(exc)
        future.add_done_callback(lambda done: self._finished(job_id, done))

    def _finished(self, job_id: str, future: Future) -> None:
        with self._lock:
            running = self._running.pop(job_id, None)
        try:
            error = future.exception()
        except CancelledError:
            error = RenderCancelled()
        now = time.time()
        try:
            with self.store.write() as db:
                row = db.execute("SELECT status, cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None or row["status"] != "rendering":
                    pass
                elif error is None:
                    self._set_terminal(db, job_id, "completed", now, result=future.result())
                elif isinstance(error, RenderCancelled) and running is not None and running.requeue:
                    db.execute("UPDATE jobs SET status = 'queued', phase = 'queued', progress = 0, eta = NULL, "
                               "attempts = MAX(attempts - 1, 0), updated_at = ? WHERE id = ?", (now, job_id))
                    self._event(db, job_id, "render.requeued", now)
                elif isinstance(error, RenderCancelled) and row["cancel_requested"]:
                    self._set_terminal(db, job_id, "cancelled", now)
                else:
                    if not isinstance(error, (ServiceError,)) and error_report(error)["code"] == "internal_error":
                        _LOG.error("render %s failed", job_id, exc_info=error)
                    self._set_terminal(db, job_id, "failed", now, error=self._public_error(job_id, error))
        except Exception:
            _LOG.exception("recording the end of %s", job_id)
        finally:
            if error is not None or (running is not None and running.requeue):
                self._clean(job_id, keep_output=False)
            else:
                self._clean(job_id)
            if running is not None:
                running.done.set()
            self._wake.set()
            self.outbox.wake()

    def _finish_test_jobs(self) -> None:
        """Jobs of test keys: checked at submission, queued, started and completed without a render."""
        rows = self.store.read().execute("SELECT id FROM jobs WHERE status = 'queued' AND test = 1 ORDER BY seq").fetchall()
        for row in rows:
            now = time.time()
            folder = self.settings.jobs_dir / row["id"]
            seconds = None
            if (folder / "job.json").is_file():
                document = loads((folder / "job.json").read_text(encoding="utf-8"))["document"]
                seconds = self.validate(document).estimated_duration
            with self.store.write() as db:
                if db.execute("UPDATE jobs SET status = 'rendering', phase = 'rendering', attempts = 1, "
                              "started_at = ?, updated_at = ? WHERE id = ? AND status = 'queued'",
                              (now, now, row["id"])).rowcount:
                    self._event(db, row["id"], "render.started", now)
                    self._set_terminal(db, row["id"], "completed", now,
                                       result={"test": True, "duration": seconds, "captions": []})
            self.outbox.wake()

    def _progress(self, job_id: str, phase: str, progress: float, eta: float | None) -> None:
        with self.store.write() as db:
            db.execute("UPDATE jobs SET phase = ?, progress = ?, eta = ?, updated_at = ? WHERE id = ? AND "
                       "status = 'rendering'", (phase, progress, eta, time.time(), job_id))

    # -- records ---------------------------------------------------------------------------------------------

    def _set_terminal(self, db, job_id: str, status: str, now: float, *, error: dict | None = None,
                      result: dict | None = None) -> None:
        assert status in TERMINAL
        db.execute("UPDATE jobs SET status = ?, phase = ?, progress = CASE WHEN ? = 'completed' THEN 100 ELSE "
                   "progress END, eta = CASE WHEN ? = 'completed' THEN 0 ELSE NULL END, error = ?, result = ?, "
                   "finished_at = ?, updated_at = ? WHERE id = ?",
                   (status, status, status, status, dumps(error) if error else None,
                    dumps(result) if result is not None else None, now, now, job_id))
        self._event(db, job_id, f"render.{status}", now)

    def _event(self, db, job_id: str, kind: str, now: float) -> None:
        """Record an event with the job as it now is; a webhook delivery for it, in the same transaction."""
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        event_id = new_id("evt")
        db.execute("INSERT INTO job_events (id, job_id, type, created_at, data) VALUES (?, ?, ?, ?, ?)",
                   (event_id, job_id, kind, now, dumps(self.event_data(Job.from_row(row)))))
        if row["webhook_url"] and kind in V1_EVENTS:
            db.execute("INSERT INTO webhook_deliveries (event_id, job_id, state, next_attempt_at, created_at) "
                       "VALUES (?, ?, 'pending', ?, ?)", (event_id, job_id, now, now))

    def _clean(self, job_id: str, *, keep_output: bool = True) -> None:
        """Remove what a render in progress leaves: its work folder, partial outputs (all outputs unless kept)."""
        folder = self.settings.jobs_dir / job_id
        shutil.rmtree(folder / "work", ignore_errors=True)
        output = folder / "output"
        if output.is_dir():
            for path in output.iterdir():
                if not keep_output or path.name.startswith("."):
                    path.unlink(missing_ok=True)

    def _public_error(self, job_id: str, error: BaseException) -> dict[str, Any]:
        report = dict(getattr(error, "report", None) or error_report(error))  # a TaskFailed carries its own
        report.pop("exitCode", None)
        report["message"] = self.public_text(report["message"], job_id)
        return report

    def public_text(self, text: str, job_id: str | None = None) -> str:
        """A message without server paths: the job's own files by their names, any other path by its last part."""
        folders = []
        if job_id is not None:
            folders += [self.settings.jobs_dir / job_id / "uploads", self.settings.jobs_dir / job_id]
        folders += [self.settings.data]
        if self.settings.media_root is not None:
            folders.insert(0, self.settings.media_root)
        for folder in folders:
            for spelling in {str(folder), str(Path(folder).resolve())}:
                text = text.replace(spelling + "/", "").replace(spelling, "(folder)")
        return _ABSOLUTE_PATH.sub(lambda match: match.group(1) or "(folder)", text)


class _ProgressWriter:
    """The renderer's progress into the job's row: on every phase change, else at most twice a second."""

    def __init__(self, engine: Engine, job_id: str):
        self.engine = engine
        self.job_id = job_id
        self.phase = "preparing_assets"
        self.last = 0.0
        self.lock = threading.Lock()

    def __call__(self, progress: Progress) -> None:
        with self.lock:
            phase = phase_of(progress.stage, self.phase)
            now = time.monotonic()
            if phase == self.phase and now - self.last < PROGRESS_WRITE_SECONDS:
                return
            self.phase, self.last = phase, now
        try:
            self.engine._progress(self.job_id, phase, min(progress.fraction * 100, 99.0), progress.eta_seconds)
        except Exception:
            _LOG.exception("progress of %s", self.job_id)


def _problem(problem: Problem) -> dict[str, str]:
    return {"path": problem.path, "message": problem.message}


def _invalid(path: str, message: str, code: str = "invalid_request") -> Invalid:
    return Invalid(f"{path}: {message}", code=code, details={"errors": [{"path": path, "message": message}]})


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise _invalid("metadata", "must be an object of at most 20 keys")
    if len(metadata) > MAX_METADATA_KEYS:
        raise _invalid("metadata", f"has {len(metadata)} keys; at most {MAX_METADATA_KEYS}")
    for name, value in metadata.items():
        if not 1 <= len(name) <= 40:
            raise _invalid(f"metadata.{name[:40]}", "keys are 1 to 40 characters")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise _invalid(f"metadata.{name}", "values are strings, numbers, booleans or null")
        if isinstance(value, str) and len(value) > 500:
            raise _invalid(f"metadata.{name}", "values are at most 500 characters")

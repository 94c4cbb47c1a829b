"""TokCaption's public API under `/compat/tokcaption/api/v1`: transcription jobs of 1..N media URLs (fetched under
the service's URL rules) or uploaded files, answered inline (200, terminal) when a single item is short enough to
finish within the request, else 202 with `job_id` and per-item `items`; polling with `completed`, `failed` and a
`partial` status for mixed results; the creator's own subtitle track preferred over recognition."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reelforge.service import Engine
from reelforge.service.errors import Invalid
from reelforge.service.jobs import Job
from reelforge.service.keys import ApiKey
from reelforge.service.tasks import ITEM_TERMINAL, read_item
from reelforge.service.webhooks import register_format
from reelforge_api import errors
from reelforge_api.bodies import media_type, parse_json, read_json, read_multipart, unsupported
from reelforge_api.compat.common import checked
from reelforge_api.deps import api_key, get_engine, submitting_key

API = "tokcaption"
PREFIX = "/compat/tokcaption"
MAX_ITEMS = 20
INLINE_WAIT_SECONDS = 120.0  # the most a single short item is waited for within its request
CODES = {"missing_api_key": "UNAUTHORIZED", "invalid_api_key": "UNAUTHORIZED", "rate_limited": "RATE_LIMIT_EXCEEDED",
         "render_not_found": "JOB_NOT_FOUND", "not_found": "NOT_FOUND", "too_many_active_jobs": "CONCURRENCY_LIMIT",
         "idempotency_key_reused": "IDEMPOTENCY_KEY_REUSED", "body_too_large": "PAYLOAD_TOO_LARGE",
         "file_too_large": "PAYLOAD_TOO_LARGE", "unsupported_file_type": "UNSUPPORTED_MEDIA_TYPE",
         "unsupported_content_type": "UNSUPPORTED_MEDIA_TYPE", "malformed_json": "INVALID_REQUEST",
         "invalid_request": "INVALID_REQUEST"}


class SubmitBody(BaseModel):
    urls: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    output_language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    also_translate_to: list[str] = Field(default_factory=list, max_length=10)
    include_download_assets: bool = False
    idempotency_key: str | None = Field(default=None, max_length=255)


def error_envelope(request: Request, status: int, code: str, message: str, details: dict[str, Any],
                   headers: dict[str, str] | None) -> JSONResponse:
    """`{"error": {"code", "message", "details"}}` with upper-case codes; a rate limit also carries
    `retry_after_seconds` (in the error and in its details)."""
    if status == 422:
        status = 400
    error: dict[str, Any] = {"code": CODES.get(code, code.upper()), "message": message,
                             "details": {k: v for k, v in details.items() if k != "retryAfterSeconds"},
                             "request_id": errors.request_id(request)}
    if "retryAfterSeconds" in details:
        error["retry_after_seconds"] = details["retryAfterSeconds"]
        error["details"]["retry_after_seconds"] = details["retryAfterSeconds"]
    return JSONResponse({"error": error}, status_code=status, headers=headers)


register_format(API, lambda event, secret, attempt, now: None)  # TokCaption documents no webhooks


# -- the job's wire form -----------------------------------------------------------------------------------------

def _item_id(job_id: str, index: int) -> str:
    return f"tx_{job_id.split('_', 1)[-1]}_{index}"


def _transcript_id(job_id: str, index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"reelforge:{job_id}:{index}"))


def item_body(engine: Engine, job: Job, index: int, item: dict[str, Any]) -> dict[str, Any]:
    state = read_item(engine.job_folder(job), index) or {}
    status = state.get("status") or ("queued" if not job.terminal else "failed")
    if job.test and job.status == "completed":
        state = {"status": "completed", "selected_track_type": "asr", "transcript_text": "",
                 "source_language": job.extra.get("language"), "output_language": job.extra.get("language")}
        status = "completed"
    body: dict[str, Any] = {"id": _item_id(job.id, index), "transcript_id": _transcript_id(job.id, index),
                            "item_index": index, "input_url": item.get("url"), "status": status}
    if "upload" in item:
        body["input_file"] = item["upload"]
    if status == "failed" and "error_code" not in state:
        state = {**state, "error_code": "TRANSCRIPTION_FAILED" if job.status != "cancelled" else "CANCELLED",
                 "error_message": (job.error or {}).get("message") or "the job was stopped"}
    for name in ("output_language", "source_language", "selected_track_type", "transcript_text", "completed_at",
                 "error_code", "error_message"):
        if state.get(name) is not None:
            body[name] = state[name]
    if status == "completed":
        body["metadata"] = {"author_username": None, "duration_seconds": state.get("duration_seconds")}
        if job.extra.get("include_download_assets"):
            body["segments"] = state.get("segments", [])
        languages = job.extra.get("also_translate_to") or []
        if languages:
            body["translations"] = [{"language": language, "status": "failed", "error_code": "TRANSLATION_NOT_AVAILABLE",
                                     "error_message": "translation is not available offline: this server transcribes "
                                                      "only"} for language in languages]
    return body


def job_body(engine: Engine, job: Job) -> dict[str, Any]:
    items = [item_body(engine, job, index, item) for index, item in enumerate(job.extra.get("items", []))]
    statuses = [item["status"] for item in items]
    completed, failed = statuses.count("completed"), statuses.count("failed")
    if completed + failed < len(items):
        status = "queued" if all(s == "queued" for s in statuses) else "processing"
    elif failed == 0:
        status = "completed"
    elif completed == 0:
        status = "failed"
    else:
        status = "partial"
    return {"job_id": job.id, "status": status, "total_items": len(items), "completed": completed, "failed": failed,
            "items": items, "created_at": _iso(job.created_at)}


def _iso(stamp: float | None) -> str | None:
    from reelforge.service.jobs import iso

    return iso(stamp)


# -- routes ------------------------------------------------------------------------------------------------------

router = APIRouter(prefix=PREFIX + "/api/v1", tags=["compat: TokCaption"])


@router.post("/jobs", summary="Submit 1..N media URLs (or files) for transcription")
async def submit(request: Request, key: ApiKey = Depends(submitting_key),
                 engine: Engine = Depends(get_engine)) -> JSONResponse:
    """JSON `{urls, output_language, also_translate_to, include_download_assets, idempotency_key}`, or multipart with
    a `request` part (that JSON) and `files` parts. One item of media up to 60 s is answered inline (200)."""
    kind = media_type(request)
    draft = await run_in_threadpool(engine.open_draft, "tcj")
    try:
        if kind == "application/json" or kind.endswith("+json"):
            data, digest = await read_json(request, engine.settings.max_json_bytes)
        elif kind == "multipart/form-data":
            texts, digest = await read_multipart(request, draft, text_limit=engine.settings.max_json_bytes,
                                                 total_limit=engine.settings.max_job_bytes + 65536,
                                                 text_parts=("request",), file_parts=("files",))
            data = parse_json(texts["request"].encode(), "`request` part") if "request" in texts else {}
        else:
            raise unsupported(kind, "application/json or multipart/form-data")
        body = checked(SubmitBody, data, details=lambda path, error: {"field": path})
        items: list[dict[str, Any]] = []
        for index, url in enumerate(body.urls):
            if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).hostname:
                raise Invalid(f"urls[{index}]: must be an http or https link to a media file", code="INVALID_URL",
                              details={"field": f"urls[{index}]"})
            items.append({"url": url, "index": index})
        items += [{"upload": name} for name in draft.files]
        if not items:
            raise Invalid("send at least one URL in `urls` (or a file)", code="invalid_request", details={"field": "urls"})
        if len(items) > MAX_ITEMS:
            raise Invalid(f"a job holds at most {MAX_ITEMS} items", code="BATCH_TOO_LARGE", details={"limit": MAX_ITEMS})
        if body.idempotency_key is not None:
            replay = await run_in_threadpool(engine.idempotency.begin, key.id, f"tokcaption:{body.idempotency_key}",
                                             digest)
            if replay is not None:
                draft.discard()
                job = engine.get(key, replay[1]["job_id"])
                answer = job_body(engine, job)
                return JSONResponse(answer, status_code=200 if answer["status"] in ("completed", "failed") else 202)
    except BaseException:
        draft.discard()
        raise
    extra = {"items": items, "language": body.output_language, "also_translate_to": body.also_translate_to,
             "include_download_assets": body.include_download_assets}
    job = await run_in_threadpool(engine.submit_task, key, draft, "transcribe",
                                  {"items": items, "language": body.output_language}, api=API, extra=extra)
    if body.idempotency_key is not None:
        await run_in_threadpool(engine.idempotency.finish, key.id, f"tokcaption:{body.idempotency_key}", 202,
                                {"job_id": job.id})
    if len(items) == 1:
        job = await _inline(engine, key, job)
    answer = job_body(engine, job)
    return JSONResponse(answer, status_code=200 if answer["status"] in ("completed", "failed") else 202)


async def _inline(engine: Engine, key: ApiKey, job: Job) -> Job:
    """Wait for a single item while it may finish within the request: until the job ends, its media turns out
    longer than the inline limit, or INLINE_WAIT_SECONDS pass."""
    limit = engine.settings.inline_transcribe_seconds
    if limit <= 0 or engine.settings.workers == 0:  # nothing would run it while we wait
        return job
    deadline = time.monotonic() + INLINE_WAIT_SECONDS
    folder = engine.job_folder(job)
    while time.monotonic() < deadline:
        job = engine.get(key, job.id)
        if job.terminal:
            return job
        state = read_item(folder, 0) or {}
        if state.get("status") not in ITEM_TERMINAL and (state.get("duration_seconds") or 0) > limit:
            return job
        await asyncio.sleep(0.1)
    return job


@router.get("/jobs/{job_id}", summary="Poll a transcription job")
async def get_job(job_id: str, key: ApiKey = Depends(api_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    job = engine.get(key, job_id)
    return JSONResponse(job_body(engine, job))


def install(app) -> None:
    errors.register_envelope(PREFIX + "/", error_envelope)
    app.include_router(router)

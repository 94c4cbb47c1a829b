"""vidgen under `/compat/vidgen`: one image and one audio file become a video (the image with a slow camera move,
the audio as narration, captions from speech recognition). Multipart submit, a cursor-paginated list, status with
progress, cancel while PENDING, one active job per key, per-IP rate limits with `RateLimit-*` headers, and
webhooks signed `X-Webhook-Signature: <hex HMAC-SHA256 of the body>` with the account's webhook secret."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from reelforge.service import Engine
from reelforge.service.errors import Conflict, Invalid, RateLimited, UnsupportedMedia
from reelforge.service.jobs import Job
from reelforge.service.keys import ApiKey
from reelforge.service.limits import RateLimiter
from reelforge.service.webhooks import Event, register_format
from reelforge_api import errors
from reelforge_api.bodies import media_type, read_multipart
from reelforge_api.compat.common import base_url
from reelforge_api.deps import api_key, get_engine

API = "vidgen"
PREFIX = "/compat/vidgen"
STATUS = {"queued": "PENDING", "rendering": "PROCESSING", "completed": "COMPLETED", "failed": "FAILED",
          "cancelled": "CANCELLED"}
ENGINE_STATUS = {value: key for key, value in STATUS.items()}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
AUDIO_TYPES = {"audio/mpeg": "mp3", "audio/wav": "wav", "audio/mp4": "m4a", "audio/ogg": "ogg"}
MOTION_AMOUNT = 0.08


# -- wire models -------------------------------------------------------------------------------------------------

class Created(BaseModel):
    message: str
    jobId: str


class JobStatus(BaseModel):
    jobId: str
    status: Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]
    progress: int
    outputVideo: str | None
    outputShareLink: str | None
    errorMessage: str | None
    createdAt: str
    updatedAt: str


class ListedJob(BaseModel):
    id: str
    status: Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]
    outputVideo: str | None
    outputShareLink: str | None
    errorMessage: str | None
    retries: int
    createdAt: str
    updatedAt: str
    webhookUrl: str | None


class Pagination(BaseModel):
    limit: int
    nextCursor: str | None
    hasNextPage: bool


class JobList(BaseModel):
    jobs: list[ListedJob]
    pagination: Pagination


class Cancelled(BaseModel):
    success: bool
    message: str


class ErrorBody(BaseModel):
    error: str
    code: str
    requestId: str | None


ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 404, 409, 413, 415, 429)}


# -- wire forms --------------------------------------------------------------------------------------------------

def status_body(data: dict[str, Any]) -> dict[str, Any]:
    """An engine job dict as GET /api/status/:jobId answers it (and as the webhook carries it)."""
    result = data.get("result") or {}
    status = STATUS[data["status"]]
    return {"jobId": data["id"], "status": status, "progress": int(data["progress"]),
            "outputVideo": result.get("downloadUrl") if status == "COMPLETED" else None,
            "outputShareLink": result.get("shareUrl") if status == "COMPLETED" else None,
            "errorMessage": (data.get("error") or {}).get("message"), "createdAt": data["createdAt"],
            "updatedAt": data["updatedAt"]}


def listed_body(data: dict[str, Any]) -> dict[str, Any]:
    body = status_body(data)
    return {"id": body["jobId"], "status": body["status"], "outputVideo": body["outputVideo"],
            "outputShareLink": body["outputShareLink"], "errorMessage": body["errorMessage"],
            "retries": max(int(data.get("attempts") or 0) - 1, 0), "createdAt": body["createdAt"],
            "updatedAt": body["updatedAt"], "webhookUrl": (data.get("webhook") or {}).get("url")}


def vidgen_webhook(event: Event, secret: str, attempt: int, now: float) -> tuple[bytes, dict[str, str]] | None:
    """When the job completes or fails: the status body, `X-Webhook-Signature` = hex HMAC-SHA256 of the body."""
    if event.type not in ("render.completed", "render.failed"):
        return None
    body = json.dumps(status_body(event.data), separators=(",", ":")).encode("utf-8")
    signature = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Webhook-Signature": signature,
                  "X-Webhook-Event": "job." + event.type.split(".")[1], "X-Webhook-Id": event.id}


register_format(API, vidgen_webhook)


def webhook_secret(engine: Engine, key: ApiKey) -> str:
    """The account's webhook secret: derived from the server's secret and the key's id (stable across rotations)."""
    return "whsec_" + engine.derived_secret(f"vidgen-webhook:{key.id}")[:40]


def error_envelope(request: Request, status: int, code: str, message: str, details: dict[str, Any],
                   headers: dict[str, str] | None) -> JSONResponse:
    """vidgen's errors: `{"error": "<what is wrong>", "code", "requestId"}`; invalid requests are 400."""
    if status == 422:
        status = 400
    body = {"error": message, "code": code, "requestId": errors.request_id(request)}
    if "retryAfterSeconds" in details:
        body["retryAfterSeconds"] = details["retryAfterSeconds"]
    return JSONResponse(body, status_code=status, headers=headers)


# -- per-IP limits -----------------------------------------------------------------------------------------------

def _limiters(request: Request) -> tuple[RateLimiter, RateLimiter]:
    state = request.app.state
    if not hasattr(state, "vidgen_limits"):
        settings = state.engine.settings
        state.vidgen_limits = (RateLimiter(settings.requests_per_minute), RateLimiter(settings.submissions_per_minute))
    return state.vidgen_limits


def _limit(request: Request, limiter: RateLimiter, what: str) -> None:
    client = request.client.host if request.client else "unknown"
    decision = limiter.hit(client)
    request.state.vidgen_ip_headers = decision.headers()
    request.scope["reelforge"]["headers"].update(decision.headers())
    if not decision.allowed:
        error = RateLimited(f"rate limit exceeded: at most {decision.limit} {what} a minute from one address; "
                            f"try again in {decision.reset_seconds} s", decision.reset_seconds,
                            code="rate_limited", details={"limit": decision.limit})
        error.headers = decision.headers()
        raise error


async def per_ip(request: Request) -> None:
    """600 requests a minute per address on /api/* (the key's own limit applies too)."""
    _limit(request, _limiters(request)[0], "requests")


async def per_ip_submission(request: Request) -> None:
    """And 30 submissions a minute per address on POST /api/jobs."""
    _limit(request, _limiters(request)[1], "submissions")


async def vidgen_key(request: Request, _ip: None = Depends(per_ip), engine: Engine = Depends(get_engine)) -> ApiKey:
    key = await api_key(request, engine)
    request.scope["reelforge"]["headers"].update(request.state.vidgen_ip_headers)  # the address's limit is shown
    return key


router = APIRouter(prefix=PREFIX, tags=["compat: vidgen"])


@router.get("/health", summary="Liveness probe (no key)")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _document(engine: Engine, draft, image: str, audio: str) -> dict[str, Any]:
    from PIL import Image

    with Image.open(draft.uploads / image) as picture:
        width, height = picture.size
    aspect = "9:16" if height > width * 1.05 else "16:9" if width > height * 1.05 else "1:1"
    return {"version": "1", "name": "vidgen", "output": {"aspectRatio": aspect},
            "scenes": [{"id": "main", "narration": {"audio": {"uploadName": audio}}, "padding": 0,
                        "visual": {"type": "image", "source": {"uploadName": image}, "motion": "zoom_in",
                                   "motionAmount": MOTION_AMOUNT}}]}


@router.post("/api/jobs", status_code=201, summary="Submit a job", responses={201: {"model": Created}, **ERRORS},
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["image", "audio"], "properties": {
                     "image": {"type": "string", "format": "binary"}, "audio": {"type": "string", "format": "binary"},
                     "webhookUrl": {"type": "string"}}}}}}})
async def submit(request: Request, key: ApiKey = Depends(vidgen_key), _ip: None = Depends(per_ip_submission),
                 engine: Engine = Depends(get_engine)) -> JSONResponse:
    """`image` (jpeg, png or webp) and `audio` (mp3, wav, m4a or ogg), each at most 50 MB, and an optional
    https `webhookUrl`. One active job per key."""
    engine.admit(key, "submission")  # the key's own submission limit, besides the address's
    kind = media_type(request)
    if kind != "multipart/form-data":
        raise Invalid(f"send multipart/form-data with `image` and `audio` files, not {kind or 'no body'}",
                      code="bad_request")
    await run_in_threadpool(_check_active, engine, key)
    draft = await run_in_threadpool(engine.open_draft, "cl")
    try:
        texts, _ = await read_multipart(request, draft, text_limit=4096, total_limit=2 * engine.settings.max_upload_bytes
                                        + 65536, text_parts=("webhookUrl",), file_parts=("image", "audio"))
        image, audio = _files(draft)
        webhook = _webhook(engine, key, texts.get("webhookUrl", "").strip())
        document = await run_in_threadpool(_document, engine, draft, image, audio)
    except BaseException:
        draft.discard()
        raise
    job = await run_in_threadpool(engine.submit, key, draft, document, webhook=webhook, api=API, active_limit=1)
    return JSONResponse({"message": "Job created", "jobId": job.id}, status_code=201)


def _check_active(engine: Engine, key: ApiKey) -> None:
    jobs, _ = engine.list(key, limit=1, status="queued")
    running, _ = engine.list(key, limit=1, status="rendering")
    if jobs or running:
        raise Conflict("you already have an active job (PENDING or PROCESSING): wait for it to finish or cancel it",
                       code="active_job_exists")


def _files(draft) -> tuple[str, str]:
    """The uploaded image and audio (the multipart reader saved each part under its filename)."""
    images = [name for name, kind in draft.files.items() if kind in IMAGE_TYPES]
    audios = [name for name, kind in draft.files.items() if kind in AUDIO_TYPES]
    others = [name for name, kind in draft.files.items() if kind not in IMAGE_TYPES and kind not in AUDIO_TYPES]
    if others:
        raise UnsupportedMedia(f"{others[0]!r} is {draft.files[others[0]]}: the image must be jpeg, png or webp and "
                               "the audio mp3, wav, m4a or ogg", code="unsupported_media_type")
    if len(images) != 1 or len(audios) != 1:
        missing = "image" if len(images) != 1 else "audio"
        raise Invalid(f"send exactly one `image` file (jpeg, png, webp) and one `audio` file (mp3, wav, m4a, ogg); "
                      f"the {missing} is missing or doubled", code="bad_request")
    return images[0], audios[0]


def _webhook(engine: Engine, key: ApiKey, url: str) -> dict[str, str] | None:
    if not url:
        return None
    from reelforge.resolve.fetch import host_is_listed

    parts = urlsplit(url)
    allowed = parts.scheme == "http" and host_is_listed(parts.hostname or "", engine.settings.webhook_rules())
    if parts.scheme != "https" and not allowed:
        raise Invalid("webhookUrl must start with https://", code="invalid_webhook_url")
    return {"url": url, "secret": webhook_secret(engine, key)}


@router.get("/api/jobs", summary="List jobs", response_model=JobList, responses=ERRORS)
async def list_jobs(request: Request, limit: int = Query(20, ge=1, le=100), cursor: str | None = None,
                    status: Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"] | None = None,
                    key: ApiKey = Depends(vidgen_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """Newest first; `nextCursor` of one page is the `cursor` of the next."""
    jobs, more = engine.list(key, limit=limit, cursor=cursor, status=ENGINE_STATUS.get(status) if status else None,
                             api=API)
    base = base_url(request, engine)
    return JSONResponse({"jobs": [listed_body(engine.job_dict(job, base)) for job in jobs],
                         "pagination": {"limit": limit, "nextCursor": jobs[-1].id if more and jobs else None,
                                        "hasNextPage": more}})


@router.get("/api/status/{job_id}", summary="A job's status", response_model=JobStatus, responses=ERRORS)
async def job_status(job_id: str, request: Request, key: ApiKey = Depends(vidgen_key),
                     engine: Engine = Depends(get_engine)) -> JSONResponse:
    return JSONResponse(status_body(engine.job_dict(_job(engine, key, job_id), base_url(request, engine))))


def _job(engine: Engine, key: ApiKey, job_id: str) -> Job:
    return engine.get(key, job_id)


async def _cancel(job_id: str, key: ApiKey, engine: Engine) -> JSONResponse:
    await run_in_threadpool(engine.cancel, key, job_id, queued_only=True)
    return JSONResponse({"success": True, "message": "Job cancelled successfully"})


@router.post("/api/jobs/{job_id}/cancel", summary="Cancel a PENDING job", response_model=Cancelled, responses=ERRORS)
async def cancel_job(job_id: str, key: ApiKey = Depends(vidgen_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """Only while PENDING (409 once a worker has picked it up)."""
    return await _cancel(job_id, key, engine)


@router.delete("/api/jobs/{job_id}", summary="Cancel a PENDING job (same as POST …/cancel)", response_model=Cancelled,
               responses=ERRORS)
async def delete_job(job_id: str, key: ApiKey = Depends(vidgen_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    return await _cancel(job_id, key, engine)


@router.get("/api/webhook-secret", summary="The account's webhook secret (reelforge addition)")
async def get_webhook_secret(key: ApiKey = Depends(vidgen_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """What signs this key's webhooks (vidgen shows it in its dashboard; here it is this route)."""
    return JSONResponse({"webhookSecret": webhook_secret(engine, key)})


def install(app) -> None:
    errors.register_envelope(PREFIX + "/", error_envelope)
    app.include_router(router)

"""AVS (Agentic Video Studio) Public Video API v1 under `/compat/avs`: from-json and from-prompt jobs (JSON, or
multipart with a `request` JSON part and repeated `files` parts), job polling with AVS's phases, and signed
terminal webhooks (`X-AVS-Event`, `X-AVS-Timestamp`, `X-AVS-Signature: sha256=<hex>`, 3 retries)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from reelforge.service import Engine
from reelforge.service.jobs import Job
from reelforge.service.keys import ApiKey
from reelforge.service.webhooks import Event, register_format, sign
from reelforge_api.bodies import media_type, parse_json, read_json, read_multipart, unsupported
from reelforge_api.compat.common import base_url, checked, field_error, write_script
from reelforge_api.deps import api_key, get_engine, submitting_key

API = "avs"
PREFIX = "/compat/avs"
router = APIRouter(prefix=PREFIX, tags=["compat: AVS"])
WEBHOOK_RETRIES = 3
PHASE = {"queued": "queued", "preparing_assets": "preparing_assets", "narrating": "generating",
         "rendering": "rendering", "muxing": "rendering", "completed": "completed", "failed": "failed",
         "cancelled": "failed"}
STATUS = {"queued": "queued", "rendering": "running", "completed": "completed", "failed": "failed",
          "cancelled": "failed"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv"}
AUDIO_SUFFIXES = {".mp3", ".wav", ".m4a", ".aac", ".ogg", ".flac"}


# -- wire models ------------------------------------------------------------------------------------------------

class AvsError(BaseModel):
    code: str
    message: str
    path: str | None = None


class AvsResult(BaseModel):
    downloadUrl: str = Field(description="Signed MP4 link; works without a token until expiresAt.")
    expiresAt: str
    shareUrl: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None


class AvsJob(BaseModel):
    jobId: str
    mode: Literal["prompt", "json"]
    status: Literal["queued", "running", "completed", "failed"]
    phase: Literal["queued", "preparing_assets", "generating", "rendering", "completed", "failed"]
    createdAt: str
    updatedAt: str
    error: AvsError | None
    result: AvsResult | None


class AvsWebhook(BaseModel):
    url: str
    secret: str


class AvsOutput(BaseModel):
    aspectRatio: Literal["16:9", "9:16", "1:1", "4:5"] | None = None
    quality: Literal["draft", "web", "studio"] | None = None


class FromPrompt(BaseModel):
    prompt: str
    assetUrls: list[str] = []
    output: AvsOutput | None = None
    webhook: AvsWebhook | None = None


class FromJson(BaseModel):
    template: dict[str, Any]
    output: AvsOutput | None = None
    webhook: AvsWebhook | None = None


BODY_DOC = {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["request"], "properties": {
        "request": {"type": "string", "description": "The JSON payload as text."},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "Job-scoped uploads; a template names each by its filename (source.uploadName)."}}}}}}


# -- the job's wire form -----------------------------------------------------------------------------------------

def job_body(data: dict[str, Any], mode: str) -> dict[str, Any]:
    """An engine job dict (as GET /v1/renders answers and events carry) in AVS's shape."""
    status = data["status"]
    error = data.get("error")
    if status == "cancelled":
        error = {"code": "cancelled", "message": "the job was cancelled", "path": None}
    result = None
    done = data.get("result") or {}
    if status == "completed" and done.get("downloadUrl"):  # a test key's job renders nothing: no result
        result = {"downloadUrl": done.get("downloadUrl"), "expiresAt": done.get("expiresAt"),
                  "shareUrl": done.get("shareUrl"), "duration": done.get("duration"), "width": done.get("width"),
                  "height": done.get("height")}
    return {"jobId": data["id"], "mode": mode, "status": STATUS[status], "phase": PHASE.get(data["phase"], "queued"),
            "createdAt": data["createdAt"], "updatedAt": data["updatedAt"],
            "error": {"code": error.get("code"), "message": error.get("message"), "path": error.get("path")}
            if error else None, "result": result}


def _answer(request: Request, engine: Engine, job: Job) -> dict[str, Any]:
    data = engine.job_dict(job, base_url(request, engine))
    return job_body(data, job.extra.get("mode", "json"))


def avs_webhook(event: Event, secret: str, attempt: int, now: float) -> tuple[bytes, dict[str, str]] | None:
    """Terminal events only: `{event, eventId, timestamp, attempt, job}` signed over the raw body."""
    kinds = {"render.completed": "job.completed", "render.failed": "job.failed", "render.cancelled": "job.failed"}
    if event.type not in kinds:
        return None
    timestamp = int(now)
    job = job_body(event.data, (event.data.get("extra") or {}).get("mode", "json"))
    body = json.dumps({"event": kinds[event.type], "eventId": event.id, "timestamp": timestamp, "attempt": attempt,
                       "job": job}, separators=(",", ":")).encode("utf-8")
    return body, {"Content-Type": "application/json", "X-AVS-Event": kinds[event.type],
                  "X-AVS-Timestamp": str(timestamp), "X-AVS-Signature": sign(secret, body),
                  "X-AVS-Event-Id": event.id}


register_format(API, avs_webhook, retries=WEBHOOK_RETRIES)


# -- reading a request -------------------------------------------------------------------------------------------

async def _payload(request: Request, engine: Engine, draft) -> tuple[dict[str, Any], str]:
    kind = media_type(request)
    settings = engine.settings
    if kind == "application/json" or kind.endswith("+json"):
        data, digest = await read_json(request, settings.max_json_bytes)
    elif kind == "multipart/form-data":
        texts, digest = await read_multipart(request, draft, text_limit=settings.max_json_bytes,
                                             total_limit=settings.max_job_bytes + 2 * settings.max_json_bytes,
                                             text_parts=("request",), file_parts=("files",))
        if "request" not in texts:
            raise field_error("request", "the multipart body needs a `request` part (the JSON payload as text)")
        data = parse_json(texts["request"].encode("utf-8"), "`request` part")
    else:
        raise unsupported(kind, "application/json or multipart/form-data")
    if not isinstance(data, dict):
        raise field_error("(body)", "must be a JSON object")
    return data, digest


def _all_errors(path: str, error) -> dict[str, Any]:
    """AVS's details: every problem of the body, each with its path."""
    return {"errors": [{"path": ".".join(map(str, e.get("loc", ()))), "message": e.get("msg")} for e in error.errors()]}


def _webhook(body) -> dict[str, str] | None:
    return {"url": body.webhook.url, "secret": body.webhook.secret} if body.webhook else None


async def _submit(request: Request, engine: Engine, key: ApiKey, draft, document: dict[str, Any], body,
                  mode: str) -> JSONResponse:
    job = await run_in_threadpool(engine.submit, key, draft, document, webhook=_webhook(body), api=API,
                                  extra={"mode": mode})
    return JSONResponse(_answer(request, engine, job), status_code=202)


# -- routes ------------------------------------------------------------------------------------------------------

@router.post("/api/v1/videos/from-json", status_code=202, summary="Create from JSON (Template JSON v1)",
             responses={202: {"model": AvsJob}}, openapi_extra={"requestBody": BODY_DOC})
async def from_json(request: Request, key: ApiKey = Depends(submitting_key),
                    engine: Engine = Depends(get_engine)) -> JSONResponse:
    """Render an AVS Template JSON v1 (`template` + `output`; media by `source.url` or `source.uploadName`)."""
    draft = await run_in_threadpool(engine.open_draft, "job")
    try:
        data, _ = await _payload(request, engine, draft)
        body = checked(FromJson, data, details=_all_errors)
        document = {"template": data["template"]}
        if data.get("output") is not None:
            document["output"] = data["output"]
    except BaseException:
        draft.discard()
        raise
    return await _submit(request, engine, key, draft, document, body, "json")


@router.post("/api/v1/videos/from-prompt", status_code=202, summary="Create from a prompt",
             responses={202: {"model": AvsJob}}, openapi_extra={"requestBody": BODY_DOC})
async def from_prompt(request: Request, key: ApiKey = Depends(submitting_key),
                      engine: Engine = Depends(get_engine)) -> JSONResponse:
    """The operator's script writer makes the scenes from `prompt`; `assetUrls` and uploaded `files` become the
    scenes' pictures and clips in order (an audio asset becomes the background music)."""
    from reelforge.editing.script_writer import Brief

    draft = await run_in_threadpool(engine.open_draft, "job")
    try:
        data, _ = await _payload(request, engine, draft)
        body = checked(FromPrompt, data, details=_all_errors)
        output = body.output or AvsOutput()
        script = await write_script(engine, body.prompt, Brief(aspect_ratio=output.aspectRatio or "16:9"))
        document = with_assets(script.document.to_json_dict(), body.assetUrls, draft.files)
        if output.quality:
            document["output"]["quality"] = output.quality
    except BaseException:
        draft.discard()
        raise
    return await _submit(request, engine, key, draft, document, body, "prompt")


def with_assets(document: dict[str, Any], urls: list[str], uploads: dict[str, str]) -> dict[str, Any]:
    """The scenes show the assets in turn (pictures with a slow camera move, clips muted and looped); an audio
    asset is the music."""
    sources: list[tuple[str, dict[str, str]]] = []
    for index, url in enumerate(urls):
        if not isinstance(url, str) or urlsplit(url).scheme.lower() not in ("http", "https"):
            raise field_error(f"assetUrls[{index}]", "must be an http(s) URL")
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
        kind = "video" if suffix in VIDEO_SUFFIXES else "audio" if suffix in AUDIO_SUFFIXES else "image"
        sources.append((kind, {"url": url}))
    for name, media in uploads.items():
        sources.append((media.split("/")[0], {"uploadName": name}))
    visuals = [(kind, source) for kind, source in sources if kind in ("image", "video")]
    for kind, source in sources:
        if kind == "audio":
            document["music"] = {"source": source, "volume": 0.3}
            break
    for index, scene in enumerate(document.get("scenes", [])):
        if not visuals:
            break
        kind, source = visuals[index % len(visuals)]
        scene["visual"] = ({"type": "image", "source": source, "motion": "zoom_in", "motionAmount": 0.08}
                           if kind == "image" else {"type": "video", "source": source})
        scene.pop("overlays", None)
    return document


@router.get("/api/v1/jobs/{job_id}", summary="Poll a job", response_model=AvsJob)
async def get_job(job_id: str, request: Request, key: ApiKey = Depends(api_key),
                  engine: Engine = Depends(get_engine)) -> JSONResponse:
    return JSONResponse(_answer(request, engine, engine.get(key, job_id)))


@router.post("/api/v1/jobs/{job_id}/cancel", summary="Cancel a job (reelforge addition)", response_model=AvsJob)
async def cancel_job(job_id: str, request: Request, key: ApiKey = Depends(api_key),
                     engine: Engine = Depends(get_engine)) -> JSONResponse:
    """Not in AVS's document: stops a queued or running job; it ends `failed` with error code `cancelled`."""
    job = await run_in_threadpool(engine.cancel, key, job_id)
    return JSONResponse(_answer(request, engine, job))


def install(app) -> None:
    app.include_router(router)

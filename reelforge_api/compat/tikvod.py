"""TikVod's REST API (version 2026-03-15) under `/compat/tikvod/v1`: videos from an idea (create, list, get, cancel
while queued, signed download links), script previews, the catalogs of voices, styles and caption styles that
reelforge can make (each saying how), credits as a per-key quota the operator sets, `{error: {code, message,
request_id}}`, `X-RateLimit-*` headers, test keys, and webhooks signed `TikVod-Signature` with five retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from reelforge.service import Engine
from reelforge.service.errors import Conflict, Invalid, NotFound, PaymentRequired, ServiceError
from reelforge.service.jobs import Job
from reelforge.service.keys import ApiKey
from reelforge.service.webhooks import Event, register_format
from reelforge_api import errors
from reelforge_api.compat.common import base_url, checked, iso, json_body, write_script, x_ratelimit_headers
from reelforge_api.deps import api_key, get_engine

API = "tikvod"
PREFIX = "/compat/tikvod"
WEBHOOK_RETRIES = 5
STATUS = {"queued": "queued", "rendering": "processing", "completed": "completed", "failed": "failed",
          "cancelled": "cancelled"}
ENGINE_STATUS = {value: key for key, value in STATUS.items()}
BUNDLED_VOICE = "en_US-joe-medium"
# TikVod's documented voice ids, made by the offline voice (reelforge has no other built in): a client's
# requests naming them work, and GET /voices says which voice and speed speaks each.
VOICE_ALIASES = {
    "aria_us": ("Aria (US)", "en-US", "conversational", 1.0),
    "leo_uk": ("Leo (UK)", "en-GB", "authoritative", 0.92),
    "mia_calm": ("Mia (calm)", "en-US", "soft", 0.88),
    "max_energetic": ("Max (energetic)", "en-US", "high_energy", 1.15),
}
# The formats reelforge makes, and how; the others TikVod lists are refused with `style_unavailable`.
STYLES = {
    "faceless_story": ("Faceless story", "story", "Narrated story over generated backgrounds, a scene per line of "
                       "the script, captions burned in. Best for facts, history and explainers."),
    "listicle": ("Listicle", "listicle", "A hook on a title card, then one animated numbered card per item."),
}
UNAVAILABLE_STYLES = {"ai_broll": "AI b-roll", "talking_avatar": "Talking avatar", "quiz": "Quiz"}
MUSIC = ("upbeat", "calm", "dramatic", "none")
UNLIMITED_CREDITS = 1_000_000  # what /account/credits shows for a key without a quota (clients compare a number)


# -- wire models -------------------------------------------------------------------------------------------------

class CreateVideo(BaseModel):
    idea: str = Field(min_length=1, max_length=2000)
    style: str
    voice: str
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    duration: int = Field(default=45, ge=15, le=90)
    resolution: Literal["1080p", "4k"] = "1080p"
    caption_style: str | None = None
    music: Literal["upbeat", "calm", "dramatic", "none"] = "upbeat"
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=20)


class PreviewScript(BaseModel):
    idea: str = Field(min_length=1, max_length=2000)
    style: str
    duration: int = Field(default=45, ge=15, le=90)


class WebhookEndpointBody(BaseModel):
    url: str = Field(max_length=2048)


class Video(BaseModel):
    id: str
    object: Literal["video"]
    status: Literal["queued", "processing", "completed", "failed", "cancelled"]
    idea: str
    style: str
    voice: str
    duration: int
    resolution: str
    credits_used: int
    created_at: str
    estimated_ready_at: str | None


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str | None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


ERRORS = {status: {"model": ErrorEnvelope} for status in (400, 401, 402, 404, 409, 429, 500)}


def error_envelope(request: Request, status: int, code: str, message: str, details: dict[str, Any],
                   headers: dict[str, str] | None) -> JSONResponse:
    """`{"error": {"code", "message", "request_id"}}`; invalid parameters are 400 (TikVod's table has no 422)."""
    if status == 422:
        status = 400
    body: dict[str, Any] = {"code": code, "message": message, "request_id": errors.request_id(request)}
    if "errors" in details:
        body["param"] = details["errors"][0].get("path") if details["errors"] else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def tikvod_key(request: Request, engine: Engine = Depends(get_engine)) -> ApiKey:
    """The key (Authorization: Bearer), with TikVod's X-RateLimit-* headers besides the usual ones."""
    key = await api_key(request, engine)
    x_ratelimit_headers(request)
    return key


def style_of(name: str) -> tuple[str, str]:
    """(style id, the writer's style) for a style's name or id; ServiceError for one reelforge does not make."""
    wanted = name.strip().lower().replace(" ", "_").replace("-", "")
    for style_id, (label, writer_style, _) in STYLES.items():
        if wanted in (style_id, label.lower().replace(" ", "_")):
            return style_id, writer_style
    for style_id, label in UNAVAILABLE_STYLES.items():
        if wanted in (style_id, label.lower().replace(" ", "_").replace("-", "")):
            raise Invalid(f"style {label!r} is not offered by a local renderer: reelforge makes "
                          f"{', '.join(label for label, _, _ in STYLES.values())} (GET /v1/styles)",
                          code="style_unavailable", details={"errors": [{"path": "style", "message": "unavailable"}]})
    raise Invalid(f"style must be one of {', '.join(label for label, _, _ in STYLES.values())}",
                  code="parameter_invalid", details={"errors": [{"path": "style", "message": "unknown style"}]})


def voice_of(engine: Engine, voice: str) -> tuple[str, float]:
    """(piper voice id, speed) for a TikVod voice id or an installed voice's own id."""
    from reelforge.speech.tts import list_voices

    if voice in VOICE_ALIASES:
        return BUNDLED_VOICE, VOICE_ALIASES[voice][3]
    if voice in {info.voice_id for info in list_voices(engine.settings.voices)}:
        return voice, 1.0
    raise Invalid(f"voice {voice!r} is not one of GET /v1/voices", code="parameter_invalid",
                  details={"errors": [{"path": "voice", "message": "unknown voice"}]})


def caption_style_of(name: str | None) -> str:
    from reelforge.model.captions import WORDS_PER_LINE

    if name is None:
        return "bold_pop"
    if name not in WORDS_PER_LINE:
        raise Invalid(f"caption_style must be one of {', '.join(WORDS_PER_LINE)} (GET /v1/captions/styles)",
                      code="parameter_invalid", details={"errors": [{"path": "caption_style", "message": "unknown"}]})
    return name


def script_body(script) -> dict[str, Any]:
    return {"hook": script.hook or "",
            "segments": [{"index": index, "text": segment.narration, "visual_prompt": segment.visual}
                         for index, segment in enumerate(script.segments)]}


# -- the video's wire forms --------------------------------------------------------------------------------------

def _links(request: Request, engine: Engine, job: Job) -> dict[str, Any]:
    if job.status != "completed" or job.test:
        return {}
    links = engine.links(job, base_url(request, engine))
    share = links["shareUrl"]
    return {"video_url": links["downloadUrl"], "thumbnail_url": f"{share}/posters/0.jpg",
            "expires_at": links["expiresAt"]}


def video_body(request: Request, engine: Engine, job: Job, *, full: bool) -> dict[str, Any]:
    extra = job.extra
    result = job.result or {}
    body: dict[str, Any] = {"id": job.id, "object": "video", "status": STATUS[job.status], "idea": extra.get("idea"),
                            "style": extra.get("style"), "voice": extra.get("voice"),
                            "duration": round(result["duration"]) if result.get("duration") else extra.get("duration"),
                            "resolution": extra.get("resolution"), "credits_used": 0 if job.test else 1,
                            "created_at": iso(job.created_at),
                            "estimated_ready_at": iso(job.created_at + extra.get("estimated_seconds", 60))
                            if not job.terminal else None,
                            "completed_at": iso(job.finished_at) if job.status == "completed" else None,
                            "metadata": job.metadata}
    links = _links(request, engine, job)
    body["thumbnail_url"] = links.get("thumbnail_url")
    if full:
        body["language"] = extra.get("language")
        body["script"] = extra.get("script")
        body["writer"] = extra.get("writer")
        body["output"] = {"video_url": links["video_url"], "thumbnail_url": links["thumbnail_url"],
                          "duration": round(result.get("duration") or 0), "resolution": extra.get("resolution"),
                          "aspect_ratio": "9:16"} if links else None
        body["error"] = {"code": job.error.get("code"), "message": job.error.get("message")} if job.error else None
    return body


def tikvod_webhook(event: Event, secret: str, attempt: int, now: float) -> tuple[bytes, dict[str, str]] | None:
    """`{id, object: "event", type, created_at, data: {id, status, output, metadata}}`, signed
    `TikVod-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`."""
    kinds = {"render.queued": "video.queued", "render.started": "video.processing",
             "render.completed": "video.completed", "render.failed": "video.failed"}
    if event.type not in kinds:
        return None
    data = event.data
    result = data.get("result") or {}
    output = None
    if data["status"] == "completed" and result.get("downloadUrl"):
        output = {"video_url": result["downloadUrl"], "thumbnail_url": result["shareUrl"] + "/posters/0.jpg",
                  "duration": round(result.get("duration") or 0)}
    body = json.dumps({"id": event.id, "object": "event", "type": kinds[event.type], "created_at": iso(event.created_at),
                       "data": {"id": data["id"], "status": STATUS[data["status"]], "output": output,
                                "metadata": data.get("metadata") or {}}}, separators=(",", ":")).encode("utf-8")
    timestamp = int(now)
    signature = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "TikVod-Signature": f"t={timestamp},v1={signature}"}


register_format(API, tikvod_webhook, retries=WEBHOOK_RETRIES)


# -- routes ------------------------------------------------------------------------------------------------------

router = APIRouter(prefix=PREFIX + "/v1", tags=["compat: TikVod"], responses=ERRORS)


@router.post("/videos", summary="Create video", response_model=Video)
async def create_video(request: Request, key: ApiKey = Depends(tikvod_key),
                       engine: Engine = Depends(get_engine)) -> JSONResponse:
    """The operator's script writer writes the script from `idea`; the video renders in the background. One
    credit is used (none with a test key, whose jobs are queued and completed without rendering)."""
    from reelforge.editing.script_writer import Brief

    decision = engine.admit(key, "submission")
    request.scope["reelforge"]["headers"].update(decision.headers())
    x_ratelimit_headers(request)
    data, _ = await json_body(request, engine)
    body = checked(CreateVideo, data, code="parameter_invalid")
    style_id, writer_style = style_of(body.style)
    voice_id, speed = voice_of(engine, body.voice)
    captions = caption_style_of(body.caption_style)
    if not key.test:
        balance = await run_in_threadpool(engine.quotas.balance, key.id, API)
        if balance.left is not None and balance.left < 1:
            raise PaymentRequired("You need at least 1 credit to generate a video.", code="insufficient_credits",
                                  details={"credits": 0})
    script = await write_script(engine, body.idea, Brief(seconds=body.duration, language=body.language,
                                                        style=writer_style, aspect_ratio="9:16", voice_id=voice_id))
    document = script.document.to_json_dict()
    document["voice"] = {"voiceId": voice_id, "speed": speed}
    document["captions"] = {"style": captions}
    document["output"] = {"aspectRatio": "9:16", "resolution": body.resolution}
    if body.music != "none":
        document["music"] = {"mood": body.music}
    endpoint = await run_in_threadpool(engine.endpoints.get, key.id, API)
    webhook = {"url": endpoint.url, "secret": endpoint.secret} if endpoint else None
    report = await run_in_threadpool(engine.validate, document)
    extra = {"idea": body.idea, "style": STYLES[style_id][0], "voice": body.voice, "duration": body.duration,
             "resolution": body.resolution, "language": body.language, "caption_style": captions, "music": body.music,
             "script": script_body(script), "writer": script.writer,
             "estimated_seconds": 30 + 3 * (report.estimated_duration or body.duration)}
    draft = await run_in_threadpool(engine.open_draft, "vid")
    job = await run_in_threadpool(engine.submit, draft=draft, key=key, document=document, webhook=webhook,
                                  metadata=body.metadata, api=API, extra=extra)
    answer = video_body(request, engine, job, full=False)
    for name in ("completed_at", "thumbnail_url", "metadata"):
        answer.pop(name)
    return JSONResponse(answer)


@router.get("/videos", summary="List videos")
async def list_videos(request: Request, limit: int = Query(20, ge=1, le=100), starting_after: str | None = None,
                      status: Literal["queued", "processing", "completed", "failed", "cancelled"] | None = None,
                      key: ApiKey = Depends(tikvod_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    jobs, more = engine.list(key, limit=limit, cursor=starting_after,
                             status=ENGINE_STATUS[status] if status else None, api=API)
    data = []
    for job in jobs:
        video = video_body(request, engine, job, full=False)
        data.append({name: video[name] for name in ("id", "status", "idea", "style", "thumbnail_url", "duration",
                                                    "created_at", "completed_at")})
    return JSONResponse({"object": "list", "data": data, "has_more": more,
                         "next_cursor": jobs[-1].id if more and jobs else None})


def _video(engine: Engine, key: ApiKey, video_id: str) -> Job:
    job = engine.get(key, video_id)
    if job.api != API:
        raise NotFound(f"No such video: {video_id}", code="resource_missing")
    return job


@router.get("/videos/{video_id}", summary="Get video")
async def get_video(video_id: str, request: Request, key: ApiKey = Depends(tikvod_key),
                    engine: Engine = Depends(get_engine)) -> JSONResponse:
    return JSONResponse(video_body(request, engine, _video(engine, key, video_id), full=True))


@router.delete("/videos/{video_id}", summary="Cancel video (queued only)")
async def cancel_video(video_id: str, key: ApiKey = Depends(tikvod_key),
                       engine: Engine = Depends(get_engine)) -> JSONResponse:
    job = _video(engine, key, video_id)
    try:
        job = await run_in_threadpool(engine.cancel, key, job.id, queued_only=True)
    except Conflict as error:
        raise Conflict(f"Video {video_id} is already {STATUS[error.details['status']]}: only a queued video can be "
                       "cancelled.", code="job_already_processing") from None
    return JSONResponse({"id": job.id, "object": "video", "status": "cancelled", "credits_refunded": 0 if job.test else 1,
                         "cancelled_at": iso(job.finished_at)})


@router.get("/videos/{video_id}/download", summary="Download video (a signed, expiring URL)")
async def download_video(video_id: str, request: Request, key: ApiKey = Depends(tikvod_key),
                         engine: Engine = Depends(get_engine)) -> JSONResponse:
    job = _video(engine, key, video_id)
    if job.status != "completed":
        raise Conflict(f"Video {video_id} is {STATUS[job.status]}: it can be downloaded once completed.",
                       code="video_not_ready")
    path = engine.output_file(job, "video")
    links = engine.links(job, base_url(request, engine))
    return JSONResponse({"id": job.id, "download_url": links["downloadUrl"], "expires_at": iso(_expiry(links)),
                         "file_size_bytes": path.stat().st_size, "content_type": "video/mp4"})


def _expiry(links: dict[str, Any]) -> float:
    import datetime as _dt

    return _dt.datetime.fromisoformat(links["expiresAt"].replace("Z", "+00:00")).timestamp()


@router.post("/videos/{video_id}/publish", summary="Publish video (not offered)", status_code=501)
async def publish_video(video_id: str, key: ApiKey = Depends(tikvod_key), engine: Engine = Depends(get_engine)):
    _video(engine, key, video_id)
    raise NotOffered("Publishing to social accounts is not offered by a local renderer: download the video "
                     "(GET /v1/videos/{id}/download) and post it yourself.", code="publish_not_available")


class NotOffered(ServiceError):
    code = "not_offered"


@router.post("/scripts/preview", summary="Preview script (no credit used)")
async def preview_script(request: Request, key: ApiKey = Depends(tikvod_key),
                         engine: Engine = Depends(get_engine)) -> JSONResponse:
    from reelforge.document.estimate import count_words, speech_seconds
    from reelforge.editing.script_writer import Brief

    data, _ = await json_body(request, engine)
    body = checked(PreviewScript, data, code="parameter_invalid")
    _, writer_style = style_of(body.style)
    script = await write_script(engine, body.idea, Brief(seconds=body.duration, style=writer_style))
    segments = [{"text": s.narration, "estimated_seconds": round(speech_seconds(s.narration))} for s in script.segments]
    words = sum(count_words(text) for text in script.scene_narrations())
    total = sum(speech_seconds(text) for text in script.scene_narrations())
    return JSONResponse({"object": "script_preview", "hook": script.hook or "", "segments": segments,
                         "word_count": words, "estimated_duration": round(total), "writer": script.writer})


@router.get("/voices", summary="List voices")
async def voices(request: Request, key: ApiKey = Depends(tikvod_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """TikVod's voice ids (spoken by the offline voice at a speed of their own) and every installed voice."""
    from reelforge.speech.tts import list_voices

    base = base_url(request, engine)
    data = [{"id": voice_id, "name": name, "locale": locale, "gender": "unspecified", "style": style,
             "preview_url": f"{base}{PREFIX}/v1/voices/{voice_id}/preview.wav",
             "made_by": f"piper {BUNDLED_VOICE} at speed {speed:g}"}
            for voice_id, (name, locale, style, speed) in VOICE_ALIASES.items()]
    for info in list_voices(engine.settings.voices):
        data.append({"id": info.voice_id, "name": info.voice_id, "locale": info.language.replace("_", "-"),
                     "gender": "unspecified", "style": info.quality,
                     "preview_url": f"{base}{PREFIX}/v1/voices/{info.voice_id}/preview.wav",
                     "made_by": f"piper {info.voice_id}"})
    return JSONResponse({"object": "list", "data": data})


@router.get("/voices/{voice_id}/preview.wav", summary="A voice's sample (no key: it is linked from /voices)",
            dependencies=[])
def voice_preview(voice_id: str, engine: Engine = Depends(get_engine)) -> FileResponse:
    from reelforge.model import Voice
    from reelforge.speech.tts import synthesize
    from reelforge.workspace import Workspace

    piper_id, speed = voice_of(engine, voice_id)
    name = VOICE_ALIASES.get(voice_id, (voice_id,))[0]
    workspace = Workspace(engine.settings.cache_dir, voices=engine.settings.voices)
    speech = synthesize(f"Hi, I'm {name}. This is how I sound.", Voice(voice_id=piper_id, speed=speed),
                        workspace=workspace)
    return FileResponse(speech.audio_path, media_type="audio/wav")


@router.get("/styles", summary="List styles (those reelforge makes, and how)")
async def styles(key: ApiKey = Depends(tikvod_key)) -> JSONResponse:
    return JSONResponse({"object": "list", "data": [{"id": style_id, "name": name, "description": description}
                                                    for style_id, (name, _, description) in STYLES.items()]})


@router.get("/captions/styles", summary="Caption styles")
async def caption_styles(key: ApiKey = Depends(tikvod_key)) -> JSONResponse:
    from reelforge.model.captions import WORDS_PER_LINE

    names = {"bold_pop": "Bold Pop", "minimal_white": "Minimal White", "karaoke_neon": "Karaoke Neon"}
    return JSONResponse({"object": "list", "data": [{"id": style, "name": names.get(style, style),
                                                     "words_per_line": words}
                                                    for style, words in WORDS_PER_LINE.items()]})


@router.get("/account/credits", summary="Credit balance")
async def credits(key: ApiKey = Depends(tikvod_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """The key's quota left (`reelforge keys quota`); without one (unlimited) `credits` is UNLIMITED_CREDITS and
    `unlimited` is true."""
    balance = await run_in_threadpool(engine.quotas.balance, key.id, API)
    left = UNLIMITED_CREDITS if balance.left is None else balance.left
    return JSONResponse({"object": "credit_balance", "credits": left, "currency": "usd", "cost_per_video": 0.0,
                         "used": balance.used, "unlimited": balance.quota is None, "updated_at": iso(time.time())})


@router.post("/webhook_endpoints", summary="Register the webhook endpoint (reelforge: TikVod's dashboard)")
async def register_endpoint(request: Request, key: ApiKey = Depends(tikvod_key),
                            engine: Engine = Depends(get_engine)) -> JSONResponse:
    """One endpoint per key (registering again replaces it); the answer shows its signing secret, once."""
    data, _ = await json_body(request, engine)
    body = checked(WebhookEndpointBody, data, code="parameter_invalid")
    await run_in_threadpool(engine.check_webhook, {"url": body.url, "secret": "x" * 16})
    endpoint = await run_in_threadpool(engine.endpoints.register, key.id, API, body.url)
    return JSONResponse({"id": endpoint.id, "object": "webhook_endpoint", "url": endpoint.url,
                         "secret": endpoint.secret, "created_at": iso(endpoint.created_at)})


@router.delete("/webhook_endpoints/{endpoint_id}", summary="Remove the webhook endpoint")
async def remove_endpoint(endpoint_id: str, key: ApiKey = Depends(tikvod_key),
                          engine: Engine = Depends(get_engine)) -> JSONResponse:
    await run_in_threadpool(engine.endpoints.remove, key.id, endpoint_id)
    return JSONResponse({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


def install(app) -> None:
    errors.register_envelope(PREFIX + "/", error_envelope)
    if (NotOffered, 501) not in errors.STATUS_OF:
        errors.STATUS_OF.append((NotOffered, 501))
    app.include_router(router)

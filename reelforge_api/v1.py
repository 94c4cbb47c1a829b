"""The native API, `/v1`: renders (submit, read, list, cancel, download), a dry-run validation, and the catalogs
a client builds documents from. Each route translates its request into engine calls and the job into JSON."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reelforge.service import Engine
from reelforge.service.errors import Invalid, ServiceError, Unauthorized
from reelforge.service.keys import ApiKey
from reelforge_api.bodies import TEXT_PARTS, media_type, parse_json, read_json, read_multipart, unsupported
from reelforge_api.deps import api_key, get_engine, optional_api_key, submitting_key
from reelforge_api.errors import service_error_response

router = APIRouter(prefix="/v1")
STORED_STATUSES = {200, 202, 400, 404, 409, 413, 415, 422}  # answers an idempotent replay gives again


# -- wire models (for the OpenAPI document; routes answer plain dicts of these shapes) ----------------------------

class ErrorBody(BaseModel):
    code: str
    message: str
    requestId: str | None
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class RenderError(BaseModel):
    code: str = Field(description="invalid_document, media_error, source_refused, render_failed, interrupted, …")
    message: str
    path: str | None = Field(description="The JSON path of the document value at fault, if any.")


class RenderResultBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    duration: float | None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    cacheHits: int | None = None
    cacheMisses: int | None = None
    downloadUrl: str | None = Field(default=None, description="Signed link to the MP4; works without a key until "
                                                              "expiresAt.")
    captionUrls: dict[str, str] = {}
    expiresAt: str | None = None


class RenderObject(BaseModel):
    id: str = Field(examples=["rnd_0mf3k2a9x4b7c1d2e3f4g5"])
    object: Literal["render"]
    status: Literal["queued", "rendering", "completed", "failed", "cancelled"]
    phase: str = Field(description="queued, preparing_assets, narrating, rendering, muxing, completed, failed, cancelled")
    progress: int = Field(ge=0, le=100)
    etaSeconds: float | None
    attempts: int
    quality: str | None
    test: bool
    metadata: dict[str, Any]
    webhook: dict[str, str] | None
    cancelRequested: bool
    createdAt: str
    startedAt: str | None
    updatedAt: str
    finishedAt: str | None
    error: RenderError | None
    result: RenderResultBody | None
    idempotentReplay: bool | None = None


class RenderList(BaseModel):
    object: Literal["list"]
    data: list[RenderObject]
    hasMore: bool
    nextCursor: str | None


class Located(BaseModel):
    path: str
    message: str


class ValidationAnswer(BaseModel):
    valid: bool
    errors: list[Located]
    warnings: list[Located]
    estimatedDuration: float | None


ERRORS = {status: {"model": ErrorEnvelope} for status in (400, 401, 404, 409, 413, 415, 422, 429)}
WEBHOOK_SCHEMA = {"type": "object", "required": ["url", "secret"], "properties": {
    "url": {"type": "string", "description": "https URL (http only to an --allow-webhook-host)"},
    "secret": {"type": "string", "minLength": 8, "description": "Signs each delivery (HMAC-SHA256 of the body)."}}}
RENDER_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "description": "`{document, quality?, webhook?, metadata?}`, "
                                        "or a bare document.", "properties": {
            "document": {"type": "object", "description": "The document (see GET /v1/schema)."},
            "quality": {"type": "string", "enum": ["draft", "web", "studio"]},
            "webhook": WEBHOOK_SCHEMA,
            "metadata": {"type": "object", "maxProperties": 20, "description": "Echoed back."}}}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["document"], "properties": {
            "document": {"type": "string", "description": "The document as JSON text."},
            "quality": {"type": "string", "enum": ["draft", "web", "studio"]},
            "webhook": {"type": "string", "description": "A JSON object `{url, secret}` as text."},
            "metadata": {"type": "string", "description": "A JSON object as text."},
            "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                      "description": "One part per uploadName; the part's filename is the uploadName."}}}},
    },
}


def _base(request: Request, engine: Engine) -> str:
    return engine.settings.public_url or str(request.base_url)


def _render(request: Request, engine: Engine, job) -> dict[str, Any]:
    return engine.job_dict(job, _base(request, engine))


async def _idempotent(request: Request, engine: Engine, key: ApiKey, request_hash: str,
                      action: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
                      on_replay: Callable[[], None] | None = None) -> JSONResponse:
    """Run `action` once per Idempotency-Key: a replay answers the stored answer with `idempotentReplay: true`."""
    idem = request.headers.get("idempotency-key")
    if idem is None:
        status, body = await action()
        return JSONResponse(body, status_code=status)
    try:
        replay = await run_in_threadpool(engine.idempotency.begin, key.id, idem, request_hash)
    except ServiceError:
        if on_replay is not None:
            on_replay()
        raise
    if replay is not None:
        if on_replay is not None:
            on_replay()
        status, body = replay
        body = body if list(body) == ["error"] else {**body, "idempotentReplay": True}  # envelopes as they were
        return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
    try:
        status, body = await action()
    except ServiceError as error:
        response = service_error_response(request, error)
        if response.status_code in STORED_STATUSES:
            await run_in_threadpool(engine.idempotency.finish, key.id, idem, response.status_code,
                                    _json_of(response))
        else:
            await run_in_threadpool(engine.idempotency.abandon, key.id, idem)
        return response
    except BaseException:
        await run_in_threadpool(engine.idempotency.abandon, key.id, idem)
        raise
    await run_in_threadpool(engine.idempotency.finish, key.id, idem, status, body)
    return JSONResponse(body, status_code=status)


def _json_of(response: JSONResponse) -> dict[str, Any]:
    import json

    return json.loads(bytes(response.body))


def _text_json(texts: dict[str, str], name: str) -> Any:
    if name not in texts:
        return None
    return parse_json(texts[name].encode("utf-8"), f"`{name}` part")


@router.post("/renders", status_code=202, summary="Submit a render", openapi_extra={"requestBody": RENDER_BODY},
             responses={202: {"model": RenderObject}, **ERRORS})
async def create_render(request: Request, key: ApiKey = Depends(submitting_key),
                        engine: Engine = Depends(get_engine)) -> JSONResponse:
    """Queue a render of a document: JSON, or multipart with the files its `uploadName`s name. Answers the job
    (202); poll it, or give a webhook. An `Idempotency-Key` header makes a retry safe."""
    kind = media_type(request)
    settings = engine.settings
    draft = await run_in_threadpool(engine.open_draft)
    try:
        if kind == "application/json" or kind.endswith("+json"):
            data, request_hash = await read_json(request, settings.max_json_bytes)
            if isinstance(data, dict) and isinstance(data.get("document"), dict):
                extra = set(data) - {"document", "quality", "webhook", "metadata"}
                if extra:
                    raise Invalid(f"unknown field {sorted(extra)[0]!r}: the fields are document, quality, webhook, "
                                  "metadata", code="invalid_request")
                fields = data
            else:
                fields = {"document": data}
        elif kind == "multipart/form-data":
            texts, request_hash = await read_multipart(request, draft, text_limit=settings.max_json_bytes,
                                                       total_limit=settings.max_job_bytes + 4 * settings.max_json_bytes)
            if "document" not in texts:
                raise Invalid("the multipart body has no `document` part", code="invalid_request",
                              details={"errors": [{"path": "document", "message": "missing"}]})
            fields = {name: _text_json(texts, name) for name in TEXT_PARTS if name in texts and name != "quality"}
            if "quality" in texts:
                fields["quality"] = texts["quality"].strip()
        else:
            raise unsupported(kind, "application/json or multipart/form-data")
    except BaseException:
        draft.discard()
        raise

    async def submit() -> tuple[int, dict[str, Any]]:
        job = await run_in_threadpool(engine.submit, key, draft, fields["document"], quality=fields.get("quality"),
                                      webhook=fields.get("webhook"), metadata=fields.get("metadata") or {})
        return 202, _render(request, engine, job)

    return await _idempotent(request, engine, key, request_hash, submit, on_replay=draft.discard)


@router.get("/renders", summary="List renders", response_model=RenderList, responses=ERRORS)
async def list_renders(request: Request, limit: int = Query(20, ge=1, le=100),
                 cursor: str | None = Query(None, description="`nextCursor` of the previous page."),
                 status: Literal["queued", "rendering", "completed", "failed", "cancelled"] | None = None,
                 key: ApiKey = Depends(api_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """The key's renders, newest first."""
    jobs, more = engine.list(key, limit=limit, cursor=cursor, status=status)
    return JSONResponse({"object": "list", "data": [_render(request, engine, job) for job in jobs], "hasMore": more,
                         "nextCursor": jobs[-1].id if more and jobs else None})


@router.get("/renders/{render_id}", summary="Read a render", response_model=RenderObject, responses=ERRORS)
async def get_render(render_id: str, request: Request, key: ApiKey = Depends(api_key),
               engine: Engine = Depends(get_engine)) -> JSONResponse:
    """Status, phase, progress (0–100) and ETA while it renders; the result (with signed links) or the error.
    (One read by primary key, answered on the event loop: polling stays fast while renders run.)"""
    return JSONResponse(_render(request, engine, engine.get(key, render_id)))


@router.post("/renders/{render_id}/cancel", summary="Cancel a render", response_model=RenderObject, responses=ERRORS)
async def cancel_render(render_id: str, request: Request, key: ApiKey = Depends(api_key),
                        engine: Engine = Depends(get_engine)) -> JSONResponse:
    """Cancel while queued or while rendering (ffmpeg is stopped at once; the answer waits for it, a few
    seconds at most). A finished render is answered as it is."""
    async def cancel() -> tuple[int, dict[str, Any]]:
        job = await run_in_threadpool(engine.cancel, key, render_id)
        return 200, _render(request, engine, job)

    return await _idempotent(request, engine, key, f"cancel:{render_id}", cancel)


@router.get("/renders/{render_id}/events", summary="A render's events", responses=ERRORS)
def render_events(render_id: str, key: ApiKey = Depends(api_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """The events recorded for the render (those its webhook receives), oldest first."""
    engine.get(key, render_id)
    events = [{"id": e["id"], "type": e["type"], "createdAt": e["createdAt"]} for e in engine.events(render_id)]
    return JSONResponse({"object": "list", "data": events})


@router.get("/renders/{render_id}/share", summary="A share-page link for a render", responses=ERRORS)
async def share_link(render_id: str, request: Request, key: ApiKey = Depends(api_key),
                     engine: Engine = Depends(get_engine)) -> JSONResponse:
    """A link to the render's share page (no key needed to open it; it expires with the download links), at any
    state: the page follows the render and shows the video once it is done."""
    job = engine.get(key, render_id)
    _, expires = engine.signed_query(job.id)
    from reelforge.service.jobs import iso

    return JSONResponse({"shareUrl": f"{_base(request, engine).rstrip('/')}/share/{engine.share_token(job.id, expires)}",
                         "expiresAt": iso(expires)})


def _owned_or_signed(engine: Engine, render_id: str, key: ApiKey | None, expires: int | None,
                     signature: str | None):
    if signature is not None and expires is not None:
        return engine.signed_job(render_id, expires, signature)
    if key is None:
        raise Unauthorized("an API key or a signed link (expires, signature) is needed", code="missing_api_key")
    return engine.get(key, render_id)


@router.get("/renders/{render_id}/video", summary="Download the MP4", response_class=FileResponse,
            responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "Partial content (Range)"}, **ERRORS})
def download_video(render_id: str, expires: int | None = None, signature: str | None = None,
                   key: ApiKey | None = Depends(optional_api_key), engine: Engine = Depends(get_engine)) -> FileResponse:
    """The finished MP4, with HTTP Range support; with the key, or with a signed link's `expires` and `signature`."""
    job = _owned_or_signed(engine, render_id, key, expires, signature)
    path = engine.output_file(job, "video")
    return FileResponse(path, media_type="video/mp4", filename=f"{job.id}.mp4", content_disposition_type="inline")


@router.get("/renders/{render_id}/captions.{kind}", summary="Download the captions", response_class=FileResponse,
            responses={200: {"content": {"application/x-subrip": {}, "text/vtt": {}}}, **ERRORS})
def download_captions(render_id: str, kind: Literal["srt", "vtt"], expires: int | None = None,
                      signature: str | None = None, key: ApiKey | None = Depends(optional_api_key),
                      engine: Engine = Depends(get_engine)) -> FileResponse:
    """The captions as SubRip or WebVTT (404 for a video without narration)."""
    job = _owned_or_signed(engine, render_id, key, expires, signature)
    path = engine.output_file(job, kind)
    media = "text/vtt; charset=utf-8" if kind == "vtt" else "application/x-subrip; charset=utf-8"
    return FileResponse(path, media_type=media, filename=f"{job.id}.{kind}", content_disposition_type="inline")


@router.post("/validate", summary="Validate a document", response_model=ValidationAnswer,
             openapi_extra={"requestBody": {"required": True, "content": RENDER_BODY["content"] | {}}},
             responses=ERRORS)
async def validate(request: Request, key: ApiKey = Depends(api_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """A dry run that renders nothing: the errors and warnings a submission would meet, each at its JSON path,
    and the estimated length in seconds."""
    kind = media_type(request)
    if kind != "application/json" and not kind.endswith("+json"):
        raise unsupported(kind, "application/json")
    data, _ = await read_json(request, engine.settings.max_json_bytes)
    document = data["document"] if isinstance(data, dict) and isinstance(data.get("document"), dict) else data
    report = await run_in_threadpool(engine.validate, document)
    located = lambda problems: [{"path": p.path, "message": engine.public_text(p.message)} for p in problems]  # noqa: E731
    return JSONResponse({"valid": report.valid, "errors": located(report.errors), "warnings": located(report.warnings),
                         "estimatedDuration": report.estimated_duration})


# -- catalogs ---------------------------------------------------------------------------------------------------

@router.get("/voices", summary="Voices")
def voices(key: ApiKey = Depends(api_key), engine: Engine = Depends(get_engine)) -> JSONResponse:
    """The offline voices a document's `voice.voiceId` may name."""
    from reelforge.speech.tts import list_voices

    data = [{"id": v.voice_id, "language": v.language, "quality": v.quality, "sampleRate": v.sample_rate,
             "engine": v.engine, "bundled": v.bundled} for v in list_voices(engine.settings.voices)]
    return JSONResponse({"object": "list", "data": data})


@router.get("/caption-styles", summary="Caption styles")
def caption_styles(key: ApiKey = Depends(api_key)) -> JSONResponse:
    """The caption styles (`captions.style`) with their words per line."""
    from reelforge.model.captions import WORDS_PER_LINE, Captions

    description = Captions.model_fields["style"].description or ""
    notes = dict(part.strip().split(": ", 1) for part in description.split(";") if ": " in part)
    data = [{"id": name, "wordsPerLine": words, "description": notes.get(name, "").rstrip(".")}
            for name, words in WORDS_PER_LINE.items()]
    return JSONResponse({"object": "list", "data": data})


@router.get("/moods", summary="Music moods")
def moods(key: ApiKey = Depends(api_key)) -> JSONResponse:
    """The generated music moods (`music.mood`), made offline."""
    from reelforge.resolve.music import MOODS

    data = [{"id": name, "bpm": preset.bpm, "bars": preset.bars, "key": preset.key} for name, preset in MOODS.items()]
    return JSONResponse({"object": "list", "data": data})


@router.get("/cards", summary="Cards")
def cards(key: ApiKey = Depends(api_key)) -> JSONResponse:
    """The card kinds a `card` visual may use, each with the JSON Schema of its fields."""
    from reelforge.cards.registry import card_specs

    data = [{"id": spec.name, "source": spec.source, "schema": spec.model.model_json_schema(by_alias=True)}
            for spec in card_specs()]
    return JSONResponse({"object": "list", "data": data})


@router.get("/schema", summary="Document JSON Schema")
def schema(key: ApiKey = Depends(api_key)) -> JSONResponse:
    """The JSON Schema (draft 2020-12) of a document."""
    from reelforge.document.schema import document_schema

    return JSONResponse(document_schema())

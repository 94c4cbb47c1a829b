"""TutorFlow's Video API under `/compat/tutorflow/v1/platform/videos`: a prompt becomes editable scenes (sync or
async, idempotent by key), and the edit token unlocks the per-scene mutations, each one of the core's edit
operations (undo, staleness and the piece cache behave as in the editor), and the render on demand.

Every edit answers the project's `revision` (also as `ETag`); an edit sent with `If-Match: <revision>` that is not
the current one is refused with 409, so two clients editing at once never lose each other's edits."""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from reelforge.service import Engine
from reelforge.service.errors import Invalid
from reelforge.service.keys import ApiKey
from reelforge.service.projects import ProjectRecord, Projects
from reelforge.service.webhooks import register_format
from reelforge_api import errors
from reelforge_api.bodies import media_type, parse_json, read_json, read_multipart
from reelforge_api.compat.common import base_url, checked
from reelforge_api.deps import api_key, get_engine, submitting_key

API = "tutorflow"
PREFIX = "/compat/tutorflow"
BASE = PREFIX + "/v1/platform/videos"
POLL_AFTER_MS = 1000
RENDER = {"queued": "RENDERING", "rendering": "RENDERING", "completed": "COMPLETED", "failed": "FAILED",
          "cancelled": "IDLE"}
HTTP_NAMES = {400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 404: "Not Found", 409: "Conflict",
              413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
              429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


# -- wire models -------------------------------------------------------------------------------------------------

class CreateVideo(BaseModel):
    prompt: str = Field(min_length=1, max_length=20000)
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    sceneCount: int = Field(default=5, ge=1, le=50)
    aspectRatio: Literal["16:9", "9:16", "1:1"] = "16:9"
    targetDurationSeconds: float = Field(default=60, ge=10, le=600)
    tier: str | None = None
    mode: Literal["sync", "async"] = "sync"
    idempotencyKey: str | None = Field(default=None, max_length=255)


class SceneBody(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=5000)
    title: str | None = Field(default=None, max_length=200)
    durationSeconds: float | None = Field(default=None, gt=0, le=600)
    index: int | None = Field(default=None, ge=0)
    visual: dict[str, Any] | None = None


class TtsBody(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=5000)


class ClipBody(BaseModel):
    clipId: str | None = None
    url: str | None = None
    uploadName: str | None = None


class BgmBody(BaseModel):
    preset: Literal["upbeat", "calm", "dramatic", "none"] = "calm"
    volume: float | None = Field(default=None, ge=0, le=1)


class NestError(BaseModel):
    statusCode: int
    message: str
    error: str
    code: str


def error_envelope(request: Request, status: int, code: str, message: str, details: dict[str, Any],
                   headers: dict[str, str] | None) -> JSONResponse:
    """NestJS's shape (TutorFlow's DTOs are NestJS's): `{statusCode, message, error}`, plus `code` and `requestId`."""
    if status == 422:
        status = 400
    body = {"statusCode": status, "message": message, "error": HTTP_NAMES.get(status, "Error"), "code": code,
            "requestId": errors.request_id(request)}
    if "revision" in details:
        body["revision"] = details["revision"]
    return JSONResponse(body, status_code=status, headers=headers)


def projects_of(request: Request) -> Projects:
    return request.app.state.projects


# -- the video's wire form ---------------------------------------------------------------------------------------

def video_body(request: Request, engine: Engine, record: ProjectRecord, *, replay: bool | None = None) -> dict[str, Any]:
    from reelforge.service.jobs import iso

    base = base_url(request, engine)
    meta, asked = record.meta, record.request
    job = engine.job(record.render_job_id) if record.render_job_id else None
    render = "IDLE" if job is None or meta.get("renderCancelled") else RENDER[job.status]
    edit = f"{BASE}/edit/{record.edit_token}"
    scenes = meta.get("sceneCount")
    return {
        "id": record.id, "videoId": meta.get("videoId"), "status": record.status,
        "isTerminal": record.status in ("COMPLETED", "FAILED"), "title": meta.get("title"),
        "description": meta.get("description"), "language": asked.get("language", "en"), "sceneCount": scenes,
        "aspectRatio": asked.get("aspectRatio", "16:9"), "targetDurationSeconds": asked.get("targetDurationSeconds", 60),
        "slug": meta.get("slug"), "tier": asked.get("tier") or "default", "mode": asked.get("mode", "sync"),
        "priceSnapshot": {"category": "video", "catalogKey": "video.local", "tier": "default", "unit": "scene",
                          "unitPrice": 0.0, "units": scenes or 0, "amountUsd": 0.0, "currency": "USD",
                          "source": "reelforge_local"} if scenes else None,
        "shareToken": record.share_token, "editToken": record.edit_token,
        "editTokenExpiresAt": iso(record.edit_expires_at),
        "previewUrl": f"{base}{PREFIX}/{asked.get('language', 'en')}/platform/videos/edit/{record.edit_token}",
        "publicUrl": f"{base}/share/{record.share_token}",
        "renderStatus": render, "videoKey": f"renders/{job.id}/video.mp4" if job is not None else None,
        "videoUrl": engine.links(job, base)["downloadUrl"] if job is not None and render == "COMPLETED" and not job.test
        else None,
        "renderTriggerUrl": f"POST {edit}/render", "renderPollUrl": f"GET {edit}",
        "pollAfterMs": POLL_AFTER_MS if asked.get("mode") == "async" else None,
        "idempotencyKey": asked.get("idempotencyKey"), "idempotentReplay": replay,
        "createdAt": iso(record.created_at), "completedAt": iso(record.completed_at), "error": record.error,
        "writer": meta.get("writer"),
    }


def edit_body(request: Request, engine: Engine, record: ProjectRecord) -> dict[str, Any]:
    """The VideoEditResDto: the video, its scenes (with what is stale), the revision, the render's progress."""
    body = video_body(request, engine, record)
    body["revision"] = record.revision
    if record.status == "COMPLETED":
        project = projects_of(request).project(record)
        stale = projects_of(request).stale(record)
        document = project.document
        body["scenes"] = [{"id": scene.id, "index": index, "title": scene.title,
                           "text": scene.narration.words_text if scene.narration else None,
                           "durationSeconds": None if scene.duration == "auto" else float(scene.duration),
                           "visual": scene.visual.to_json_dict(),
                           "ttsStale": ("tts", scene.id) in stale, "renderStale": ("scene", scene.id) in stale}
                          for index, scene in enumerate(document.scenes)]
        body["bgm"] = document.music.to_json_dict() if document.music is not None else None
        body["canUndo"], body["canRedo"] = project.can_undo, project.can_redo
        body["undoLabel"], body["redoLabel"] = project.undo_label, project.redo_label
        body["stale"] = sorted(f"{m.kind}:{m.scene_id}" if m.scene_id else m.kind for m in stale)
    job = engine.job(record.render_job_id) if record.render_job_id else None
    body["renderProgress"] = int(job.progress) if job is not None else 0
    body["renderError"] = (job.error or {}).get("message") if job is not None and job.status == "failed" else None
    return body


def _answer(body: dict[str, Any], status: int = 200) -> JSONResponse:
    headers = {"ETag": f'"{body["revision"]}"'} if "revision" in body else None
    return JSONResponse(body, status_code=status, headers=headers)


register_format(API, lambda event, secret, attempt, now: None)  # TutorFlow documents no webhooks


# -- creating ----------------------------------------------------------------------------------------------------

router = APIRouter(prefix=BASE, tags=["compat: TutorFlow"])


def _write(engine: Engine, body: CreateVideo, record: ProjectRecord):
    from reelforge.editing.script_import import slugify
    from reelforge.editing.script_writer import Brief

    def write():
        script = engine.settings.script_writer().write(body.prompt, Brief(
            title=body.title, scenes=body.sceneCount, seconds=body.targetDurationSeconds, language=body.language,
            aspect_ratio=body.aspectRatio))
        document = script.document
        if body.description:
            from reelforge.document.loader import validate_data

            document = validate_data({**document.to_json_dict(), "description": body.description})
        title = body.title or script.title
        return document, {"title": title, "description": body.description or (script.hook or title),
                          "sceneCount": len(document.scenes), "slug": f"{slugify(title)}-{record.id[:8]}",
                          "videoId": hashlib.sha256(record.id.encode()).hexdigest()[:32], "writer": script.writer}

    return write


@router.post("", summary="Create a video request (prompt → editable scenes)")
async def create_video(request: Request, key: ApiKey = Depends(submitting_key),
                       engine: Engine = Depends(get_engine)) -> JSONResponse:
    """`mode: sync` answers once the scenes are written; `async` answers at once (PENDING): poll GET /:id."""
    data, digest = await read_json(request, engine.settings.max_json_bytes)
    body = checked(CreateVideo, data)
    idem = request.headers.get("idempotency-key") or body.idempotencyKey
    if idem is not None:
        replay = await run_in_threadpool(engine.idempotency.begin, key.id, f"tutorflow:{idem}", digest)
        if replay is not None:
            record = projects_of(request).get(key, replay[1]["id"])
            return JSONResponse(video_body(request, engine, record, replay=True), status_code=replay[0])
    try:
        projects = projects_of(request)
        asked = body.model_dump()
        asked["idempotencyKey"] = idem
        record = await run_in_threadpool(projects.create, key, API, asked, {"title": body.title})
        write = _write(engine, body, record)
        if body.mode == "sync":
            record = await run_in_threadpool(projects.generate, record, write)
        else:
            threading.Thread(target=projects.generate, args=(record, write), daemon=True,
                             name=f"write-{record.id}").start()
    except BaseException:
        if idem is not None:
            await run_in_threadpool(engine.idempotency.abandon, key.id, f"tutorflow:{idem}")
        raise
    answer = video_body(request, engine, record)
    if idem is not None:
        await run_in_threadpool(engine.idempotency.finish, key.id, f"tutorflow:{idem}", 201, {"id": record.id})
    return JSONResponse(answer, status_code=201)


@router.get("/{video_id}", summary="Poll a video request")
async def get_video(video_id: str, request: Request, key: ApiKey = Depends(api_key),
                    engine: Engine = Depends(get_engine)) -> JSONResponse:
    return JSONResponse(video_body(request, engine, projects_of(request).get(key, video_id)))


# -- the edit surface (the edit token is the credential) --------------------------------------------------------

edit_router = APIRouter(prefix=BASE + "/edit/{edit_token}", tags=["compat: TutorFlow"])


def if_match(request: Request) -> int | None:
    value = (request.headers.get("if-match") or "").strip().removeprefix("W/").strip('"')
    if not value or value == "*":
        return None
    if not value.isdigit():
        raise Invalid("If-Match must be the revision the edit was made against (a number)", code="invalid_if_match")
    return int(value)


def _owner(engine: Engine, record: ProjectRecord) -> ApiKey:
    return engine.keys.get(record.key_id)


async def _edit(request: Request, edit_token: str, make_edit) -> JSONResponse:
    engine: Engine = request.app.state.engine
    projects = projects_of(request)
    record = await run_in_threadpool(projects.by_edit_token, edit_token)
    engine.admit(_owner(engine, record))
    revision = if_match(request)
    edit = make_edit(projects.project(record)) if callable(make_edit) else make_edit
    record = await run_in_threadpool(projects.edit, record, edit, revision)
    return _answer(edit_body(request, engine, record))


async def _json(request: Request) -> Any:
    raw = await request.body()
    return parse_json(raw, "body") if raw.strip() else {}


@edit_router.get("", summary="Read the video being edited (extends the edit token)")
async def read_edit(edit_token: str, request: Request, engine: Engine = Depends(get_engine)) -> JSONResponse:
    record = await run_in_threadpool(projects_of(request).by_edit_token, edit_token)
    return _answer(edit_body(request, engine, record))


@edit_router.post("/render", summary="Render the scenes as they are now")
async def render(edit_token: str, request: Request, engine: Engine = Depends(get_engine)) -> JSONResponse:
    projects = projects_of(request)
    record = await run_in_threadpool(projects.by_edit_token, edit_token)
    owner = _owner(engine, record)
    engine.admit(owner, "submission")
    record = await run_in_threadpool(lambda: projects.render(record, owner, api=API))
    return _answer(edit_body(request, engine, record))


@edit_router.post("/render/cancel", summary="Cancel the render (renderStatus back to IDLE)")
async def cancel_render(edit_token: str, request: Request, engine: Engine = Depends(get_engine)) -> JSONResponse:
    projects = projects_of(request)
    record = await run_in_threadpool(projects.by_edit_token, edit_token)
    record = await run_in_threadpool(projects.cancel_render, record, _owner(engine, record))
    return _answer(edit_body(request, engine, record))


def _scene_wire(body: SceneBody, scene_id: str | None = None) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    if scene_id is not None:
        wire["id"] = scene_id
    if body.text is not None:
        wire["narration"] = {"text": body.text}
    if body.title is not None:
        wire["title"] = body.title
    if body.durationSeconds is not None:
        wire["duration"] = body.durationSeconds
    if body.visual is not None:
        wire["visual"] = body.visual
    return wire


@edit_router.post("/scenes", summary="Add a scene")
async def add_scene(edit_token: str, request: Request) -> JSONResponse:
    from reelforge.editing import operations as ops
    from reelforge.editing.script_import import GRADIENTS, slugify

    body = checked(SceneBody, await _json(request))
    if body.text is None and body.durationSeconds is None:
        raise Invalid("a scene needs `text` (its narration) or `durationSeconds`", code="invalid_request")

    def make(project):
        scene_id = ops.new_scene_id(project.document, slugify(body.title or body.text or "scene"))
        wire = _scene_wire(body, scene_id)
        colors = GRADIENTS[len(project.document.scenes) % len(GRADIENTS)]
        wire.setdefault("visual", {"type": "gradient", "colors": list(colors), "angle": 180})
        return ops.add_scene(wire, body.index)

    return await _edit(request, edit_token, make)


@edit_router.patch("/scenes/{scene_id}", summary="Update a scene")
async def update_scene(edit_token: str, scene_id: str, request: Request) -> JSONResponse:
    from reelforge.editing import operations as ops

    body = checked(SceneBody, await _json(request))
    changes = _scene_wire(body)
    if body.index is not None:
        raise Invalid("to move a scene, remove it and add it at the index", code="invalid_request")
    return await _edit(request, edit_token, ops.update_scene(scene_id, changes))


edit_router.add_api_route("/scenes/{scene_id}", update_scene, methods=["PUT"], include_in_schema=False)


@edit_router.delete("/scenes/{scene_id}", summary="Remove a scene")
async def remove_scene(edit_token: str, scene_id: str, request: Request) -> JSONResponse:
    from reelforge.editing import operations as ops

    return await _edit(request, edit_token, ops.remove_scene(scene_id))


@edit_router.post("/scenes/{scene_id}/tts", summary="Re-narrate one scene")
async def regenerate_tts(edit_token: str, scene_id: str, request: Request) -> JSONResponse:
    """With `text`, the scene says it (only this scene's speech and pieces are made again at the next render);
    without, its narration stays (offline speech is the same for the same text and voice)."""
    from reelforge.editing import operations as ops

    body = checked(TtsBody, await _json(request))

    def make(project):
        scene = project.document.scenes[project.document.scene_index(scene_id)] if any(
            s.id == scene_id for s in project.document.scenes) else None
        if scene is None:
            return ops.update_scene(scene_id, {})  # the edit names the missing scene
        text = body.text or (scene.narration.words_text if scene.narration else None)
        if not text:
            raise Invalid(f"scene {scene_id!r} has no narration: send `text`", code="invalid_request")
        return ops.update_scene(scene_id, {"narration": {"text": text}})

    return await _edit(request, edit_token, make)


CLIP_COLORS = {"night": "#06283d", "violet": "#1b0a3c", "teal": "#062925", "ember": "#3b0d1c", "amber": "#3d1f05"}


@edit_router.get("/clips", summary="The clips a scene can show (offline: generated backgrounds and uploads)")
async def clips(edit_token: str, request: Request) -> JSONResponse:
    from reelforge.editing.script_import import GRADIENTS

    record = await run_in_threadpool(projects_of(request).by_edit_token, edit_token)
    data = [{"clipId": f"gradient:{index}", "kind": "gradient", "colors": list(colors)}
            for index, colors in enumerate(GRADIENTS)]
    data += [{"clipId": f"color:{name}", "kind": "color", "color": color} for name, color in CLIP_COLORS.items()]
    data += [{"clipId": f"upload:{path.name}", "kind": "upload", "uploadName": path.name}
             for path in sorted(projects_of(request).uploads(record).iterdir()) if not path.name.startswith(".")]
    return JSONResponse({"data": data})


def _visual_for(body: ClipBody, uploads: dict[str, str]) -> dict[str, Any]:
    from reelforge.editing.script_import import GRADIENTS

    if body.url:
        suffix = body.url.lower().rsplit("?", 1)[0].rsplit(".", 1)[-1]
        if suffix in ("png", "jpg", "jpeg", "webp", "gif"):
            return {"type": "image", "source": {"url": body.url}, "motion": "zoom_in", "motionAmount": 0.08}
        return {"type": "video", "source": {"url": body.url}}
    clip = body.clipId or (f"upload:{body.uploadName}" if body.uploadName else "")
    kind, _, value = clip.partition(":")
    if kind == "gradient" and value.isdigit() and int(value) < len(GRADIENTS):
        return {"type": "gradient", "colors": list(GRADIENTS[int(value)]), "angle": 180}
    if kind == "color" and value in CLIP_COLORS:
        return {"type": "color", "color": CLIP_COLORS[value]}
    if kind == "upload" and value in uploads:
        if uploads[value].startswith("image/"):
            return {"type": "image", "source": {"uploadName": value}, "motion": "zoom_in", "motionAmount": 0.08}
        return {"type": "video", "source": {"uploadName": value}}
    raise Invalid(f"no clip {clip or '(none)'}: send a clipId from GET …/clips, an uploadName or a url",
                  code="clip_not_found")


def _uploaded(projects: Projects, record: ProjectRecord) -> dict[str, str]:
    from reelforge.service.uploads import sniff

    found = {}
    for path in projects.uploads(record).iterdir():
        if path.is_file() and not path.name.startswith("."):
            with path.open("rb") as handle:
                found[path.name] = sniff(handle.read(64)) or ""
    return found


@edit_router.post("/scenes/{scene_id}/clip/select", summary="Swap a scene's clip")
async def select_clip(edit_token: str, scene_id: str, request: Request) -> JSONResponse:
    from reelforge.editing import operations as ops

    body = checked(ClipBody, await _json(request))
    projects = projects_of(request)
    record = await run_in_threadpool(projects.by_edit_token, edit_token)
    visual = _visual_for(body, _uploaded(projects, record))
    return await _edit(request, edit_token, ops.set_visual(scene_id, visual))


@edit_router.post("/clips/upload", summary="Upload a custom clip (multipart `file`, optional `sceneId`)")
async def upload_clip(edit_token: str, request: Request, engine: Engine = Depends(get_engine)) -> JSONResponse:
    """The file (video or image, checked by its bytes) joins the project's clips; with `sceneId`, that scene
    shows it at once."""
    from reelforge.editing import operations as ops

    projects = projects_of(request)
    record = await run_in_threadpool(projects.by_edit_token, edit_token)
    if media_type(request) != "multipart/form-data":
        raise Invalid("send multipart/form-data with a `file` part", code="invalid_request")
    draft = await run_in_threadpool(engine.open_draft, "upl")
    try:
        texts, _ = await read_multipart(request, draft, text_limit=256, total_limit=engine.settings.max_upload_bytes
                                        + 65536, text_parts=("sceneId",), file_parts=("file",))
        if len(draft.files) != 1:
            raise Invalid("send exactly one `file` part", code="invalid_request")
        (name, kind), = draft.files.items()
        if not kind.startswith(("video/", "image/")):
            raise Invalid(f"{name!r} is {kind}: a clip is a video or an image", code="unsupported_clip")
        await run_in_threadpool(projects.add_upload, record, name, draft.uploads / name)
    finally:
        draft.discard()
    scene_id = texts.get("sceneId", "").strip()
    if scene_id:
        visual = _visual_for(ClipBody(uploadName=name), _uploaded(projects, record))
        return await _edit(request, edit_token, ops.set_visual(scene_id, visual))
    return _answer({**edit_body(request, engine, record), "uploaded": {"clipId": f"upload:{name}"}})


@edit_router.post("/bgm/select", summary="Background music")
async def select_bgm(edit_token: str, request: Request) -> JSONResponse:
    """A preset mood composed offline (upbeat, calm, dramatic), or none to remove the music."""
    from reelforge.editing import operations as ops

    body = checked(BgmBody, await _json(request))
    music = None if body.preset == "none" else {"mood": body.preset, **({"volume": body.volume}
                                                                         if body.volume is not None else {})}
    return await _edit(request, edit_token, ops.set_music(music))


@edit_router.post("/sync-durations", summary="Sync durations (every narrated scene as long as its narration)")
async def sync_durations(edit_token: str, request: Request) -> JSONResponse:
    from reelforge.editing import operations as ops

    return await _edit(request, edit_token, ops.sync_durations())


async def _history(request: Request, edit_token: str, redo: bool) -> JSONResponse:
    engine: Engine = request.app.state.engine
    projects = projects_of(request)
    record = await run_in_threadpool(projects.by_edit_token, edit_token)

    def step(project):
        if redo:
            project.redo()
        else:
            project.undo()

    record = await run_in_threadpool(projects.change, record, step, if_match(request))
    return _answer(edit_body(request, engine, record))


@edit_router.post("/undo", summary="Undo the last edit (reelforge addition)")
async def undo(edit_token: str, request: Request) -> JSONResponse:
    return await _history(request, edit_token, redo=False)


@edit_router.post("/redo", summary="Redo (reelforge addition)")
async def redo(edit_token: str, request: Request) -> JSONResponse:
    return await _history(request, edit_token, redo=True)


preview_router = APIRouter(prefix=PREFIX, tags=["compat: TutorFlow"])


@preview_router.get("/{locale}/platform/videos/edit/{edit_token}", summary="The preview (the project's viewer)")
async def preview(locale: str, edit_token: str, request: Request) -> RedirectResponse:
    record = await run_in_threadpool(projects_of(request).by_edit_token, edit_token)
    return RedirectResponse(f"/share/{record.share_token}", status_code=307)


def resume(app) -> None:
    """At start-up: scenes that a stopped server was writing are written again (in the background)."""
    engine: Engine = app.state.engine
    projects: Projects = app.state.projects
    for record in projects.unfinished():
        body = CreateVideo.model_validate({k: v for k, v in record.request.items() if k != "idempotencyKey"})
        threading.Thread(target=projects.generate, args=(record, _write(engine, body, record)), daemon=True).start()


def install(app) -> None:
    engine: Engine = app.state.engine
    app.state.projects = Projects(engine, engine.settings.edit_token_seconds)
    errors.register_envelope(PREFIX + "/", error_envelope)
    app.include_router(router)
    app.include_router(edit_router)
    app.include_router(preview_router)
    app.state.on_start = [*getattr(app.state, "on_start", []), resume]

"""The share page, `GET /share/{token}`: a job's video for anyone holding the link (no key), served by the app
itself (no CDN, no build step): an HTML5 <video> seekable through Range requests, its captions as a <track>, the
scene list with each scene's narration and a poster frame, and the status updating while it renders.

A token is either a signed job link, `<job id>.<expires>.<signature>` (the HMAC the download links use, so it
expires with them), or a project's permanent share token (TutorFlow's `shareToken`), which shows the project's
latest render. Everything the page loads hangs under the token: `status`, `video`, `captions.vtt`,
`posters/<n>.jpg`.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from reelforge.service import Engine
from reelforge.service.errors import NotFound
from reelforge.service.jobs import Job

router = APIRouter(prefix="/share", tags=["share"])
ASSETS_URL = "/share-assets"
POSTER_WIDTH = 360


def static_folder() -> Path:
    return Path(str(files("reelforge_api") / "static"))


def share_url(engine: Engine, base: str, job_id: str) -> str:
    """A signed share link for a job, absolute on `base` (it expires with the job's download links)."""
    query, expires = engine.signed_query(job_id)
    return f"{base.rstrip('/')}/share/{engine.share_token(job_id, expires)}"


class Shared:
    """What a token shows: a title, the job (None before a project's first render), the scenes known so far."""

    def __init__(self, title: str, job: Job | None, scenes: list[dict[str, Any]], language: str = "en"):
        self.title = title
        self.job = job
        self.scenes = scenes
        self.language = language


def resolve(request: Request, token: str) -> Shared:
    """The token's job (and project): NotFound for a token that is not valid or has expired."""
    engine: Engine = request.app.state.engine
    parts = token.split(".")
    if len(parts) == 3 and parts[1].isdigit():
        job = engine.signed_job(parts[0], int(parts[1]), parts[2])
        document = _job_document(engine, job)
        return Shared(str(document.get("name") or job.id), job, _document_scenes(document),
                      str(document.get("language") or "en"))
    projects = getattr(request.app.state, "projects", None)
    found = projects.shared(token) if projects is not None else None
    if found is None:
        raise NotFound("this share link is not valid or has expired", code="link_expired")
    project, document = found
    job = engine.job(project.render_job_id) if project.render_job_id else None
    return Shared(project.title or document.get("name") or project.id, job, _document_scenes(document),
                  str(document.get("language") or "en"))


def _job_document(engine: Engine, job: Job) -> dict[str, Any]:
    path = engine.job_folder(job) / "job.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8")).get("document")
    except (OSError, ValueError):
        return {}
    if isinstance(document, dict) and "template" in document and isinstance(document["template"], dict):
        return document["template"]
    return document if isinstance(document, dict) else {}


def _document_scenes(document: dict[str, Any]) -> list[dict[str, Any]]:
    scenes = []
    for scene in document.get("scenes") or []:
        narration = scene.get("narration") or {}
        scenes.append({"id": scene.get("id"), "title": scene.get("title"),
                       "narration": narration.get("text") or narration.get("transcript") or ""})
    return scenes


def status_of(request: Request, token: str, shared: Shared) -> dict[str, Any]:
    """The page's state: status, progress, and (once completed) the video, captions and posters."""
    engine: Engine = request.app.state.engine
    job = shared.job
    base = f"{str(request.base_url).rstrip('/')}/share/{token}"
    scenes = shared.scenes
    state: dict[str, Any] = {"title": shared.title, "status": "not_rendered", "phase": None, "progress": 0,
                             "videoUrl": None, "captionsUrl": None, "error": None}
    if job is not None:
        state.update(status=job.status, phase=job.phase, progress=int(job.progress),
                     error=(job.error or {}).get("message"))
        if job.status == "completed" and not job.test:
            state["videoUrl"] = f"{base}/video"
            if "vtt" in (job.result or {}).get("captions", []):
                state["captionsUrl"] = f"{base}/captions.vtt"
            index = _scene_index(engine, job)
            if index is not None:
                scenes = [{**scene, "posterUrl": f"{base}/posters/{number}.jpg"} for number, scene in enumerate(index)]
    state["scenes"] = [{"id": s.get("id"), "title": s.get("title"), "narration": s.get("narration") or "",
                        "start": s.get("start"), "end": s.get("end"), "posterUrl": s.get("posterUrl")} for s in scenes]
    return state


def _scene_index(engine: Engine, job: Job) -> list[dict[str, Any]] | None:
    from reelforge.service.engine import SCENES_NAME

    path = engine.output_path(job, SCENES_NAME)
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@router.get("/{token}", response_class=HTMLResponse, summary="The share page (no key)")
async def share_page(token: str, request: Request) -> HTMLResponse:
    """The video, its captions, its scenes and its status, for anyone with the link."""
    shared = await run_in_threadpool(resolve, request, token)
    state = await run_in_threadpool(status_of, request, token, shared)
    return HTMLResponse(render_page(state, token, shared.language), headers={"Cache-Control": "no-store"})


@router.get("/{token}/status", summary="The share page's state (no key)")
async def share_status(token: str, request: Request) -> JSONResponse:
    shared = await run_in_threadpool(resolve, request, token)
    return JSONResponse(await run_in_threadpool(status_of, request, token, shared),
                        headers={"Cache-Control": "no-store"})


def _completed_job(request: Request, token: str) -> tuple[Engine, Job]:
    shared = resolve(request, token)
    if shared.job is None or shared.job.status != "completed":
        raise NotFound("the video is not rendered yet", code="no_output")
    return request.app.state.engine, shared.job


@router.get("/{token}/video", summary="The shared MP4 (Range requests work)")
def share_video(token: str, request: Request) -> FileResponse:
    engine, job = _completed_job(request, token)
    return FileResponse(engine.output_file(job, "video"), media_type="video/mp4", content_disposition_type="inline",
                        filename=f"{job.id}.mp4")


@router.get("/{token}/captions.vtt", summary="The shared captions (WebVTT)")
def share_captions(token: str, request: Request) -> FileResponse:
    engine, job = _completed_job(request, token)
    return FileResponse(engine.output_file(job, "vtt"), media_type="text/vtt; charset=utf-8")


@router.get("/{token}/posters/{number}.jpg", summary="A scene's poster frame")
def share_poster(token: str, number: int, request: Request) -> Response:
    engine, job = _completed_job(request, token)
    index = _scene_index(engine, job) or []
    if not 0 <= number < len(index):
        raise NotFound(f"no scene {number}", code="not_found")
    return FileResponse(poster(engine, job, index[number], number), media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=3600"})


def poster(engine: Engine, job: Job, scene: dict[str, Any], number: int) -> Path:
    """The scene's poster: the video's frame in the middle of the scene, made once (atomically) and kept."""
    from reelforge.fileio import atomic_output
    from reelforge.process import run_ffmpeg

    name = f"poster-{number}.jpg"
    found = engine.output_path(job, name)
    if found is not None:
        return found
    video = engine.output_file(job, "video")
    start, end = float(scene.get("start") or 0), float(scene.get("end") or 0)
    at = max((start + end) / 2, 0) if end > start else start
    target = video.parent / name
    with atomic_output(target, suffix=".jpg") as temp:
        run_ffmpeg(["-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1", "-vf", f"scale={POSTER_WIDTH}:-2",
                    "-q:v", "4", str(temp)], what="making a poster frame")
    return target


def render_page(state: dict[str, Any], token: str, language: str) -> str:
    """The page: everything it needs is in it or under /share-assets (served by this app)."""
    title = html.escape(state["title"])
    data = json.dumps({"token": token, "state": state}).replace("<", "\\u003c")
    return f"""<!doctype html>
<html lang="{html.escape(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{ASSETS_URL}/share.css">
</head>
<body>
<main>
<h1 id="title">{title}</h1>
<p id="status" class="status" data-status="{html.escape(state['status'])}" role="status" aria-live="polite"></p>
<div class="player"><video id="video" controls playsinline preload="auto"></video></div>
<p id="error" class="error" hidden></p>
<h2>Scenes</h2>
<ol id="scenes" class="scenes"></ol>
</main>
<script id="share-data" type="application/json">{data}</script>
<script src="{ASSETS_URL}/share.js"></script>
</body>
</html>
"""


def install(app) -> None:
    app.mount(ASSETS_URL, StaticFiles(directory=static_folder()), name="share-assets")
    app.include_router(router)

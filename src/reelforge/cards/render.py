"""Rendering a card to a cached video file: content key, a worker process running manim, atomic publish."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ValidationError

from reelforge.cards.errors import CardError
from reelforge.cards.registry import CardSpec, spec_for
from reelforge.fileio import atomic_output
from reelforge.model.theme import Theme
from reelforge.process import start_child, stop_child
from reelforge.workspace import Workspace, content_key

RENDERER_VERSION = "1"  # bump when rendered cards must change though no source file below did
FONT_PACKAGES = ("font-roboto", "font-source-serif-pro", "font-fjallaone")
ERROR_LINES = 12  # how much of the worker's stderr a CardError quotes
COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
SUFFIX = ".mov"  # QuickTime RLE, lossless RGB (opaque) or ARGB (transparent)


class Cancel(Protocol):
    @property
    def cancelled(self) -> bool: ...


def _manim_version() -> str:
    try:
        return version("manim")
    except PackageNotFoundError:
        raise CardError("manim is not installed: cards need `pip install 'reelforge[cards]'`") from None


@lru_cache(maxsize=1)
def _renderer_fingerprint() -> str:
    """What the drawing depends on besides the request: this package's code, manim, the font packages."""
    sources = sorted(Path(__file__).parent.glob("*.py"))
    code = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()
    fonts = []
    for package in FONT_PACKAGES:
        try:
            fonts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            fonts.append(f"{package} missing")
    return content_key(RENDERER_VERSION, code, _manim_version(), fonts)


def _check_request(spec: CardSpec, card: BaseModel, width: int, height: int, fps: int, frames: int,
                   background: str | None) -> BaseModel:
    if not isinstance(card, spec.model):
        try:  # a look-alike model with the same name: its data must be valid for the registered one
            card = spec.model.model_validate_json(card.model_dump_json(by_alias=True))
        except ValidationError as error:
            raise CardError(f"{spec.name} card: invalid fields: {error}", kind=spec.name) from None
    problems = []
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        problems.append(f"size {width}x{height} must be 16..8192 pixels each way")
    if background is not None and not COLOR.match(background):
        problems.append(f"background {background!r} must be a color as #rgb, #rgba, #rrggbb or #rrggbbaa")
    if not 1 <= fps <= 240:
        problems.append(f"fps {fps} must be 1..240")
    if frames < 1:
        problems.append(f"frames {frames} must be at least 1")
    if problems:
        raise CardError(f"{spec.name} card: " + "; ".join(problems), kind=spec.name)
    return card


def _request(spec: CardSpec, card: BaseModel, theme: Theme, width: int, height: int, fps: int, frames: int,
             transparent: bool, background: str | None) -> dict:
    return {
        "card": spec.name,
        "fields": card.model_dump_json(by_alias=True),
        "theme": theme.model_dump_json(by_alias=True),
        "width": width, "height": height, "fps": fps, "frames": frames,
        "transparent": transparent,
        "background": background or theme.background,
    }


def _cache_file(spec: CardSpec, request: dict, workspace: Workspace) -> Path:
    key = content_key("card", _renderer_fingerprint(), spec.source, spec.version,
                      json.loads(request["fields"]), json.loads(request["theme"]),
                      {k: v for k, v in request.items() if k not in ("fields", "theme")})
    return workspace.cache / "cards" / f"{key}{SUFFIX}"


def card_cache_path(card: BaseModel, theme: Theme, *, workspace: Workspace, width: int, height: int, fps: int,
                    frames: int, transparent: bool = False, background: str | None = None) -> Path:
    """Where `render_card` puts (or finds) this card in the workspace's cache; nothing is rendered."""
    spec = spec_for(card)
    card = _check_request(spec, card, width, height, fps, frames, background)
    return _cache_file(spec, _request(spec, card, theme, width, height, fps, frames, transparent, background), workspace)


_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def render_card(card: BaseModel, theme: Theme, *, workspace: Workspace, width: int, height: int, fps: int,
                frames: int, transparent: bool = False, background: str | None = None,
                cancel: Cancel | None = None) -> Path:
    """The card as a video of exactly `frames` frames at width×height and `fps`, rendered once and cached.

    Both variants are lossless QuickTime RLE in .mov: opaque cards are rgb24 on their background
    (`background`, else the theme's, as a soft gradient); transparent ones are argb with straight alpha, to
    overlay on a clip or image, and `background` colors the translucent panel behind their text. Blocks while a
    worker process renders: call it from a thread to render cards while ffmpeg works; `cancel.cancelled` stops
    the worker. Raises CardError (unknown card, invalid request, or the worker's failure with manim's last lines).
    """
    spec = spec_for(card)
    card = _check_request(spec, card, width, height, fps, frames, background)
    request = _request(spec, card, theme, width, height, fps, frames, transparent, background)
    target = _cache_file(spec, request, workspace)
    if target.is_file():
        return target
    with _lock_for(target):  # two threads asking for the same card render it once
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(target, suffix=target.suffix) as temp:
            # The output and the fonts folder are where this workspace keeps them: not part of the card's key.
            result = _run_worker({**request, "output": str(temp), "fonts": str(workspace.fonts)}, spec.name, cancel,
                                 workspace)
            if result.get("frames") != frames or not temp.is_file():
                raise CardError(f"{spec.name} card: the worker wrote {result.get('frames')} frames, expected {frames}",
                                kind=spec.name)
    return target


def _worker_env(workspace: Workspace) -> dict[str, str]:
    """The caller's environment, with its sys.path (so the worker sees the same reelforge and plug-ins)."""
    from reelforge.fonts import fontconfig_env

    env = fontconfig_env(workspace)  # Pango sees only reelforge's fonts
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run_worker(request: dict, kind: str, cancel: Cancel | None, workspace: Workspace) -> dict:
    command = [sys.executable, "-m", "reelforge.cards.worker", json.dumps(request)]
    process = start_child(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, encoding="utf-8", errors="replace", env=_worker_env(workspace))
    try:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel.cancelled:
                    stop_child(process)
                    process.communicate()
                    getattr(cancel, "raise_if_cancelled", lambda: None)()  # the pipeline's own cancel error
                    raise CardError(f"{kind} card: render cancelled", kind=kind) from None
    except BaseException:
        stop_child(process)
        raise
    if process.returncode != 0:
        tail = "\n".join(line for line in stderr.strip().splitlines()[-ERROR_LINES:])
        raise CardError(f"{kind} card failed to render (manim worker exit code {process.returncode})", kind=kind,
                        detail=tail)
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise CardError(f"{kind} card: the worker gave no result", kind=kind, detail=stderr[-2000:]) from None

"""Stage 4, render: backends that turn a timeline into a video, plus single frames and moviepy clips (`preview`).

Backends are registered by name; each is a function `(timeline, out, workspace, *, quality, on_progress, cancel,
subtitles, workers) -> RenderResult` in a module of its own, imported only when used. A new backend is one
module and one `register_backend` call.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from reelforge.errors import ReelforgeError

_BACKENDS: dict[str, str] = {
    "ffmpeg": "reelforge.renderers.ffmpeg.pipeline:render_timeline",  # the default: fast, cached by segment
    "moviepy": "reelforge.renderers.moviepy_backend:render_moviepy",  # the reference renderer
}


class Backend(Protocol):
    def __call__(self, timeline, out, workspace, *, quality: str, on_progress, cancel, subtitles: bool,
                 workers: int): ...


def register_backend(name: str, target: str) -> None:
    """Make `target` ("module:function") the backend called `name`."""
    _BACKENDS[name] = target


def backend_names() -> list[str]:
    return list(_BACKENDS)


def get_backend(name: str) -> Backend:
    """The backend registered as `name`; a ReelforgeError naming the known ones otherwise."""
    if name not in _BACKENDS:
        raise ReelforgeError(f"unknown backend {name!r}: use one of {', '.join(_BACKENDS)}")
    module, _, function = _BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), function)

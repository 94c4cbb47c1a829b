"""reelforge: offline-first toolkit for narrated short videos.

    from reelforge import render
    result = render("project.json", "out.mp4", on_progress=print)

Heavy parts (ffmpeg, TTS) load only when first used: importing reelforge stays cheap.
"""

from importlib.metadata import PackageNotFoundError, version as _version
from typing import Any

try:
    __version__ = _version("reelforge")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

_LAZY = {
    "render": ("reelforge.render.pipeline", "render"),
    "RenderResult": ("reelforge.render.pipeline", "RenderResult"),
    "Progress": ("reelforge.render.pipeline", "Progress"),
    "CancelToken": ("reelforge.render.process", "CancelToken"),
    "load_document": ("reelforge.loader", "load_document"),
    "Project": ("reelforge.project", "Project"),
    "to_moviepy": ("reelforge.preview", "to_moviepy"),
    "frame_png": ("reelforge.preview", "frame_png"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'reelforge' has no attribute {name!r}")

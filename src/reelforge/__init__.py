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
    "render": ("reelforge.renderers.ffmpeg.pipeline", "render"),
    "RenderResult": ("reelforge.renderers.ffmpeg.pipeline", "RenderResult"),
    "Progress": ("reelforge.renderers.ffmpeg.pipeline", "Progress"),
    "CancelToken": ("reelforge.process", "CancelToken"),
    "load_document": ("reelforge.document.loader", "load_document"),
    "Project": ("reelforge.editing.project", "Project"),
    "edit": ("reelforge.editing.operations", None),
    "to_moviepy": ("reelforge.renderers.preview", "to_moviepy"),
    "frame_png": ("reelforge.renderers.preview", "frame_png"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        loaded = importlib.import_module(module)
        return loaded if attribute is None else getattr(loaded, attribute)
    raise AttributeError(f"module 'reelforge' has no attribute {name!r}")

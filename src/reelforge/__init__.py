"""reelforge: offline-first toolkit for narrated short videos.

    from reelforge import CancelToken, render
    result = render("project.json", "out.mp4", on_progress=print, cancel=CancelToken())

The stages, each a folder: `document` (read and check what the user wrote; the model is `reelforge.model`),
`resolve` (assets, narration, music), `timeline` (frame-exact tracks), `renderers` (ffmpeg, moviepy, frames);
`editing` changes documents; `job` is the one seam every front end renders through. Heavy parts (ffmpeg,
TTS, manim) load only when first used: importing reelforge stays cheap.
"""

from typing import Any


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reelforge")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0+local"


# Public name -> (module, attribute); attribute None: the module itself. No public name is also a subpackage's
# name, so `from reelforge import render` always gives the function.
_LAZY: dict[str, tuple[str, str | None]] = {
    "render": ("reelforge.job", "render"),
    "run": ("reelforge.job", "run"),
    "prepare": ("reelforge.job", "prepare"),
    "RenderJob": ("reelforge.job", "RenderJob"),
    "Workspace": ("reelforge.workspace", "Workspace"),
    "RenderResult": ("reelforge.progress", "RenderResult"),
    "Progress": ("reelforge.progress", "Progress"),
    "CancelToken": ("reelforge.progress", "CancelToken"),
    "ReelforgeError": ("reelforge.errors", "ReelforgeError"),
    "DocumentError": ("reelforge.errors", "DocumentError"),
    "EditError": ("reelforge.errors", "EditError"),
    "RenderError": ("reelforge.errors", "RenderError"),
    "RenderCancelled": ("reelforge.errors", "RenderCancelled"),
    "MediaError": ("reelforge.resolve.media", "MediaError"),
    "load_document": ("reelforge.document.loader", "load_document"),
    "Project": ("reelforge.editing.project", "Project"),
    "edit": ("reelforge.editing.operations", None),
    "to_moviepy": ("reelforge.renderers.preview", "to_moviepy"),
    "frame_png": ("reelforge.renderers.preview", "frame_png"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the installed metadata on first use (importlib.metadata is slow to load)
        globals()[name] = _installed_version()
        return globals()[name]
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        loaded = importlib.import_module(module)
        value = loaded if attribute is None else getattr(loaded, attribute)
        globals()[name] = value  # later lookups (and `from reelforge import name`) find it directly
        return value
    raise AttributeError(f"module 'reelforge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

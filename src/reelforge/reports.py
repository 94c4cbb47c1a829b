"""Errors, progress and results as plain JSON-able data: one shape for `render --progress json` and the service.

An error becomes `{code, message, path}`: `path` is the JSON path of the document value at fault (None when the
fault is not in the document), `message` the one line a user reads, `code` a stable word a program matches on.
"""

from __future__ import annotations

import re
from typing import Any

from reelforge.errors import DocumentError, EditError, ReelforgeError, RenderCancelled, RenderError
from reelforge.progress import Progress, RenderResult

# A JSON path at the start of a message: `scenes[0].visual.source.url: ...`, `music.source: ...`.
_LEADING_PATH = re.compile(r"^((?:scenes|blocks|music|voice|output|captions|theme|template|name|version|duration|"
                           r"assetsDir|metadata)(?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)*): (.+)$", re.DOTALL)
_REFUSED_WORDS = ("not accepted here", "leads outside", "outside the media folder", "is a loopback, private",
                  "only http", "redirects to", "is refused")


def split_path(message: str) -> tuple[str | None, str]:
    """(the JSON path a message starts with, the rest), or (None, message)."""
    match = _LEADING_PATH.match(message)
    return (match.group(1), match.group(2)) if match else (None, message)


def error_code(error: BaseException) -> str:
    from reelforge.resolve.media import MediaError

    if isinstance(error, DocumentError):
        return "invalid_document"
    if isinstance(error, RenderCancelled):
        return "cancelled"
    if isinstance(error, MediaError):
        return "source_refused" if any(word in str(error) for word in _REFUSED_WORDS) else "media_error"
    if isinstance(error, EditError):
        return "edit_refused"
    if isinstance(error, RenderError):
        return "render_failed"
    if isinstance(error, ReelforgeError):
        name = type(error).__name__.removesuffix("Error")
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower() + "_error" if name else "error"
    return "internal_error"


def error_report(error: BaseException) -> dict[str, Any]:
    """`{code, message, path, exitCode}` of an error (an internal one says no more than its kind)."""
    code = error_code(error)
    if isinstance(error, DocumentError):
        first = error.problems[0] if error.problems else None
        path = first.path if first is not None and first.path else None
        message = first.message if first is not None else str(error)
        if len(error.problems) > 1:
            message += f" (and {len(error.problems) - 1} more)"
    elif isinstance(error, ReelforgeError):
        path, message = split_path(str(error))
    else:
        path, message = None, f"internal error: {type(error).__name__}"
    exit_code = getattr(error, "exit_code", 1)
    return {"code": code, "message": " ".join(message.split()), "path": path, "exitCode": exit_code}


def progress_report(progress: Progress) -> dict[str, Any]:
    eta = progress.eta_seconds
    return {"type": "progress", "stage": progress.stage, "fraction": round(progress.fraction, 4),
            "etaSeconds": round(eta, 1) if eta is not None else None}


def result_report(result: RenderResult, seconds: float | None = None) -> dict[str, Any]:
    return {"type": "result", "path": str(result.path), "duration": round(result.duration, 3), "width": result.width,
            "height": result.height, "sizeBytes": result.size_bytes, "cacheHits": result.cache_hits,
            "cacheMisses": result.cache_misses, **({"seconds": round(seconds, 2)} if seconds is not None else {})}

"""Single frames and moviepy clips of a document, without rendering the video."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from reelforge.workspace import cache_root
from reelforge.errors import ReelforgeError
from reelforge.model import Document


def frame_png(document_or_path: str | Path | dict | Document, at_seconds: float, out_path: str | Path, *,
              assets: str | Path | None = None, quality: str | None = None,
              base_dir: str | Path | None = None) -> Path:
    """Compose the frame shown at `at_seconds` and write it as PNG (atomically)."""
    from PIL import Image

    from reelforge.fileio import write_atomic
    from reelforge.renderers.compose import Compositor
    from reelforge.renderers.ffmpeg.pipeline import prepare_timeline

    timeline = prepare_timeline(document_or_path, assets=assets, quality=quality, base_dir=base_dir)
    duration = float(timeline.duration)
    if not 0 <= at_seconds <= duration:
        raise ReelforgeError(f"--at {at_seconds:g} s is outside the video (0 to {duration:.2f} s)")
    index = min(timeline.rate.frames(at_seconds, rounding="floor"), timeline.frames - 1)
    workdir = Path(tempfile.mkdtemp(prefix="frame-", dir=_work_root()))
    compositor = Compositor(timeline, workdir)
    try:
        pixels = compositor.frame(index)
    finally:
        compositor.close()
        shutil.rmtree(workdir, ignore_errors=True)
    import io

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    out = Path(out_path)
    write_atomic(out, buffer.getvalue())
    return out


def to_moviepy(document_or_path: str | Path | dict | Document, *, assets: str | Path | None = None,
               quality: str | None = None, with_audio: bool = True, base_dir: str | Path | None = None):
    """A moviepy VideoClip of the document, to embed in a moviepy composition.

    Frames are composed on demand; call `clip.close()` and `clip.compositor.close()` when done."""
    from reelforge.renderers.moviepy_backend import timeline_clip
    from reelforge.renderers.ffmpeg.pipeline import prepare_timeline

    timeline = prepare_timeline(document_or_path, assets=assets, quality=quality, base_dir=base_dir)
    workdir = Path(tempfile.mkdtemp(prefix="moviepy-clip-", dir=_work_root()))
    return timeline_clip(timeline, workdir, with_audio=with_audio)


def _work_root() -> Path:
    root = cache_root() / "work"
    root.mkdir(parents=True, exist_ok=True)
    return root

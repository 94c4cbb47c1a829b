"""Single frames and moviepy clips of a document, without rendering the video (both through the render seam)."""

from __future__ import annotations

import io
from pathlib import Path

from reelforge.errors import UsageError
from reelforge.job import RenderJob, prepare
from reelforge.workspace import Workspace


def render_frame(job: RenderJob, at_seconds: float, out_path: str | Path, workspace: Workspace) -> Path:
    """Compose the frame of `job`'s document shown at `at_seconds` and write it as PNG (atomically)."""
    from PIL import Image

    from reelforge.fileio import write_atomic
    from reelforge.renderers.compose import Compositor

    timeline = prepare(job, workspace).timeline
    duration = float(timeline.duration)
    if not 0 <= at_seconds <= duration:
        raise UsageError(f"--at {at_seconds:g} s is outside the video, which lasts {duration:.2f} s "
                         f"(give 0 to {duration:.2f})")
    index = min(timeline.rate.frames(at_seconds, rounding="floor"), timeline.frames - 1)
    with workspace.work_folder("frame-") as workdir:
        compositor = Compositor(timeline, workdir, workspace)
        try:
            pixels = compositor.frame(index)
        finally:
            compositor.close()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    out = Path(out_path)
    write_atomic(out, buffer.getvalue())
    return out


def frame_png(document_or_path, at_seconds: float, out_path: str | Path, *, assets: str | Path | None = None,
              quality: str | None = None, base_dir: str | Path | None = None,
              workspace: Workspace | None = None) -> Path:
    """The frame shown at `at_seconds` as a PNG file (see `reelforge.render` for the arguments)."""
    job = RenderJob.of(document_or_path, assets=assets, base_dir=base_dir, quality=quality)
    return render_frame(job, at_seconds, out_path, workspace or Workspace.from_environment())


def to_moviepy(document_or_path, *, assets: str | Path | None = None, quality: str | None = None,
               with_audio: bool = True, base_dir: str | Path | None = None, workspace: Workspace | None = None):
    """A moviepy VideoClip of the document, to put in a moviepy composition: frames are composed on demand and
    the audio is the renderer's own mix (ducked, loudness-normalized).

        with to_moviepy("project.json") as reel:
            CompositeVideoClip([reel, badge]).write_videofile("out.mp4", fps=30)

    Closing the clip (the `with` block, `close()`, or garbage collection) frees its compositor and work folder."""
    from reelforge.renderers.moviepy_backend import timeline_clip

    workspace = workspace or Workspace.from_environment()
    job = RenderJob.of(document_or_path, assets=assets, base_dir=base_dir, quality=quality)
    return timeline_clip(prepare(job, workspace).timeline, workspace, with_audio=with_audio)

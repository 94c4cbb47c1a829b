"""The moviepy backend: the reference renderer, single frames, and clips to embed in moviepy programs.

It reads the same Timeline as the ffmpeg backend and draws it with the numpy compositor; audio comes
from the shared audio pass (mix, ducking, loudness), so both backends sound the same.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from reelforge.workspace import cache_root
from reelforge.renderers.compose import Compositor
from reelforge.renderers.ffmpeg.audio import render_audio
from reelforge.renderers.ffmpeg.video import ENCODER
from reelforge.process import CancelToken, RenderCancelled
from reelforge.timeline import Timeline


def timeline_clip(timeline: Timeline, workdir: Path, *, with_audio: bool = True):
    """A moviepy VideoClip of the timeline (frames composed on demand); `clip.compositor` to close."""
    from moviepy import AudioFileClip, VideoClip

    compositor = Compositor(timeline, workdir)
    fps = float(timeline.rate.value)

    def frame_function(t: float):
        # Half a frame of tolerance: moviepy asks for t = n / fps in floating point.
        return compositor.frame(int(t * fps + 1e-6))

    clip = VideoClip(frame_function=frame_function, duration=float(timeline.duration)).with_fps(fps)
    if with_audio and timeline.audio:
        audio_path = workdir / "audio.m4a"
        if not audio_path.exists():
            render_audio(timeline, workdir, audio_path)
        clip = clip.with_audio(AudioFileClip(str(audio_path)).with_duration(float(timeline.duration)))
    clip.compositor = compositor  # type: ignore[attr-defined]
    return clip


def render_moviepy(
    timeline: Timeline,
    out: Path,
    *,
    quality: str = "web",
    on_progress: Callable | None = None,
    cancel: CancelToken | None = None,
):
    """Render with moviepy's write_videofile into a temp file, then rename it over `out`."""
    from proglog import ProgressBarLogger

    from reelforge.renderers.ffmpeg.pipeline import Progress, RenderResult

    cancel = cancel or CancelToken()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work_root = cache_root() / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="moviepy-", dir=work_root))
    temp_out = out.with_name(f".{out.name}.{os.getpid()}.partial.mp4")
    started = time.monotonic()

    class _Logger(ProgressBarLogger):
        def bars_callback(self, bar, attr, value, old_value=None):
            cancel.raise_if_cancelled()
            if on_progress is not None and bar == "frame_index" and attr == "index":
                fraction = min(value / max(timeline.frames, 1), 1.0)
                elapsed = time.monotonic() - started
                eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
                on_progress(Progress(fraction, "video", eta))

    clip = None
    try:
        clip = timeline_clip(timeline, workdir)
        preset, crf = ENCODER[quality]
        clip.write_videofile(
            str(temp_out), fps=float(timeline.rate.value), codec="libx264", preset=preset, audio_codec="aac",
            audio_bitrate="192k", threads=2, ffmpeg_params=["-pix_fmt", "yuv420p", "-crf", str(crf), "-movflags", "+faststart"],
            logger=_Logger(), temp_audiofile_path=str(workdir),
        )
        cancel.raise_if_cancelled()
        os.replace(temp_out, out)
        return RenderResult(out, float(timeline.duration), timeline.width, timeline.height, out.stat().st_size,
                            {"moviepy": time.monotonic() - started}, 0, 0)
    except KeyboardInterrupt:
        raise RenderCancelled("render interrupted") from None
    finally:
        if clip is not None:
            clip.compositor.close()
            clip.close()
        temp_out.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)

"""The moviepy backend: the reference renderer, and clips to embed in moviepy programs.

It reads the same Timeline as the ffmpeg backend and draws it with the numpy compositor; audio comes
from the shared audio pass (mix, ducking, loudness), so both backends sound the same.
"""

from __future__ import annotations

import time
import weakref
from pathlib import Path

from reelforge.errors import RenderCancelled
from reelforge.fileio import atomic_output, sweep_partials
from reelforge.progress import CancelToken, Progress, ProgressCallback, RenderResult
from reelforge.renderers.compose import Compositor
from reelforge.renderers.ffmpeg.audio import render_audio
from reelforge.renderers.ffmpeg.video import ENCODER
from reelforge.timeline import Timeline
from reelforge.workspace import WorkFolder, Workspace


def timeline_clip(timeline: Timeline, workspace: Workspace, *, with_audio: bool = True):
    """A moviepy VideoClip of the timeline, its frames composed on demand.

    Use it as a context manager (`with timeline_clip(...) as clip:`) or call `clip.close()`: that ends the
    compositor and removes the clip's work folder (garbage collection does so too, for a clip never closed)."""
    from moviepy import AudioFileClip, VideoClip

    folder = workspace.work_folder("moviepy-clip-")
    workdir = folder.path
    try:
        compositor = Compositor(timeline, workdir, workspace)
    except BaseException:
        folder.release()
        raise
    fps = float(timeline.rate.value)

    def frame_function(t: float):
        # Half a frame of tolerance: moviepy asks for t = n / fps in floating point.
        return compositor.frame(int(t * fps + 1e-6))

    class ReelClip(VideoClip):
        """A reelforge timeline as a moviepy clip; closing it (or any copy of it) frees the compositor and its
        work folder."""

        def close(self) -> None:
            super().close()
            _release(compositor, folder)

    clip = ReelClip(frame_function=frame_function, duration=float(timeline.duration)).with_fps(fps)
    # Copies of the clip (moviepy's with_* methods make them) share the compositor: the work folder goes when
    # the last of them is gone, if no one closed them.
    weakref.finalize(compositor, folder.release)
    if with_audio and timeline.audio:
        audio_path = workdir / "audio.m4a"
        try:
            render_audio(timeline, workdir, audio_path)
        except BaseException:
            _release(compositor, folder)
            raise
        clip = clip.with_audio(AudioFileClip(str(audio_path)).with_duration(float(timeline.duration)))
    clip.compositor = compositor  # type: ignore[attr-defined]
    return clip


def _release(compositor: Compositor, folder: WorkFolder) -> None:
    compositor.close()
    folder.release()


def render_moviepy(
    timeline: Timeline,
    out: Path,
    workspace: Workspace,
    *,
    quality: str = "web",
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    **_options: object,
) -> RenderResult:
    """Render with moviepy's write_videofile into a temp file, then rename it over `out`. Captions are burned in
    (as they are by the ffmpeg backend); there is no separate subtitle track, and `workers` does not apply."""
    from proglog import ProgressBarLogger

    cancel = cancel or CancelToken()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_partials(out.parent, out.name)
    workspace.sweep_work()
    started = time.monotonic()

    class _Logger(ProgressBarLogger):
        def bars_callback(self, bar, attr, value, old_value=None):
            cancel.raise_if_cancelled()
            if on_progress is not None and bar == "frame_index" and attr == "index":
                fraction = min(value / max(timeline.frames, 1), 1.0)
                elapsed = time.monotonic() - started
                eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
                on_progress(Progress(fraction, "video", eta))

    try:
        with workspace.work_folder("moviepy-") as workdir, atomic_output(out, suffix=".mp4") as temp_out, \
                timeline_clip(timeline, workspace) as clip:
            preset, crf = ENCODER[quality]
            clip.write_videofile(
                str(temp_out), fps=float(timeline.rate.value), codec="libx264", preset=preset, audio_codec="aac",
                audio_bitrate="192k", threads=2,
                ffmpeg_params=["-pix_fmt", "yuv420p", "-crf", str(crf), "-movflags", "+faststart"],
                logger=_Logger(), temp_audiofile_path=str(workdir),
            )
            cancel.raise_if_cancelled()
        return RenderResult(out, float(timeline.duration), timeline.width, timeline.height, out.stat().st_size,
                            {"moviepy": time.monotonic() - started}, 0, 0)
    except KeyboardInterrupt:
        raise RenderCancelled("render interrupted") from None

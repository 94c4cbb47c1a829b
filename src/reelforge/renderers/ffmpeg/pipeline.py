"""render(): document → resolve → timeline → ffmpeg segments (cached) + audio pass → MP4, atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from reelforge.workspace import cache_root, content_key, file_fingerprint
from reelforge.errors import ReelforgeError
from reelforge.timeline.captions import write_sidecar
from reelforge.timeline.compile import compile_timeline
from reelforge.fonts import fonts_dir
from reelforge.document.loader import load_document
from reelforge.model import Document
from reelforge.renderers.ffmpeg.audio import AUDIO_VERSION, LIMITER, TARGET_LUFS, aac_args, mix_graph, render_audio
from reelforge.renderers.card_layers import card_layers, render_missing_cards, with_card_files
from reelforge.renderers.ffmpeg.video import piece_path, run_command, run_inputs, segment_identity
from reelforge.process import CancelToken, RenderCancelled, RenderError, run_ffmpeg
from reelforge.renderers.ffmpeg.segments import plan_runs, plan_segments
from reelforge.resolve.resolver import resolve
from reelforge.timebase import seconds_str
from reelforge.timeline import Timeline

PIPELINE_VERSION = "5"
# ffmpeg processes encoding video at once (each runs x264 on several threads)
VIDEO_WORKERS = 2


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0..1 of the whole render
    stage: str
    eta_seconds: float | None


@dataclass
class RenderResult:
    path: Path
    duration: float
    width: int
    height: int
    size_bytes: int
    timings: dict[str, float] = field(default_factory=dict)
    cache_hits: int = 0
    cache_misses: int = 0


class _ProgressTracker:
    """Turns per-task frame counts into one fraction with an ETA; thread-safe."""

    def __init__(self, weights: dict[str, float], callback: Callable[[Progress], None] | None):
        self.weights = weights
        self.done = {key: 0.0 for key in weights}
        self.total = sum(weights.values()) or 1.0
        self.callback = callback
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.last_emit = 0.0

    def update(self, key: str, amount: float, stage: str, force: bool = False) -> None:
        with self.lock:
            self.done[key] = min(amount, self.weights.get(key, amount))
            fraction = min(sum(self.done.values()) / self.total, 1.0)
            now = time.monotonic()
            if self.callback is None or (not force and now - self.last_emit < 0.1):
                return
            self.last_emit = now
            elapsed = now - self.started
            eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
            self.callback(Progress(fraction, stage, eta))


def prepare_timeline(
    document_or_path: str | Path | dict | Document,
    *,
    assets: str | Path | None = None,
    quality: str | None = None,
    timings: dict[str, float] | None = None,
    base_dir: str | Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Timeline:
    """Load, resolve (assets, TTS) and compile a document: what every backend starts from.

    `base_dir`: where a dict or Document's relative paths resolve (a file's own folder otherwise)."""
    timings = {} if timings is None else timings
    clock = time.monotonic()
    assets_path = Path(assets) if assets else None
    loaded = load_document(document_or_path, assets=assets_path, base_dir=Path(base_dir) if base_dir else None)
    if quality is not None:
        output = loaded.document.output.model_copy(update={"quality": quality})
        loaded.document = loaded.document.model_copy(update={"output": output})
    on_step = (lambda step: on_progress(Progress(0.0, step, None))) if on_progress else None
    resolved = resolve(loaded, assets=assets_path, on_step=on_step)
    timings["resolve"] = time.monotonic() - clock
    clock = time.monotonic()
    timeline = compile_timeline(resolved)
    timings["compile"] = time.monotonic() - clock
    timeline.quality = loaded.document.output.quality
    return timeline


def render(
    document_or_path: str | Path | dict | Document,
    out_path: str | Path,
    *,
    assets: str | Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    quality: str | None = None,
    subtitles: bool = True,
    backend: str = "ffmpeg",
    workers: int = VIDEO_WORKERS,
    base_dir: str | Path | None = None,
) -> RenderResult:
    """Render a document to an MP4 at `out_path`. The output appears only when complete.

    backend: "ffmpeg" (default, fast, cached by segment) or "moviepy" (the reference renderer).
    workers: ffmpeg processes encoding video at once (each uses every core; more only splits the work finer)."""
    if backend not in BACKENDS:
        raise ReelforgeError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    timings: dict[str, float] = {}
    if cancel:
        cancel.raise_if_cancelled()
    timeline = prepare_timeline(document_or_path, assets=assets, quality=quality, timings=timings,
                                base_dir=base_dir, on_progress=on_progress)
    if cancel:
        cancel.raise_if_cancelled()
    out = Path(out_path).resolve()
    if backend == "moviepy":
        from reelforge.renderers.moviepy_backend import render_moviepy

        result = render_moviepy(timeline, out, quality=timeline.quality, on_progress=on_progress, cancel=cancel)
    else:
        result = render_timeline(timeline, out, quality=timeline.quality, on_progress=on_progress,
                                 cancel=cancel, subtitles=subtitles, workers=workers)
    result.timings = {**timings, **result.timings}
    return result


BACKENDS = ("ffmpeg", "moviepy")


def render_timeline(
    timeline: Timeline,
    out: Path,
    *,
    quality: str = "web",
    on_progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    subtitles: bool = True,
    workers: int = VIDEO_WORKERS,
) -> RenderResult:
    """The ffmpeg backend: segments (cached by content) and the audio pass, then one mux into `out`."""
    cancel = cancel or CancelToken()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    segment_dir = cache_root() / "segments"
    segment_dir.mkdir(parents=True, exist_ok=True)
    work_root = cache_root() / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="render-", dir=work_root))
    timings: dict[str, float] = {}
    hits = misses = 0
    temp_out: Path | None = None
    card_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="card")
    try:
        timeline = with_card_files(timeline)
        fonts = fonts_dir()
        segments = plan_segments(timeline)
        cached_paths: list[Path] = []
        inputs_of: list[list[str]] = []
        fingerprints: dict[Path, str] = {}
        for segment in segments:
            identity, inputs = segment_identity(timeline, segment, fonts, quality)
            key = content_key(PIPELINE_VERSION, quality, timeline.width, timeline.height, timeline.rate.ffmpeg(),
                              identity, inputs, _fingerprints(inputs, fingerprints))
            cached_paths.append(segment_dir / f"{key}.mp4")
            inputs_of.append(inputs)

        audio_key = _audio_key(timeline)
        audio_cached = cache_root() / "audio" / f"{audio_key}.m4a"
        audio_cached.parent.mkdir(parents=True, exist_ok=True)
        pending = [index for index, path in enumerate(cached_paths) if not path.is_file()]
        runs = plan_runs(segments, pending, max(workers, 1), inputs=lambda chosen: run_inputs(timeline, chosen))
        # Runs side by side split the cores between their encoders (fewer frames in flight, less memory).
        at_once = min(len(runs), max(workers, 1))
        x264_threads = max((os.cpu_count() or 2) // at_once, 1) if at_once > 1 else None
        needed_cards = {Path(value) for index in pending for before, value in zip(inputs_of[index], inputs_of[index][1:])
                        if before == "-i"}
        card_futures = {path: future for path, future in render_missing_cards(timeline, card_pool, cancel).items()
                        if path in needed_cards}
        hits = len(segments) - len(pending) + (1 if audio_cached.is_file() else 0)
        misses = len(pending) + (0 if audio_cached.is_file() else 1)
        weights = {f"run{run[0]}": float(sum(segments[i].range.duration for i in run)) for run in runs}
        weights["audio"] = 0.0 if audio_cached.is_file() else max(timeline.frames * 0.03, 1.0)
        weights["mux"] = max(timeline.frames * 0.02, 1.0)
        card_frames = {layer.visual.path: layer.range.duration for layer in card_layers(timeline)}
        for path in card_futures:
            weights[f"card{path.name}"] = card_frames[path] * 0.5
        tracker = _ProgressTracker(weights, on_progress)
        tracker.update("mux", 0, "starting", force=True)

        for path, future in card_futures.items():
            future.add_done_callback(lambda _f, key=f"card{path.name}": tracker.update(key, weights[key], "cards"))

        def render_run(run: list[int]) -> None:
            key = f"run{run[0]}"
            for index in run:  # the cards it shows must be rendered first
                for before, value in zip(inputs_of[index], inputs_of[index][1:]):
                    if before == "-i" and Path(value) in card_futures:
                        card_futures[Path(value)].result()
            folder = workdir / key
            folder.mkdir()
            chosen = [segments[index] for index in run]
            args = run_command(timeline, chosen, folder, fonts, quality, threads=x264_threads)
            run_ffmpeg(args, cwd=folder, cancel=cancel, on_frame=lambda n: tracker.update(key, n, "video"),
                       what=f"video, frames {chosen[0].range.start}-{chosen[-1].range.end}")
            for number, index in enumerate(run):
                piece = piece_path(folder, number)
                if not piece.is_file():
                    raise RenderError(f"video, frames {chosen[0].range.start}-{chosen[-1].range.end}: "
                                      f"ffmpeg wrote no piece for frame {segments[index].range.start}")
                _publish(piece, cached_paths[index])
            tracker.update(key, weights[key], "video")

        def render_audio_pass() -> None:
            if audio_cached.is_file():
                return
            folder = workdir / "audio"
            folder.mkdir()
            render_audio(timeline, folder, folder / "audio.m4a", cancel)
            _publish(folder / "audio.m4a", audio_cached)
            tracker.update("audio", weights["audio"], "audio")

        clock = time.monotonic()
        # The audio pass is light and runs beside the video runs rather than taking a video worker's turn.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audio") as audio_pool, \
                ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="video") as pool:
            futures = [audio_pool.submit(render_audio_pass)] + [pool.submit(render_run, run) for run in runs]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                cancel.cancel()
                raise
        timings["video_audio"] = time.monotonic() - clock

        clock = time.monotonic()
        concat_list = workdir / "segments.txt"
        concat_list.write_text("".join(f"file '{_concat_escape(path)}'\n" for path in cached_paths), encoding="utf-8")
        mux_inputs = ["-f", "concat", "-safe", "0", "-i", str(concat_list), "-i", str(audio_cached)]
        maps = ["-map", "0:v:0", "-map", "1:a:0"]
        if subtitles and timeline.cues:
            srt = workdir / "captions.srt"
            write_sidecar(timeline.cues, timeline.rate, srt)
            mux_inputs += ["-i", str(srt)]
            maps += ["-map", "2:s:0", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng",
                     "-metadata:s:s:0", "title=Captions"]
        temp_out = out.with_name(f".{out.name}.{os.getpid()}.partial.mp4")
        run_ffmpeg([*mux_inputs, *maps, "-c:v", "copy", "-c:a", "copy", "-t", seconds_str(timeline.duration),
                    "-movflags", "+faststart", "-metadata", f"title={timeline.name}", "-f", "mp4", str(temp_out)],
                   cwd=workdir, cancel=cancel, what="mux")
        cancel.raise_if_cancelled()
        os.replace(temp_out, out)
        temp_out = None
        timings["mux"] = time.monotonic() - clock
        tracker.update("mux", weights["mux"], "done", force=True)
        return RenderResult(out, float(timeline.duration), timeline.width, timeline.height, out.stat().st_size,
                            timings, hits, misses)
    except KeyboardInterrupt:
        cancel.cancel()
        raise RenderCancelled("render interrupted") from None
    finally:
        card_pool.shutdown(wait=True, cancel_futures=True)
        if temp_out is not None:
            temp_out.unlink(missing_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


def _publish(tmp: Path, cached: Path) -> None:
    """Move a finished piece into the cache atomically (same filesystem: the cache root)."""
    os.replace(tmp, cached)


def _concat_escape(path: Path) -> str:
    return str(path).replace("'", "'\\''")


def _fingerprints(args: list[str], known: dict[Path, str] | None = None) -> list[str]:
    """Content fingerprints of every input file named in ffmpeg arguments (cards are named by their content
    already, and may not be rendered yet). `known`: fingerprints taken already in this render (a clip opened
    by many segments is read once)."""
    cards = cache_root() / "cards"
    known = {} if known is None else known
    prints = []
    for before, value in zip(args, args[1:]):
        path = Path(value)
        if before == "-i" and path.parent != cards and path.is_file():
            if path not in known:
                known[path] = file_fingerprint(path)
            prints.append(known[path])
    return prints


def _audio_key(timeline: Timeline) -> str:
    inputs, graph = mix_graph(timeline)
    return content_key(PIPELINE_VERSION, AUDIO_VERSION, LIMITER, TARGET_LUFS, aac_args(timeline.quality), graph, inputs,
                       _fingerprints(inputs))

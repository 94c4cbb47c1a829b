"""The ffmpeg backend: the timeline cut into segments cached by content, the missing ones rendered as runs of one
ffmpeg graph each, an audio pass beside them, then one mux into the output, written atomically.

`plan_video` makes the plan (keys, and the runs as plain `runs.RunSpec`s); a `runs.RunExecutor` executes the runs
(here by default, or on a cluster's workers) and the pieces come back into this workspace's cache; the cards, the
audio pass and the mux run here.

A piece's key is made of what made it, never of where it lies: the graph (with the fonts folder as a
placeholder), the input arguments with every file replaced by its content hash (cards, which may not be
rendered yet, by their content-addressed names), and the fonts' content.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from reelforge.errors import RenderCancelled, RenderError
from reelforge.fileio import atomic_output, sweep_partials
from reelforge.fonts import fontconfig_env, fonts_dir, fonts_fingerprint
from reelforge.process import run_ffmpeg
from reelforge.progress import CancelToken, ProgressCallback, ProgressTracker, RenderResult
from reelforge.renderers.card_layers import card_layers, render_missing_cards, with_card_files
from reelforge.renderers.ffmpeg.audio import AUDIO_VERSION, LIMITER, TARGET_LUFS, aac_args, mix_graph, render_audio
from reelforge.renderers.ffmpeg.mp4join import JoinError, join_pieces
from reelforge.renderers.ffmpeg.runs import LocalRuns, RunExecutor, RunSpec, plan_run, x264_threads
from reelforge.renderers.ffmpeg.segments import Segment, plan_runs, plan_segments
from reelforge.renderers.ffmpeg.video import run_inputs, segment_identity
from reelforge.timebase import seconds_str
from reelforge.timeline import Timeline
from reelforge.timeline.captions import write_sidecar
from reelforge.workspace import Workspace, content_key

PIPELINE_VERSION = "7"
# ffmpeg processes encoding video at once (each runs x264 on several threads)
VIDEO_WORKERS = 2


@dataclass
class VideoPlan:
    """The video pass of one render: every segment's cache key, the ones missing from the cache, and the runs
    (plain `RunSpec`s) that render them, with where this machine has each of the runs' input files."""

    segments: list[Segment]
    keys: list[str]  # each segment's cache key: <cache>/segments/<key>.mp4
    pending: list[int]  # indices of the segments not in the cache
    runs: list[RunSpec]
    files: dict[str, Path]  # every run input, by content key

    def cached(self, workspace: Workspace) -> list[Path]:
        folder = workspace.folder("segments")
        return [folder / f"{key}.mp4" for key in self.keys]


def plan_video(timeline: Timeline, workspace: Workspace, quality: str, workers: int = VIDEO_WORKERS) -> VideoPlan:
    """Cut `timeline` (its cards' files attached: `with_card_files`) into segments, key each by content, and plan
    the missing ones as runs for `workers` encoders at once. The plan depends only on the timeline, the cache and
    `workers` (and this machine's core count, for x264's threads), never on where the runs will execute."""
    stills = workspace.folder("stills")
    fonts_print = fonts_fingerprint(workspace)
    segments = plan_segments(timeline)
    keys = []
    for segment in segments:
        identity, inputs = segment_identity(timeline, segment, quality, stills)
        keys.append(content_key(PIPELINE_VERSION, quality, timeline.width, timeline.height, timeline.rate.ffmpeg(),
                                identity, input_identity(inputs, workspace), fonts_print))
    segment_dir = workspace.folder("segments")
    pending = [index for index, key in enumerate(keys) if not (segment_dir / f"{key}.mp4").is_file()]
    chosen_runs = plan_runs(segments, pending, max(workers, 1),
                            inputs=lambda chosen: run_inputs(timeline, chosen, stills))
    # Runs side by side split the cores between their encoders (fewer frames in flight, less memory).
    threads = x264_threads(min(len(chosen_runs), max(workers, 1)))
    runs: list[RunSpec] = []
    files: dict[str, Path] = {}
    for run in chosen_runs:
        spec, where = plan_run(timeline, [segments[i] for i in run], [keys[i] for i in run], name=f"run{run[0]}",
                               quality=quality, stills=stills, threads=threads, fonts=fonts_print,
                               file_key=lambda path: input_key(path, workspace))
        runs.append(spec)
        files.update(where)
    return VideoPlan(segments, keys, pending, runs, files)


def render_timeline(
    timeline: Timeline,
    out: Path,
    workspace: Workspace,
    *,
    quality: str = "web",
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    subtitles: bool = True,
    workers: int = VIDEO_WORKERS,
    runs: RunExecutor | None = None,
) -> RenderResult:
    """The ffmpeg backend: segments (cached by content) and the audio pass, then one mux into `out`.

    `runs`: where the video runs execute (default: `workers` threads of this process); the plan, and so every
    piece, is the same wherever they do. The cards, the audio pass and the mux always run here."""
    cancel = cancel or CancelToken()
    stop = CancelToken(parent=cancel)  # also stops the other parts when one fails; the caller's token stays as it is
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_partials(out.parent, out.name)  # what renders killed before left behind
    workspace.sweep_work()
    timings: dict[str, float] = {}
    hits = misses = 0
    # Leaving this block shuts the pools down, removes the work folder and then, only when the block ended
    # without an exception, renames the finished output into place (else its temporary file is removed).
    with contextlib.ExitStack() as resources:
        # The output's temporary file is made first: a folder that cannot be written fails now, not after the work.
        temp_out = resources.enter_context(atomic_output(out, suffix=".mp4"))
        workdir = resources.enter_context(workspace.work_folder("render-"))
        card_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="card")
        resources.callback(card_pool.shutdown, wait=True, cancel_futures=True)
        try:
            timeline = with_card_files(timeline, workspace)
            if runs is None:
                runs = LocalRuns(workers, fonts_dir(workspace), fontconfig_env(workspace))
                resources.callback(runs.close)
            plan = plan_video(timeline, workspace, quality, workers)
            cached_paths = plan.cached(workspace)
            audio_cached = workspace.folder("audio") / f"{audio_key(timeline, workspace)}.m4a"
            needed_cards = {path for path in plan.files.values() if path.parent == workspace.cache / "cards"}
            card_futures = {path: future for path, future in render_missing_cards(timeline, card_pool, workspace,
                                                                                    stop).items()
                            if path in needed_cards}
            segments, pending = plan.segments, plan.pending
            hits = len(segments) - len(pending) + (1 if audio_cached.is_file() else 0)
            misses = len(pending) + (0 if audio_cached.is_file() else 1)
            weights = {spec.name: float(spec.frames) for spec in plan.runs}
            weights["audio"] = 0.0 if audio_cached.is_file() else max(timeline.frames * 0.03, 1.0)
            weights["mux"] = max(timeline.frames * 0.02, 1.0)
            card_frames = {layer.visual.path: layer.range.duration for layer in card_layers(timeline)}
            for path in card_futures:
                weights[f"card{path.name}"] = card_frames[path] * 0.5
            tracker = ProgressTracker(weights, on_progress)
            tracker.update("mux", 0, "starting", force=True)

            for path, future in card_futures.items():
                future.add_done_callback(lambda _f, key=f"card{path.name}": tracker.update(key, weights[key], "cards"))
            published = dict(zip(plan.keys, cached_paths))

            def start_run(spec: RunSpec) -> Future:
                """The run submitted once the cards it shows are rendered; its pieces moved into the cache."""
                done: Future = Future()
                cards = [card_futures[path] for key, path in plan.files.items()
                         if path in card_futures and any(file.key == key for file in spec.files)]
                folder = workdir / spec.name
                folder.mkdir()

                def finish(inner: Future) -> None:
                    try:
                        for key, piece in zip(spec.pieces, inner.result()):
                            _publish(piece, published[key])
                        tracker.update(spec.name, weights[spec.name], "video")
                        done.set_result(None)
                    except BaseException as error:  # noqa: BLE001 - handed to the waiting render
                        done.set_exception(error)

                def launch() -> None:
                    try:
                        for card in cards:
                            card.result()
                        inner = runs.submit(spec, plan.files, folder, stop,
                                            lambda n: tracker.update(spec.name, n, "video"))
                    except BaseException as error:  # noqa: BLE001
                        done.set_exception(error)
                        return
                    inner.add_done_callback(finish)

                _when_done(cards, launch)
                return done

            def render_audio_pass() -> None:
                if audio_cached.is_file():
                    return
                folder = workdir / "audio"
                folder.mkdir()
                render_audio(timeline, folder, folder / "audio.m4a", stop)
                _publish(folder / "audio.m4a", audio_cached)
                tracker.update("audio", weights["audio"], "audio")

            clock = time.monotonic()
            # The audio pass is light and runs beside the video runs rather than taking a video worker's turn.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audio") as audio_pool:
                futures = [audio_pool.submit(render_audio_pass)]
                try:
                    futures += [start_run(spec) for spec in plan.runs]
                    wait(futures, return_when=FIRST_EXCEPTION)
                except BaseException:  # interrupted while waiting
                    stop.cancel()
                    raise
                failed = [future for future in futures if future.done() and future.exception() is not None]
                if failed:
                    stop.cancel()  # the other parts stop at once; then the first real fault is the one reported
                    wait(futures)
                    errors = [future.exception() for future in futures if future.exception() is not None]
                    raise next((error for error in errors if not isinstance(error, RenderCancelled)), errors[0])
            timings["video_audio"] = time.monotonic() - clock

            clock = time.monotonic()
            tracker.update("mux", 0, "mux", force=True)
            mux_inputs = [*_joined_video(cached_paths, workdir), "-i", str(audio_cached)]
            maps = ["-map", "0:v:0", "-map", "1:a:0"]
            if subtitles and timeline.cues:
                srt = workdir / "captions.srt"
                write_sidecar(timeline.cues, timeline.rate, srt)
                mux_inputs += ["-i", str(srt)]
                maps += ["-map", "2:s:0", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng",
                         "-metadata:s:s:0", "title=Captions"]
            run_ffmpeg([*mux_inputs, *maps, "-c:v", "copy", "-c:a", "copy", "-t", seconds_str(timeline.duration),
                        "-movflags", "+faststart", "-metadata", f"title={timeline.name}", "-f", "mp4", str(temp_out)],
                       cwd=workdir, cancel=stop, what="mux")
            stop.raise_if_cancelled()
        except KeyboardInterrupt:
            stop.cancel()
            raise RenderCancelled("render interrupted") from None
        except BaseException:
            stop.cancel()  # whatever failed, stop the rest of the work at once
            raise
    timings["mux"] = time.monotonic() - clock
    tracker.update("mux", weights["mux"], "done", force=True)
    return RenderResult(out, float(timeline.duration), timeline.width, timeline.height, out.stat().st_size,
                        timings, hits, misses)


def _when_done(futures: list[Future], then: Callable[[], None]) -> None:
    """Call `then` (in the thread that completes the last of `futures`, or now when there are none) once every one
    of `futures` is done, however it ended."""
    if not futures:
        then()
        return
    left = [len(futures)]
    lock = threading.Lock()

    def one_done(_future: Future) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            then()

    for future in futures:
        future.add_done_callback(one_done)


def _publish(tmp: Path, cached: Path) -> None:
    """Move a finished piece into the cache atomically (same filesystem: the cache root)."""
    os.replace(tmp, cached)


def _joined_video(pieces: list[Path], workdir: Path) -> list[str]:
    """The mux's video input: the pieces joined into one file by their sample tables (`mp4join`), or, when they
    cannot be, ffmpeg's concat demuxer over them (which decodes each piece's first frame to probe it)."""
    joined = workdir / "video.mp4"
    try:
        join_pieces(pieces, joined)
        return ["-i", str(joined)]
    except JoinError:
        listing = workdir / "segments.txt"
        listing.write_text("".join(f"file '{_concat_escape(path)}'\n" for path in pieces), encoding="utf-8")
        return ["-f", "concat", "-safe", "0", "-i", str(listing)]


def _concat_escape(path: Path) -> str:
    return str(path).replace("'", "'\\''")


def input_key(path: Path, workspace: Workspace) -> str:
    """An input file named by what it holds: a card (named by its content already, and perhaps not rendered yet)
    by its file name, any other file by its content hash."""
    if path.parent == workspace.cache / "cards":
        return f"card:{path.name}"
    if not path.is_file():
        raise RenderError(f"{path}: the file is gone")
    return f"file:{workspace.file_hash(path)}"


def input_identity(args: list[str], workspace: Workspace) -> list[str]:
    """ffmpeg input arguments with every file named by what it holds rather than where it lies (`input_key`).
    Anything else (seek times, lavfi sources) stays as it is."""
    identity = []
    for before, value in zip(["", *args], args):
        path = Path(value)
        if before == "-i" and (path.parent == workspace.cache / "cards" or path.is_file()):
            identity.append(input_key(path, workspace))
        else:
            identity.append(value)
    return identity


def audio_key(timeline: Timeline, workspace: Workspace) -> str:
    """The audio pass's cache key: its graph, the loudness settings and what its input files hold."""
    inputs, graph = mix_graph(timeline)
    return content_key(PIPELINE_VERSION, AUDIO_VERSION, LIMITER, TARGET_LUFS, aac_args(timeline.quality), graph,
                       input_identity(inputs, workspace))

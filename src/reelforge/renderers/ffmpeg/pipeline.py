"""The ffmpeg backend: the timeline cut into segments cached by content, the missing ones rendered as runs of one
ffmpeg graph each, an audio pass beside them, then one mux into the output, written atomically.

A piece's key is made of what made it, never of where it lies: the graph (with the fonts folder as a
placeholder), the input arguments with every file replaced by its content hash (cards, which may not be
rendered yet, by their content-addressed names), and the fonts' content.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from reelforge.errors import RenderCancelled, RenderError
from reelforge.fileio import atomic_output, sweep_partials
from reelforge.fonts import fontconfig_env, fonts_dir, fonts_fingerprint
from reelforge.process import run_ffmpeg
from reelforge.progress import CancelToken, ProgressCallback, ProgressTracker, RenderResult
from reelforge.renderers.card_layers import card_layers, render_missing_cards, with_card_files
from reelforge.renderers.ffmpeg.audio import AUDIO_VERSION, LIMITER, TARGET_LUFS, aac_args, mix_graph, render_audio
from reelforge.renderers.ffmpeg.segments import plan_runs, plan_segments
from reelforge.renderers.ffmpeg.video import piece_path, run_command, run_inputs, segment_identity
from reelforge.timebase import seconds_str
from reelforge.timeline import Timeline
from reelforge.timeline.captions import write_sidecar
from reelforge.workspace import Workspace, content_key

PIPELINE_VERSION = "6"
# ffmpeg processes encoding video at once (each runs x264 on several threads)
VIDEO_WORKERS = 2


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
) -> RenderResult:
    """The ffmpeg backend: segments (cached by content) and the audio pass, then one mux into `out`."""
    cancel = cancel or CancelToken()
    stop = CancelToken(parent=cancel)  # also stops the other parts when one fails; the caller's token stays as it is
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_partials(out.parent, out.name)  # what renders killed before left behind
    workspace.sweep_work()
    segment_dir = workspace.folder("segments")
    stills = workspace.folder("stills")
    timings: dict[str, float] = {}
    hits = misses = 0
    # Leaving this block shuts the card pool down, removes the work folder and then, only when the block ended
    # without an exception, renames the finished output into place (else its temporary file is removed).
    with contextlib.ExitStack() as resources:
        # The output's temporary file is made first: a folder that cannot be written fails now, not after the work.
        temp_out = resources.enter_context(atomic_output(out, suffix=".mp4"))
        workdir = resources.enter_context(workspace.work_folder("render-"))
        card_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="card")
        resources.callback(card_pool.shutdown, wait=True, cancel_futures=True)
        try:
            timeline = with_card_files(timeline, workspace)
            fonts = fonts_dir(workspace)
            text_env = fontconfig_env(workspace)
            fonts_print = fonts_fingerprint(workspace)
            segments = plan_segments(timeline)
            cached_paths: list[Path] = []
            inputs_of: list[list[str]] = []
            for segment in segments:
                identity, inputs = segment_identity(timeline, segment, quality, stills)
                key = content_key(PIPELINE_VERSION, quality, timeline.width, timeline.height, timeline.rate.ffmpeg(),
                                  identity, input_identity(inputs, workspace), fonts_print)
                cached_paths.append(segment_dir / f"{key}.mp4")
                inputs_of.append(inputs)

            audio_cached = workspace.folder("audio") / f"{audio_key(timeline, workspace)}.m4a"
            pending = [index for index, path in enumerate(cached_paths) if not path.is_file()]
            runs = plan_runs(segments, pending, max(workers, 1), inputs=lambda chosen: run_inputs(timeline, chosen, stills))
            # Runs side by side split the cores between their encoders (fewer frames in flight, less memory).
            at_once = min(len(runs), max(workers, 1))
            x264_threads = max((os.cpu_count() or 2) // at_once, 1) if at_once > 1 else None
            needed_cards = {Path(value) for index in pending for before, value in zip(inputs_of[index], inputs_of[index][1:])
                            if before == "-i"}
            card_futures = {path: future for path, future in render_missing_cards(timeline, card_pool, workspace,
                                                                                    stop).items()
                            if path in needed_cards}
            hits = len(segments) - len(pending) + (1 if audio_cached.is_file() else 0)
            misses = len(pending) + (0 if audio_cached.is_file() else 1)
            weights = {f"run{run[0]}": float(sum(segments[i].range.duration for i in run)) for run in runs}
            weights["audio"] = 0.0 if audio_cached.is_file() else max(timeline.frames * 0.03, 1.0)
            weights["mux"] = max(timeline.frames * 0.02, 1.0)
            card_frames = {layer.visual.path: layer.range.duration for layer in card_layers(timeline)}
            for path in card_futures:
                weights[f"card{path.name}"] = card_frames[path] * 0.5
            tracker = ProgressTracker(weights, on_progress)
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
                args = run_command(timeline, chosen, folder, fonts, quality, stills, threads=x264_threads)
                run_ffmpeg(args, cwd=folder, cancel=stop, on_frame=lambda n: tracker.update(key, n, "video"),
                           what=f"video, frames {chosen[0].range.start}-{chosen[-1].range.end}", env=text_env)
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
                render_audio(timeline, folder, folder / "audio.m4a", stop)
                _publish(folder / "audio.m4a", audio_cached)
                tracker.update("audio", weights["audio"], "audio")

            clock = time.monotonic()
            # The audio pass is light and runs beside the video runs rather than taking a video worker's turn.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audio") as audio_pool, \
                    ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="video") as pool:
                futures = [audio_pool.submit(render_audio_pass)] + [pool.submit(render_run, run) for run in runs]
                try:
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


def _publish(tmp: Path, cached: Path) -> None:
    """Move a finished piece into the cache atomically (same filesystem: the cache root)."""
    os.replace(tmp, cached)


def _concat_escape(path: Path) -> str:
    return str(path).replace("'", "'\\''")


def input_identity(args: list[str], workspace: Workspace) -> list[str]:
    """ffmpeg input arguments with every file named by what it holds rather than where it lies: a card (named by
    its content already, and perhaps not rendered yet) by its file name, any other file by its content hash.
    Anything else (seek times, lavfi sources) stays as it is."""
    cards = workspace.cache / "cards"
    identity = []
    for before, value in zip(["", *args], args):
        path = Path(value)
        if before != "-i":
            identity.append(value)
        elif path.parent == cards:
            identity.append(f"card:{path.name}")
        elif path.is_file():
            identity.append(f"file:{workspace.file_hash(path)}")
        else:
            identity.append(value)
    return identity


def audio_key(timeline: Timeline, workspace: Workspace) -> str:
    """The audio pass's cache key: its graph, the loudness settings and what its input files hold."""
    inputs, graph = mix_graph(timeline)
    return content_key(PIPELINE_VERSION, AUDIO_VERSION, LIMITER, TARGET_LUFS, aac_args(timeline.quality), graph,
                       input_identity(inputs, workspace))

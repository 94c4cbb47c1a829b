"""One benchmark case per process (run by `bench.measure.run_case`): does the work, times it, prints its result.

    python -m bench.cases reelforge-cold ASSETS OUT [--scenes N]        (REELFORGE_CACHE set by the caller)
    python -m bench.cases reelforge-incremental ASSETS OUT
    python -m bench.cases moviepy ASSETS OUT [--scenes N] [--seconds S]
    python -m bench.cases floor OUT [--seconds S]
    python -m bench.cases content-floor VIDEO OUT
    python -m bench.cases prewarm                    (narration + music loop into REELFORGE_CACHE)
    python -m bench.cases segments ASSETS            (bench.segments: per-run ffmpeg costs of W)

`work_s` is the timed section: the `render()` call, MoviePy's clip building plus `write_videofile`, or the
ffmpeg command; interpreter start and imports are outside it (the caller also records the process's wall time).
For reelforge every ffmpeg run is timed too (by wrapping `run_ffmpeg`), to show where the time goes.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from bench.measure import emit


class FfmpegLog:
    """Wraps reelforge's ffmpeg runners to record (what, start, seconds) of every ffmpeg process."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []
        self.lock = threading.Lock()
        self.origin = time.monotonic()

    def _record(self, what: str, clock: float) -> None:
        with self.lock:
            self.calls.append((what, clock - self.origin, time.monotonic() - clock))

    def install(self) -> None:
        from reelforge.renderers.ffmpeg import audio as ffmpeg_audio
        from reelforge.renderers.ffmpeg import pipeline

        def timed(runner, label=None):
            def wrapper(args, *rest, **kwargs):
                clock = time.monotonic()
                try:
                    return runner(args, *rest, **kwargs)
                finally:
                    self._record(label or kwargs.get("what", "ffmpeg"), clock)
            return wrapper

        from reelforge.renderers.ffmpeg import runs

        pipeline.run_ffmpeg = timed(pipeline.run_ffmpeg)
        runs.run_ffmpeg = timed(runs.run_ffmpeg)
        ffmpeg_audio.run_ffmpeg = timed(ffmpeg_audio.run_ffmpeg)

    def reset(self) -> None:
        self.calls.clear()
        self.origin = time.monotonic()

    def summary(self) -> dict[str, Any]:
        groups: dict[str, list[float]] = {}
        for what, _, seconds in self.calls:
            kind = "video run" if what.startswith("video") else what
            groups.setdefault(kind, []).append(seconds)
        audio = [(start, seconds) for what, start, seconds in self.calls
                 if what in ("audio mix", "loudness measure", "audio encode")]
        return {
            "ffmpeg_runs": len(self.calls),
            "by_kind": {kind: {"runs": len(times), "sum_s": sum(times), "max_s": max(times)} for kind, times in groups.items()},
            "audio_pass_span_s": (max(a + s for a, s in audio) - min(a for a, _ in audio)) if audio else 0.0,
            "segments": [(what, round(start, 3), round(seconds, 3)) for what, start, seconds in self.calls
                         if what.startswith("video")],
        }


def _render_once(document: dict[str, Any], assets: Path, out: Path, log: FfmpegLog) -> dict[str, Any]:
    from reelforge import render

    log.reset()
    clock = time.monotonic()
    result = render(document, out, assets=assets)
    work = time.monotonic() - clock
    return {"work_s": work, "timings": result.timings, "duration": result.duration, "size_bytes": result.size_bytes,
            "cache_hits": result.cache_hits, "cache_misses": result.cache_misses, "ffmpeg": log.summary()}


def reelforge_cold(args: argparse.Namespace) -> dict[str, Any]:
    from bench.workload import scaled_document

    log = FfmpegLog()
    log.install()
    return _render_once(scaled_document(args.scenes), args.assets, args.out, log)


def reelforge_incremental(args: argparse.Namespace) -> dict[str, Any]:
    from bench.workload import edited, w_document

    log = FfmpegLog()
    log.install()
    document = w_document()
    first = _render_once(document, args.assets, args.out, log)
    second = _render_once(edited(document), args.assets, args.out, log)
    return {**second, "first_render_s": first["work_s"]}


def moviepy(args: argparse.Namespace) -> dict[str, Any]:
    from bench.moviepy_w import render

    timings = render(args.assets, args.out, n_scenes=args.scenes, seconds=args.seconds)
    return {"work_s": timings["total"], "build_s": timings["build"], "duration": timings["duration"],
            "size_bytes": args.out.stat().st_size}


def floor(args: argparse.Namespace) -> dict[str, Any]:
    from bench.floor import floor_command, run

    command = floor_command(args.out, args.seconds)
    return {"work_s": run(command), "duration": args.seconds, "size_bytes": args.out.stat().st_size,
            "command": command}


def content_floor(args: argparse.Namespace) -> dict[str, Any]:
    from bench.floor import content_floor_command, run

    command = content_floor_command(args.video, args.out)
    return {"work_s": run(command), "size_bytes": args.out.stat().st_size, "command": command}


def prewarm(args: argparse.Namespace) -> dict[str, Any]:
    """Synthesize every narration of the 50-scene document and make the music loop (in REELFORGE_CACHE)."""
    from bench.workload import MUSIC, narration_texts
    from reelforge.model.audio import Voice
    from reelforge.resolve.music import mood_loop
    from reelforge.speech.tts import synthesize
    from reelforge.workspace import Workspace

    workspace = Workspace.from_environment()
    clock = time.monotonic()
    seconds = {text: float(synthesize(text, Voice(), workspace=workspace).duration) for text in narration_texts(50)}
    tts = time.monotonic() - clock
    mood_loop(MUSIC["mood"], workspace.folder("music"))
    return {"work_s": time.monotonic() - clock, "tts_s": tts, "speech_seconds": seconds}


def segments(args: argparse.Namespace) -> dict[str, Any]:
    from bench.segments import profile
    from bench.workload import w_document

    clock = time.monotonic()
    result = profile(w_document(), args.assets)
    return {**result, "work_s": time.monotonic() - clock}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="case", required=True)
    for name, function in (("reelforge-cold", reelforge_cold), ("reelforge-incremental", reelforge_incremental),
                           ("moviepy", moviepy)):
        case = sub.add_parser(name)
        case.add_argument("assets", type=Path)
        case.add_argument("out", type=Path)
        case.add_argument("--scenes", type=int, default=5)
        case.add_argument("--seconds", type=float, default=None)
        case.set_defaults(function=function)
    case = sub.add_parser("floor")
    case.add_argument("out", type=Path)
    case.add_argument("--seconds", type=float, default=30.0)
    case.set_defaults(function=floor)
    case = sub.add_parser("prewarm")
    case.set_defaults(function=prewarm)
    case = sub.add_parser("segments")
    case.add_argument("assets", type=Path)
    case.set_defaults(function=segments)
    case = sub.add_parser("content-floor")
    case.add_argument("video", type=Path)
    case.add_argument("out", type=Path)
    case.set_defaults(function=content_floor)
    args = parser.parse_args()
    emit(args.function(args))


if __name__ == "__main__":
    main()

"""Where reelforge's video time goes on W: each ffmpeg run of a cold render, alone, in three variants.

A cold render of W cuts the timeline into segments (scene bodies of at most 4 s and transitions) and renders
them as runs: consecutive segments in one ffmpeg process, each scene decoded once, the encode cut into one
cached piece per segment; two runs share the machine. Here every run is timed serially, one at a time:
- `full`: the command the pipeline runs (filter graph + libx264 + segment muxer);
- `filters`: the same graph into `-f null` (decoding, crop/scale, zoom, transitions, captions; no encode);
- `encode`: the run's own pieces decoded and encoded again with the same x264 arguments (the encode cost of
  exactly these pixels; decoding the ~10 Mb/s H.264 pieces is a small part).
Then, for comparison, the whole video as one run (`all`: one filter graph, one encode, what a single hand-written
ffmpeg command does, video only) and the audio pass alone (mix, ducking, loudness, AAC).
REELFORGE_CACHE must hold W's narration (the benchmark pre-synthesizes it).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def _run(args: list[str], cwd: Path) -> float:
    from reelforge.fonts import fontconfig_env
    from reelforge.process import ffmpeg_exe
    from reelforge.workspace import Workspace

    clock = time.monotonic()
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args], cwd=cwd, check=True,
                   capture_output=True, env=fontconfig_env(Workspace.from_environment()))
    return time.monotonic() - clock


def _profile_run(timeline: Any, chosen: list[Any], folder: Path, name: int | str) -> dict[str, Any]:
    from reelforge.fonts import fonts_dir
    from reelforge.renderers.ffmpeg.pipeline import input_key
    from reelforge.renderers.ffmpeg.runs import lay_out, plan_run
    from reelforge.renderers.ffmpeg.video import encoder_args, piece_path
    from reelforge.workspace import Workspace

    folder.mkdir()
    workspace = Workspace.from_environment()
    spec, files = plan_run(timeline, chosen, [f"piece{k}" for k in range(len(chosen))], name=str(name),
                           quality=timeline.quality, stills=workspace.folder("stills"), threads=None, fonts="",
                           file_key=lambda path: input_key(path, workspace))
    args = lay_out(spec, files, folder, fonts_dir(workspace))
    to_null = args[:args.index("-c:v")] + ["-f", "null", "-"]
    kinds = ["transition" if s.transition else (s.scene.layer.visual.kind if s.scene else "tail") for s in chosen]
    row: dict[str, Any] = {"run": name, "segments": len(chosen), "kinds": ", ".join(kinds),
                           "frames": sum(s.range.duration for s in chosen),
                           "inputs": sum(1 for a in args if a == "-i")}
    row["full_s"] = _run(args, folder)
    pieces = [piece_path(folder, k) for k in range(len(chosen))]
    row["bytes"] = sum(p.stat().st_size for p in pieces)
    (folder / "pieces.txt").write_text("".join(f"file '{p}'\n" for p in pieces))
    row["filters_s"] = _run(to_null, folder)
    row["encode_s"] = _run(["-f", "concat", "-safe", "0", "-i", "pieces.txt", "-map", "0:v:0",
                            *encoder_args(timeline.quality, timeline.rate), "-an", "-f", "mp4", "re.mp4"], folder)
    return row


def profile(document: dict[str, Any], assets: Path) -> dict[str, Any]:
    """{"rows": one per run of the cold render, "whole": the video as one run, "audio_s": the audio pass alone}."""
    from reelforge.job import RenderJob, prepare
    from reelforge.renderers.ffmpeg.audio import render_audio
    from reelforge.renderers.ffmpeg.pipeline import VIDEO_WORKERS
    from reelforge.renderers.ffmpeg.segments import plan_runs, plan_segments
    from reelforge.renderers.ffmpeg.video import run_inputs
    from reelforge.workspace import Workspace

    workspace = Workspace.from_environment()
    stills = workspace.folder("stills")
    timeline = prepare(RenderJob.of(document, assets=assets), workspace).timeline
    segments = plan_segments(timeline)
    root = Path(tempfile.mkdtemp(prefix="bench-runs-"))
    try:
        rows = [_profile_run(timeline, [segments[i] for i in run], root / f"run{number}", number)
                for number, run in enumerate(plan_runs(segments, list(range(len(segments))), VIDEO_WORKERS,
                                                          inputs=lambda chosen: run_inputs(timeline, chosen, stills)))]
        whole = _profile_run(timeline, segments, root / "all", "all")
        (root / "audio").mkdir()
        clock = time.monotonic()
        render_audio(timeline, root / "audio", root / "audio" / "audio.m4a")
        audio_s = time.monotonic() - clock
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"rows": rows, "whole": whole, "audio_s": audio_s}

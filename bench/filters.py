"""Where a cold render of W spends its CPU, chain by chain: each part of the runs' filter graphs alone into `-f null`.

    REELFORGE_CACHE=<cache holding W's narration> .venv/bin/python -m bench.filters ASSETS [--rounds 3] [--json OUT]

Every figure is CPU seconds (ffmpeg's `-benchmark` utime + stime of one process), the median of `--rounds`, each
part run alone, one process at a time:
- per scene layer, over the frames the render decodes for it (its body and both transitions):
  `decode` (the clip's input alone, `-threads 1`, into null), `layer` (the layer's whole chain: decode, fps/trim,
  crop + scale, or the still's fit and zoom), so `layer - decode` is what the chain adds;
- `transitions`: each transition's xfade of two colour sources, minus the two sources alone;
- `subtitles`: the whole video's ASS over a colour source, minus the source alone;
- `runs (filters)`: the runs' graphs as the pipeline builds them into null; `runs (encode)`: the same with x264;
  `x264 on W's frames`: the runs' output decoded and encoded again (the encode of exactly these pixels).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_BENCH = re.compile(r"bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s")


def ffmpeg_cpu(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one ffmpeg run of `args` (its own -benchmark figures)."""
    from reelforge.process import ffmpeg_exe

    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-benchmark", *args], cwd=cwd,
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    match = _BENCH.findall(done.stderr)[-1]
    return float(match[0]) + float(match[1]), float(match[2])


def _graph_args(builder: Any, label: str) -> list[str]:
    args = [arg for part in builder.inputs for arg in part]
    return [*args, "-filter_complex", ";".join(builder.chains), "-map", f"[{label}]", "-f", "null", "-"]


def parts(document: dict[str, Any], assets: Path, folder: Path) -> tuple[list[tuple[str, str, list[str], Path]], Any]:
    """(group, name, ffmpeg args, cwd) of every measured part, and the timeline."""
    from reelforge.fonts import fonts_dir
    from reelforge.job import RenderJob, prepare
    from reelforge.renderers.ffmpeg.pipeline import VIDEO_WORKERS, input_key
    from reelforge.renderers.ffmpeg.runs import lay_out, plan_run
    from reelforge.renderers.ffmpeg.segments import plan_runs, plan_segments
    from reelforge.renderers.ffmpeg.video import GraphBuilder, run_inputs
    from reelforge.timeline.captions import build_ass
    from reelforge.workspace import Workspace

    workspace = Workspace.from_environment()
    stills = workspace.folder("stills")
    timeline = prepare(RenderJob.of(document, assets=assets), workspace).timeline
    segments = plan_segments(timeline)
    found: list[tuple[str, str, list[str], Path]] = []
    # Each scene layer over the frames the render shows of it.
    for number, layer in enumerate(timeline.scenes):
        low = min(s.range.start for s in segments if _shows(s, layer)) - layer.range.start
        high = max(s.range.end for s in segments if _shows(s, layer)) - layer.range.start
        builder = GraphBuilder(timeline, stills)
        out = builder.visual(layer, low, high - low)
        kind = layer.visual.kind
        name = f"scene {number + 1} ({kind}{', ' + layer.visual.motion if kind == 'image' else ''}, {high - low} frames)"
        found.append(("layer", name, _graph_args(builder, out), folder))
        if kind == "video":
            decode = [arg for part in builder.inputs for arg in part]
            found.append(("decode", name, [*decode, "-map", "0:v", "-f", "null", "-"], folder))
    # Transitions: xfade of two colour sources, and the sources alone.
    size, rate = f"{timeline.width}x{timeline.height}", timeline.rate.ffmpeg()
    for segment in segments:
        if segment.transition is None:
            continue
        frames = segment.range.duration
        kind = segment.transition[2]
        seconds = f"{frames / float(timeline.rate.value):.6f}"
        sources = (f"color=c=red:s={size}:r={rate}:d={seconds},format=yuv420p[a];"
                   f"color=c=blue:s={size}:r={rate}:d={seconds},format=yuv420p,tpad=stop_mode=clone:stop={frames}[b]")
        found.append(("transition", f"{kind} ({frames} frames)",
                      ["-filter_complex", f"{sources};[a][b]xfade=transition={kind}:duration={seconds}:offset=0,"
                       f"trim=end_frame={frames}[o]", "-map", "[o]", "-f", "null", "-"], folder))
        found.append(("transition-base", f"{kind} ({frames} frames)",
                      ["-filter_complex", f"{sources};[a][b]concat=n=2[o]", "-map", "[o]", "-f", "null", "-"], folder))
    # Subtitles over the whole video.
    subs = build_ass(timeline.texts, timeline.styles, (timeline.width, timeline.height), timeline.rate, offset=0)
    (folder / "text.ass").write_text(subs.to_string("ass"), encoding="utf-8")
    (folder / "fonts").symlink_to(fonts_dir(workspace), target_is_directory=True)
    seconds = f"{timeline.frames / float(timeline.rate.value):.6f}"
    source = f"color=c=gray:s={size}:r={rate}:d={seconds},format=yuv420p"
    found.append(("subtitles", f"ass over {timeline.frames} frames",
                  ["-filter_complex", f"{source},ass=filename=text.ass:fontsdir=fonts[o]", "-map", "[o]", "-f", "null",
                   "-"], folder))
    found.append(("subtitles-base", "", ["-filter_complex", f"{source}[o]", "-map", "[o]", "-f", "null", "-"], folder))
    # The runs as the pipeline makes them.
    chosen = plan_runs(segments, list(range(len(segments))), VIDEO_WORKERS,
                       inputs=lambda c: run_inputs(timeline, c, stills))
    from reelforge.renderers.ffmpeg.runs import x264_threads

    threads = x264_threads(len(chosen))
    for number, run in enumerate(chosen):
        run_folder = folder / f"run{number}"
        run_folder.mkdir()
        spec, files = plan_run(timeline, [segments[i] for i in run], [f"p{k}" for k in range(len(run))],
                               name=f"run{number}", quality=timeline.quality, stills=stills, threads=threads, fonts="",
                               file_key=lambda path: input_key(path, workspace))
        args = lay_out(spec, files, run_folder, fonts_dir(workspace))
        found.append(("run-filters", f"run {number} ({spec.frames} frames)",
                      args[:args.index("-c:v")] + ["-f", "null", "-"], run_folder))
        found.append(("run-encode", f"run {number} ({spec.frames} frames, x264 threads {threads})", args, run_folder))
    return found, timeline


def _shows(segment: Any, layer: Any) -> bool:
    parts = [segment.scene] if segment.scene else list(segment.transition[:2]) if segment.transition else []
    return any(part.layer is layer for part in parts)


def profile(document: dict[str, Any], assets: Path, rounds: int) -> dict[str, Any]:
    from reelforge.fonts import fontconfig_env
    from reelforge.workspace import Workspace

    env = fontconfig_env(Workspace.from_environment())
    folder = Path(tempfile.mkdtemp(prefix="bench-filters-"))
    try:
        found, timeline = parts(document, assets, folder)
        figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(rounds):
            for group, name, args, cwd in found:
                figures.setdefault((group, name), []).append(ffmpeg_cpu(args, cwd, env))
        rows = [{"group": group, "name": name, "cpu_s": statistics.median(c for c, _ in values),
                 "wall_s": statistics.median(w for _, w in values)} for (group, name), values in figures.items()]
        # x264 on W's own frames: the runs' pieces decoded and encoded again with the same arguments.
        pieces = sorted(folder.glob("run*/piece*.mp4"))
        (folder / "pieces.txt").write_text("".join(f"file '{p}'\n" for p in pieces))
        from reelforge.renderers.ffmpeg.video import encoder_args

        for threads in (None, 1):
            extra = ["-threads", str(threads)] if threads else []
            values = [ffmpeg_cpu(["-f", "concat", "-safe", "0", "-i", "pieces.txt", "-map", "0:v:0",
                                  *encoder_args(timeline.quality, timeline.rate), *extra, "-an", "-f", "mp4", "re.mp4"],
                                 folder) for _ in range(rounds)]
            rows.append({"group": "content", "name": f"x264 on W's frames (threads {threads or 'auto'}, decode included)",
                         "cpu_s": statistics.median(c for c, _ in values),
                         "wall_s": statistics.median(w for _, w in values)})
        values = [ffmpeg_cpu(["-f", "concat", "-safe", "0", "-i", "pieces.txt", "-map", "0:v:0", "-f", "null", "-"],
                             folder) for _ in range(rounds)]
        rows.append({"group": "content", "name": "decoding W's frames alone", "cpu_s": statistics.median(c for c, _ in values),
                     "wall_s": statistics.median(w for _, w in values)})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"rows": rows}


def markdown(result: dict[str, Any]) -> str:
    rows = result["rows"]
    by = {(r["group"], r["name"]): r for r in rows}
    lines = ["| part | CPU s | wall s | what the chain adds, CPU s |", "|---|--:|--:|--:|"]
    for r in rows:
        if r["group"].endswith("-base") or r["group"] == "decode":
            continue
        extra = ""
        if r["group"] == "layer" and ("decode", r["name"]) in by:
            d = by[("decode", r["name"])]
            lines.append(f"| {r['name']}: decode only | {d['cpu_s']:.2f} | {d['wall_s']:.2f} | |")
            extra = f"{r['cpu_s'] - d['cpu_s']:.2f} (fps, trims, crop + scale)"
        elif r["group"] in ("transition", "subtitles"):
            base = by[(r["group"] + "-base", r["name"] if r["group"] == "transition" else "")]
            extra = f"{r['cpu_s'] - base['cpu_s']:.2f}"
        label = r["name"] if r["group"] != "layer" else f"{r['name']}: whole chain"
        if r["group"].startswith("run-"):
            label = f"{label}: {'filters into null' if r['group'] == 'run-filters' else 'with x264'}"
        lines.append(f"| {label} | {r['cpu_s']:.2f} | {r['wall_s']:.2f} | {extra} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assets", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from bench.workload import w_document

    result = profile(w_document(), args.assets.resolve(), args.rounds)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()

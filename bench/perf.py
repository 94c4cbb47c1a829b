"""Issue 18 in one run: workload W by two source trees (before, after), alternating, against the content floor,
plus the re-render after a one-scene narration edit, and how close the after tree's output stays to the before's.

    .venv/bin/python -m bench.perf --before /path/to/old/checkout [--rounds 3] [--workdir DIR] [--json OUT]

Every round runs, one process at a time: cold (before), cold (after), content floor (x264 re-encoding the after
tree's output of that round, video only, W's settings), incremental (before), incremental (after). Each reelforge
case starts from a cache holding only the narration and music (made once, shared by both trees). The report
gives medians (wall seconds of the timed section; CPU = user + system of the whole process tree) and, on the last
round's outputs, SSIM (Y, U, V and all) of the after video against the before video at 10 frames spread over it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import run_case
from bench.seam import tree_env

BENCH_DIR = Path(__file__).resolve().parent
NEW_TREE = BENCH_DIR.parent
SAMPLED_FRAMES = 10


def ssim_at_frames(reference: Path, video: Path, count: int = SAMPLED_FRAMES) -> list[dict[str, float]]:
    """SSIM of `video` against `reference` at `count` frames spread evenly over them (same frame numbers)."""
    from bench.floor import ffmpeg_exe

    frames = int(subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(reference), "-map", "0:v", "-f", "null", "-"],
                                capture_output=True, text=True).stderr.rsplit("frame=", 1)[1].split()[0])
    picks = [round((frames - 1) * (k + 0.5) / count) for k in range(count)]
    chosen = "+".join(f"eq(n\\,{n})" for n in picks)
    stats = video.with_suffix(".ssim.txt")
    graph = (f"[0:v]select='{chosen}',setpts=N[a];[1:v]select='{chosen}',setpts=N[b];"
             f"[a][b]ssim=stats_file={stats.name}")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(video), "-i", str(reference),
                    "-lavfi", graph, "-f", "null", "-"], check=True, cwd=stats.parent)
    rows = []
    for number, line in zip(picks, stats.read_text().splitlines()):
        values = dict(re.findall(r"(\w+):([\d.]+)", line))
        rows.append({"frame": number, **{key: float(values[key]) for key in ("Y", "U", "V", "All")}})
    return rows


def compare(before: Path, rounds: int, workdir: Path, log: Path) -> dict[str, Any]:
    assets = workdir / "assets"
    subprocess.run([sys.executable, "-m", "bench.assets", str(assets)], cwd=NEW_TREE, check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, **tree_env(NEW_TREE, workdir / "unused")})
    trees = {"before": before, "after": NEW_TREE}
    # One set of narration and music for both trees (made by the after tree; the TTS cache's keys are the same in
    # both): piper's durations vary from one synthesis to the next, and the outputs must be frame for frame
    # comparable.
    shared = workdir / "inputs"
    if not (shared / "tts").is_dir():
        run_case("prewarm", ["prewarm"], env=tree_env(NEW_TREE, shared), cwd=NEW_TREE, log=log)
    inputs = {name: shared for name in trees}

    def fresh(name: str) -> Path:
        cache = workdir / f"cache-{name}"
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        for part in ("tts", "music"):
            shutil.copytree(inputs[name] / part, cache / part)
        return cache

    runs: dict[str, list[dict[str, float]]] = {}

    def record(case: str, run: Any, extra: dict[str, float] | None = None) -> None:
        row = {"s": run.work, "cpu": run.cpu, "peak_mb": run.tree_peak_mb, "load": run.load, **(extra or {})}
        runs.setdefault(case, []).append(row)
        print(f"  {case}: {run.work:.2f} s (cpu {run.cpu:.1f}, peak {run.tree_peak_mb:.0f} MB, load {run.load:.1f})",
              flush=True)

    for number in range(rounds):
        print(f"round {number + 1}", flush=True)
        for name, tree in trees.items():
            out = workdir / f"cold-{name}.mp4"
            record(f"cold-{name}", run_case(f"cold-{name}", ["reelforge-cold", str(assets), str(out)],
                                            env=tree_env(tree, fresh(name)), cwd=tree, log=log))
        record("content-floor", run_case("content-floor", ["content-floor", str(workdir / "cold-after.mp4"),
                                                           str(workdir / "floor.mp4")],
                                         env=tree_env(NEW_TREE, workdir / "unused"), cwd=NEW_TREE, log=log))
        for name, tree in trees.items():
            out = workdir / f"incremental-{name}.mp4"
            run = run_case(f"incremental-{name}", ["reelforge-incremental", str(assets), str(out)],
                           env=tree_env(tree, fresh(name)), cwd=tree, log=log)
            record(f"incremental-{name}", run, {"first_s": run.result["first_render_s"]})
    medians = {case: {key: statistics.median(row[key] for row in rows) for key in rows[0]} for case, rows in runs.items()}
    floor = medians["content-floor"]["s"]
    ratios = {f"{name} / content floor": medians[f"cold-{name}"]["s"] / floor for name in trees}
    ratios.update({f"{name} incremental / its cold": statistics.median(r["s"] / r["first_s"]
                                                                       for r in runs[f"incremental-{name}"])
                   for name in trees})
    ratios["after / before (cold)"] = medians["cold-after"]["s"] / medians["cold-before"]["s"]
    ssim = ssim_at_frames(workdir / "cold-before.mp4", workdir / "cold-after.mp4")
    return {"rounds": rounds, "runs": runs, "median": medians, "ratios": ratios, "ssim": ssim,
            "ssim_min_all": min(row["All"] for row in ssim)}


def markdown(report: dict[str, Any]) -> str:
    medians = report["median"]
    lines = ["| case | median s | CPU s | tree peak MB | runs (s) |", "|---|--:|--:|--:|---|"]
    for case, row in medians.items():
        each = ", ".join(f"{r['s']:.2f}" for r in report["runs"][case])
        lines.append(f"| {case} | {row['s']:.2f} | {row['cpu']:.1f} | {row['peak_mb']:.0f} | {each} |")
    lines += ["", "| ratio | value |", "|---|--:|"]
    lines += [f"| {name} | {value:.3f} |" for name, value in report["ratios"].items()]
    lines += ["", "| frame | SSIM Y | U | V | All |", "|--:|--:|--:|--:|--:|"]
    lines += [f"| {r['frame']} | {r['Y']:.4f} | {r['U']:.4f} | {r['V']:.4f} | {r['All']:.4f} |" for r in report["ssim"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "reelforge-perf")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    report = compare(args.before.resolve(), args.rounds, args.workdir, args.workdir / "log.txt")
    report["machine"] = {"nproc": os.cpu_count(), "load_at_end": os.getloadavg()}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(markdown(report))


if __name__ == "__main__":
    main()

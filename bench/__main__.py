"""The reelforge benchmark: workload W against MoviePy 2.x and the encode-only floor, incremental re-render, scaling.

Run from the repository root: `.venv/bin/python -m bench` (or `make bench`); about 40 minutes.
    --quick           1 repeat, no MoviePy, no 50-scene run, no segment profile (a smoke run, ~6 minutes)
    --only NAME[,..]  cold, moviepy, floor, content-floor, incremental, cold-uncached, scaling, segments

Cases run one at a time, each in its own process (wall time, CPU time and peak memory of its whole process
tree, ffmpeg included), alternating: every round runs each case once, and the table shows the median of the
rounds. Fairness: narration audio + word timings and the music loop are made once before the rounds
(`bench.cases prewarm`) and both reelforge (its TTS and music cache seeded with them, everything else empty:
no segments, no audio mix, no work files) and MoviePy (which reads the same WAVs) start from them;
`cold-uncached` is reelforge from a completely empty cache (speech synthesis and music made in the run).
Prints a Markdown report and writes it to bench/results-<date>.md (raw numbers beside it as .json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.assets import ASSET_SET
from bench.measure import CaseRun, run_case

BENCH_DIR = Path(__file__).resolve().parent
MAIN_CASES = ("cold", "moviepy", "floor", "content-floor", "incremental", "cold-uncached")
ALL_GROUPS = (*MAIN_CASES, "scaling", "segments")
SCALING = (5, 20, 50)
TARGETS = {"speedup": 10.0, "floor_ratio": 1.5, "incremental_ratio": 0.35, "memory_mb": 1024.0}


class Bench:
    def __init__(self, workdir: Path, log: Path):
        self.workdir = workdir
        self.log = log
        self.assets = workdir / "assets"
        self.inputs = workdir / "inputs-cache"
        self.out = workdir / "out"
        self.out.mkdir(parents=True, exist_ok=True)
        self.runs: dict[str, list[CaseRun]] = {}

    # -- caches ------------------------------------------------------------------------------------
    def fresh_cache(self, name: str, seeded: bool = True) -> Path:
        path = self.workdir / "caches" / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        if seeded:
            for part in ("tts", "music"):
                shutil.copytree(self.inputs / part, path / part)
        return path

    def prepare(self) -> dict[str, Any]:
        _say(f"inputs in {self.workdir}")
        # In a child process: the parent stays small, and a child's ru_maxrss starts at its parent's peak.
        subprocess.run([sys.executable, "-m", "bench.assets", str(self.assets)], cwd=BENCH_DIR.parent, check=True,
                       stdout=subprocess.DEVNULL)
        prewarm = self.case("prewarm", ["prewarm"], cache=self.inputs, record=False)
        return prewarm.result

    # -- running -----------------------------------------------------------------------------------
    def case(self, name: str, args: list[str], cache: Path | None = None, record: bool = True) -> CaseRun:
        env = {"REELFORGE_CACHE": str(cache)} if cache else {}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR.parent), os.environ.get("PYTHONPATH")]))
        run = run_case(name, args, env=env, cwd=BENCH_DIR.parent, log=self.log)
        if record:
            self.runs.setdefault(name, []).append(run)
        _say(f"  {name}: {run.work:.1f} s (process {run.wall:.1f} s, cpu {run.cpu:.1f} s, "
             f"tree peak {run.tree_peak_mb:.0f} MB, max process {run.maxrss_mb:.0f} MB, load {run.load:.1f})")
        return run

    def run_main(self, name: str) -> None:
        assets, out = str(self.assets), self.out / f"{name}.mp4"
        if name == "cold":
            self.case(name, ["reelforge-cold", assets, str(out)], cache=self.fresh_cache(name))
        elif name == "cold-uncached":
            self.case(name, ["reelforge-cold", assets, str(out)], cache=self.fresh_cache(name, seeded=False))
        elif name == "incremental":
            self.case(name, ["reelforge-incremental", assets, str(out)], cache=self.fresh_cache(name))
        elif name == "moviepy":
            self.case(name, ["moviepy", assets, str(out)], cache=self.fresh_cache(name))
        elif name == "floor":
            self.case(name, ["floor", str(out)])
        elif name == "content-floor":
            source = self.out / "cold.mp4"
            if not source.is_file():
                _say("  (a reelforge render of W first, for its frames)")
                self.case("cold-for-content", ["reelforge-cold", assets, str(source)], cache=self.fresh_cache("cold"),
                          record=False)
            self.case(name, ["content-floor", str(source), str(out)])
        self.clean(name)

    def run_scaling(self, n_scenes: int) -> None:
        name = f"scaling-{n_scenes}"
        out = self.out / f"{name}.mp4"
        self.case(name, ["reelforge-cold", str(self.assets), str(out), "--scenes", str(n_scenes)],
                  cache=self.fresh_cache(name))
        out.unlink(missing_ok=True)
        self.clean(name)

    def run_segments(self) -> None:
        self.case("segments", ["segments", str(self.assets)], cache=self.fresh_cache("segments"))
        self.clean("segments")

    def clean(self, name: str) -> None:
        shutil.rmtree(self.workdir / "caches" / name, ignore_errors=True)
        if name not in ("cold",):
            (self.out / f"{name}.mp4").unlink(missing_ok=True)


# -- the report -----------------------------------------------------------------------------------
def machine_info() -> dict[str, str]:
    def command(*args: str) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    model = "?"
    memory = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import imageio_ffmpeg

    ffmpeg = command(imageio_ffmpeg.get_ffmpeg_exe(), "-version").splitlines()[0].split(" Copyright")[0]
    try:
        from importlib.metadata import version

        moviepy = version("moviepy")
    except Exception:  # noqa: BLE001 - only for the report
        moviepy = "?"
    return {"nproc": command("nproc"), "arch": command("uname", "-m"), "cpu": model, "memory": memory,
            "python": platform.python_version(), "ffmpeg": ffmpeg, "moviepy": moviepy}


def code_state() -> str:
    """The commit, and a digest of src/reelforge as it is on disk (the working tree may differ from the commit)."""
    import hashlib

    root = BENCH_DIR.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head, dirty = "?", ""
    digest = hashlib.sha256()
    for path in sorted((root / "src" / "reelforge").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return f"commit {head}{' + uncommitted changes in src/' if dirty else ''}, src/reelforge digest {digest.hexdigest()[:12]}"


def _median(runs: list[CaseRun], value=lambda r: r.work) -> float:
    return statistics.median(value(r) for r in runs)


def _fmt_runs(runs: list[CaseRun]) -> str:
    return ", ".join(f"{r.work:.1f}" for r in runs)


def _mb(value: float) -> str:
    return f"{value:,.0f}"


def report(bench: Bench, machine: dict[str, str], prewarm: dict[str, Any], command: str, started: float,
           notes: list[str]) -> str:
    runs = bench.runs
    lines = [f"# reelforge benchmark — {dt.date.today().isoformat()}", ""]
    lines += [f"- Command: `{command}` (total {(time.monotonic() - started) / 60:.1f} min)",
              f"- Machine: `nproc` = {machine['nproc']}, `uname -m` = {machine['arch']}, CPU: {machine['cpu']}, "
              f"RAM {machine['memory']}; Python {machine['python']}, {machine['ffmpeg']} (imageio-ffmpeg), "
              f"MoviePy {machine['moviepy']}",
              f"- Code: {machine['code']}",
              "- Workload W: 5 scenes (3 landscape 1920×1080 clips cropped to fill, 2 stills 3000×2000 zooming), "
              "narration from text, bold_pop captions, upbeat music ducked under the narration, a title on scene 1, "
              "crossfade/slide transitions; 1080×1920, 30 fps, libx264 veryfast crf 21 yuv420p + AAC 192k. "
              f"Inputs from `bench/assets.py` (set `{ASSET_SET}`, `$REELFORGE_BENCH_ASSETS`), document from "
              "`bench/workload.py`, MoviePy version in `bench/moviepy_w.py`.",
              "- Fairness: narration WAVs + word timings (piper, "
              f"{len(prewarm.get('speech_seconds', {}))} texts) and the music loop are made once before the rounds "
              "(`bench.cases prewarm`, kept in the work folder); "
              "reelforge `cold` starts with only those in its cache (no segments, no mixed audio), MoviePy reads "
              "the same files; `cold-uncached` is reelforge with an empty cache (synthesis and music in the run).",
              "- Times are the timed section of each case (the `render()` call; MoviePy clip building + "
              "`write_videofile`; the ffmpeg command), median of the rounds; every case alternates, one process "
              "at a time. CPU = user + system seconds of the whole process tree. Memory: *tree peak* = largest sum "
              "of resident sets of the case's processes at once (sampled every 0.1 s); *max process* = `ru_maxrss` "
              "of the largest single process (what `/usr/bin/time -v` prints). *load* = the 1-minute load average "
              "as each run started: above 0.5 or so, other work shared the CPUs and wall times are inflated "
              "(CPU seconds much less).",
              ]
    lines += [f"- {note}" for note in notes]
    lines.append("")

    labels = {
        "cold": "reelforge, cold (narration + music pre-made)",
        "moviepy": "MoviePy 2.x (same narration + music)",
        "floor": "encode-only floor: 30 s testsrc2 1080×1920",
        "content-floor": "encode floor on W's own frames (decode reelforge's output, encode again)",
        "incremental": "reelforge re-render after editing scene 3's narration (CPU and memory: both renders "
                       "of its process, the untimed first one included)",
        "cold-uncached": "reelforge, cold, empty cache (TTS + music made)",
    }
    present = [name for name in MAIN_CASES if name in runs]
    if present:
        lines += ["## Workload W", "",
                  "| case | median s | runs s | video s | × real time | CPU s | tree peak MB | max process MB | load |",
                  "|---|--:|---|--:|--:|--:|--:|--:|--:|"]
        for name in present:
            group = runs[name]
            duration = group[0].result.get("duration") or 30.0
            work = _median(group)
            lines.append(f"| {labels[name]} | **{work:.1f}** | {_fmt_runs(group)} | {duration:.1f} | "
                         f"{work / duration:.2f} | {_median(group, lambda r: r.cpu):.1f} | "
                         f"{_mb(max(r.tree_peak_mb for r in group))} | {_mb(max(r.maxrss_mb for r in group))} | "
                         f"{', '.join(f'{r.load:.1f}' for r in group)} |")
        lines.append("")
        lines += _targets(runs)
        lines += _breakdown(runs)
    if any(name.startswith("scaling-") for name in runs) or "cold" in runs:
        lines += _scaling(runs)
    if "segments" in runs:
        lines += _segments(runs["segments"][0])
    return "\n".join(lines).rstrip() + "\n"


def _targets(runs: dict[str, list[CaseRun]]) -> list[str]:
    if "cold" not in runs:
        return []
    cold = _median(runs["cold"])
    cold_cpu = _cpu(runs, "cold")
    rows = []

    def row(what: str, value: str, goal: str, met: bool | None) -> None:
        rows.append(f"| {what} | {value} | {goal} | {'—' if met is None else ('yes' if met else '**no**')} |")

    if "moviepy" in runs:
        speedup = _median(runs["moviepy"]) / cold
        row("MoviePy time / reelforge cold time", f"{speedup:.1f}× (CPU s: {_cpu(runs, 'moviepy') / cold_cpu:.1f}×)",
            f"≥ {TARGETS['speedup']:g}×", speedup >= TARGETS["speedup"])
    if "floor" in runs:
        ratio = cold / _median(runs["floor"])
        row("reelforge cold / encode-only floor (testsrc2)",
            f"{ratio:.2f}× (CPU s: {cold_cpu / _cpu(runs, 'floor'):.2f}×)", f"≤ {TARGETS['floor_ratio']:g}×",
            ratio <= TARGETS["floor_ratio"])
    if "content-floor" in runs:
        row("reelforge cold / encode floor on W's own frames",
            f"{cold / _median(runs['content-floor']):.2f}× (CPU s: {cold_cpu / _cpu(runs, 'content-floor'):.2f}×)",
            "(context)", None)
    if "incremental" in runs:
        ratio = _median(runs["incremental"]) / cold
        row("incremental re-render / cold (cold with narration pre-made)", f"{ratio:.0%}",
            f"≤ {TARGETS['incremental_ratio']:.0%}", ratio <= TARGETS["incremental_ratio"])
        if "cold-uncached" in runs:
            ratio_u = _median(runs["incremental"]) / _median(runs["cold-uncached"])
            row("incremental re-render / cold with empty cache (both synthesize what they say)", f"{ratio_u:.0%}",
                f"≤ {TARGETS['incremental_ratio']:.0%}", ratio_u <= TARGETS["incremental_ratio"])
    peak = max(r.tree_peak_mb for r in runs["cold"])
    row("reelforge peak memory on W (tree peak, sum of processes)", f"{peak:,.0f} MB",
        f"≤ {TARGETS['memory_mb']:,.0f} MB", peak <= TARGETS["memory_mb"])
    return ["## Targets", "", "| target | measured | goal | met |", "|---|--:|--:|:-:|", *rows, ""]


def _cpu(runs: dict[str, list[CaseRun]], name: str) -> float:
    return _median(runs[name], lambda r: r.cpu)


def _median_run(group: list[CaseRun]) -> CaseRun:
    ordered = sorted(group, key=lambda r: r.work)
    return ordered[(len(ordered) - 1) // 2]


def _ffmpeg_line(result: dict[str, Any]) -> str:
    ff = result.get("ffmpeg", {})
    kinds = ff.get("by_kind", {})
    parts = [f"{kind} ×{v['runs']}: {v['sum_s']:.1f} s (longest {v['max_s']:.1f})" for kind, v in kinds.items()]
    return f"{ff.get('ffmpeg_runs', 0)} ffmpeg runs — " + "; ".join(parts) + \
        f"; audio pass from first to last step {ff.get('audio_pass_span_s', 0):.1f} s"


def _breakdown(runs: dict[str, list[CaseRun]]) -> list[str]:
    lines = ["## Where reelforge's time goes (median run)", ""]
    for name in ("cold", "incremental", "cold-uncached"):
        if name not in runs:
            continue
        result = _median_run(runs[name]).result
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.get("timings", {}).items())
        lines.append(f"- `{name}`: {timings}; cache {result.get('cache_hits', 0)} hits / "
                     f"{result.get('cache_misses', 0)} misses. {_ffmpeg_line(result)}. Video runs go two at a time "
                     f"beside the audio pass, so their sum exceeds `video_audio`.")
        if name == "incremental":
            lines.append(f"  (its first, untimed render took {result.get('first_render_s', 0):.1f} s)")
    if "moviepy" in runs:
        result = _median_run(runs["moviepy"]).result
        lines.append(f"- `moviepy`: building the clips {result.get('build_s', 0):.1f} s, the rest is "
                     "`write_videofile` (audio to a temp file, then frames composited in Python and piped to ffmpeg).")
    lines.append("")
    return lines


def _scaling(runs: dict[str, list[CaseRun]]) -> list[str]:
    rows = []
    for n in SCALING:
        group = runs.get(f"scaling-{n}") or (runs.get("cold") if n == 5 else None)
        if not group:
            continue
        work = _median(group)
        duration = group[0].result.get("duration") or 0.0
        rows.append((n, len(group), duration, work, _median(group, lambda r: r.cpu),
                     max(r.tree_peak_mb for r in group), max(r.maxrss_mb for r in group)))
    if not rows:
        return []
    lines = ["## Scaling (reelforge cold, narration + music pre-made)", "",
             "| scenes | runs | video s | render s | s per scene | render s / video s | CPU s | tree peak MB | max process MB |",
             "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for n, count, duration, work, cpu, tree, single in rows:
        lines.append(f"| {n} | {count} | {duration:.1f} | {work:.1f} | {work / n:.2f} | "
                     f"{work / duration if duration else 0:.2f} | {cpu:.1f} | {_mb(tree)} | {_mb(single)} |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        lines += ["", f"From {first[0]} to {last[0]} scenes ({last[0] / first[0]:.0f}× the scenes, "
                  f"{last[2] / first[2]:.1f}× the video): time × {last[3] / first[3]:.1f}, "
                  f"tree peak memory × {last[5] / first[5]:.2f}."]
    lines.append("")
    return lines


def _segments(run: CaseRun) -> list[str]:
    rows = run.result.get("rows", [])
    if not rows or "run" not in rows[0]:
        return []
    lines = ["## Run profile of W (each ffmpeg run of the cold render alone, serially)", "",
             "A run renders consecutive segments in one process (each scene decoded once) and cuts its encode into "
             "one cached piece per segment. full = the pipeline's command; filters = the same graph into `-f null` "
             "(decode, crop/scale, zoom, transitions, captions); encode = the run's pieces decoded and encoded again "
             "with the same x264 arguments.", "",
             "| run | segments | frames | inputs | full s | fps | filters s | encode s | MB |",
             "|--:|---|--:|--:|--:|--:|--:|--:|--:|"]
    totals = {"frames": 0, "full_s": 0.0, "filters_s": 0.0, "encode_s": 0.0}
    for row in rows:
        for key in totals:
            totals[key] += row[key]
        lines.append(_profile_row(row))
    lines.append(f"| | **total** | {totals['frames']} | | {totals['full_s']:.1f} | "
                 f"{totals['frames'] / totals['full_s']:.0f} | {totals['filters_s']:.1f} | {totals['encode_s']:.1f} | |")
    whole = run.result.get("whole")
    if whole:
        lines.append(_profile_row({**whole, "kinds": "the whole video as one run"}))
    lines.append("")
    if whole:
        lines.append("`all`: every segment in one ffmpeg process (one filter graph, one x264 encode), what a single "
                     "hand-written ffmpeg command for the video does (no cache pieces, no second run beside it).")
    if "audio_s" in run.result:
        lines.append(f"The audio pass alone (mix with ducking, loudness measured and corrected, AAC): "
                     f"{run.result['audio_s']:.2f} s.")
    lines.append("")
    return lines


def _profile_row(row: dict[str, Any]) -> str:
    return (f"| {row['run']} | {row['segments']}: {row['kinds']} | {row['frames']} | {row['inputs']} | "
            f"{row['full_s']:.2f} | {row['frames'] / row['full_s']:.0f} | {row['filters_s']:.2f} | "
            f"{row['encode_s']:.2f} | {row['bytes'] / 1e6:.1f} |")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, no MoviePy, no 50 scenes, no segment profile.")
    parser.add_argument("--only", default=None, help=f"Comma-separated: {', '.join(ALL_GROUPS)}.")
    parser.add_argument("--repeats", type=int, default=None, help="Rounds of the W cases (default 3; 1 with --quick).")
    parser.add_argument("--moviepy-repeats", type=int, default=None, help="Rounds that include MoviePy (default: all).")
    parser.add_argument("--scaling-repeats", type=int, default=1, help="Runs of each scaling size (default 1).")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "reelforge-bench",
                        help="Inputs, caches and outputs (kept between runs: the inputs are reused).")
    args = parser.parse_args()

    if args.only:
        groups = [g.strip() for g in args.only.split(",") if g.strip()]
        unknown = [g for g in groups if g not in ALL_GROUPS]
        if unknown:
            parser.error(f"unknown --only {', '.join(unknown)}; choose from {', '.join(ALL_GROUPS)}")
    else:
        groups = list(ALL_GROUPS)
        if args.quick:
            groups = [g for g in groups if g not in ("moviepy", "segments")]
    repeats = args.repeats or (1 if args.quick else 3)
    moviepy_repeats = min(args.moviepy_repeats or repeats, repeats)
    sizes = [n for n in SCALING if not (args.quick and n == 50)]

    started = time.monotonic()
    command = ".venv/bin/python -m bench " + " ".join(sys.argv[1:])
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args.workdir, args.workdir / "bench.log")
    machine = machine_info()
    machine["code"] = code_state()
    prewarm = bench.prepare()
    notes = []
    if moviepy_repeats < repeats and "moviepy" in groups:
        notes.append(f"MoviePy ran in {moviepy_repeats} of the {repeats} rounds (to keep the run short).")

    main_cases = [g for g in MAIN_CASES if g in groups]
    for round_number in range(repeats):
        if main_cases:
            _say(f"round {round_number + 1}/{repeats}")
        for name in main_cases:
            if name == "moviepy" and round_number >= moviepy_repeats:
                continue
            bench.run_main(name)
    if "scaling" in groups:
        _say("scaling")
        for _ in range(args.scaling_repeats):
            for n in sizes:
                if n == 5 and "cold" in bench.runs:
                    continue  # W itself: the cold runs above
                bench.run_scaling(n)
    if "segments" in groups:
        _say("segment profile")
        bench.run_segments()
    if "scaling" in groups and "cold" in bench.runs:
        notes.append("Scaling: 5 scenes is W (the `cold` runs); "
                     f"{', '.join(str(n) for n in sizes if n != 5)} scenes ran {args.scaling_repeats}× each.")

    text = report(bench, machine, prewarm, command, started, notes)
    print(text)
    stamp = dt.date.today().isoformat()
    suffix = "-quick" if args.quick else (f"-{'-'.join(groups)}" if args.only else "")
    target = BENCH_DIR / f"results-{stamp}{suffix}.md"
    _write_atomic(target, text)
    raw = {name: [run.__dict__ for run in group] for name, group in bench.runs.items()}
    _write_atomic(target.with_suffix(".json"), json.dumps({"machine": machine, "prewarm": prewarm, "runs": raw},
                                                          indent=1, default=str))
    _say(f"wrote {target} and {target.with_suffix('.json').name}")
    shutil.rmtree(args.workdir / "caches", ignore_errors=True)


if __name__ == "__main__":
    main()

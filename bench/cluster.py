"""The cluster's figures (issue 16): the overhead of rendering W's runs on a Dask cluster over the local pool, and
scaling, measured where this machine allows and modelled from measured per-run durations beyond.

Run from the repository root: `.venv/bin/python -m bench.cluster [--rounds 3] [--long-minutes 10]` (about 30
minutes; `--skip-long` leaves the long video out). Everything runs on this machine: a `dask scheduler` and two
`dask worker --nthreads 1 --resources encode=1` processes on 127.0.0.1 (started here, stopped at the end), the
client in this process.

- overhead: W rendered here (`run(job, workspace)`, the local pool of 2 encoders) against W with its runs on the
  cluster (`DaskRuns`, inputs sent, pieces back), each round from a cache seeded with W's narration and music
  only; alternating, after one untimed warm-up render on the cluster; median of the rounds.
- scaling: a ~10-minute video (W's 50-scene scaling, 12.45 s a scene) rendered once locally (each run's span
  recorded) and once on the 2-worker cluster (the task log); then a model: the measured runs list-scheduled in plan
  order onto N single-encode workers of this machine's speed (one core each, as measured), plus what stays central
  (preparing, the audio pass beside the runs, the mux) and the cluster's measured cost per run (sending inputs,
  bringing pieces back): wall(N) = prepare + max(makespan(N) + cost, audio) + mux.
Prints a Markdown report and writes it to bench/results-<date>-<name>.md (raw numbers beside it as .json);
`--report FILE.json` writes the report again from a run's raw numbers.
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

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "tests"))

WORKER_COUNTS = (1, 2, 4, 8, 16)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def seeded_cache(inputs: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for part in ("tts", "music"):
        shutil.copytree(inputs / part, target / part)
    return target


def long_document(minutes: float) -> dict[str, Any]:
    """W's pattern over 50 scenes, each lasting long enough for a video of about `minutes`."""
    from bench.workload import scaled_document

    document = scaled_document(50)
    seconds = (minutes * 60 + 49 * 0.45) / 50  # transitions overlap ~0.45 s each
    for scene in document["scenes"]:
        scene["duration"] = round(seconds, 2)
    return document


class Timed:
    """Records each local run's span (a LocalRuns whose runs note when they start and end) and the audio pass."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.audio: list[float] = []

    def local_runs(self, workspace):
        from reelforge.fonts import fontconfig_env, fonts_dir
        from reelforge.renderers.ffmpeg.runs import LocalRuns, execute_run

        log = self.runs

        class TimedRuns(LocalRuns):
            def submit(self, spec, files, workdir, cancel, on_frame):
                def timed(*args, **kwargs):
                    started = time.time()
                    try:
                        return execute_run(*args, **kwargs)
                    finally:
                        log.append({"run": spec.name, "frames": spec.frames, "started": started, "ended": time.time()})
                return self._pool.submit(timed, spec, files, workdir, fonts=self.fonts, env=self.env, cancel=cancel,
                                         on_frame=on_frame)

        return TimedRuns(2, fonts_dir(workspace), fontconfig_env(workspace))

    def install_audio_clock(self) -> None:
        from reelforge.renderers.ffmpeg import pipeline

        original = pipeline.render_audio

        def timed(*args, **kwargs):
            clock = time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                self.audio.append(time.monotonic() - clock)

        pipeline.render_audio = timed


def render(document: dict, assets: Path, cache: Path, out: Path, *, client=None, timed: Timed | None = None) -> dict:
    from reelforge.cluster.runs import DaskRuns
    from reelforge.job import RenderJob, prepare, render_prepared
    from reelforge.workspace import Workspace

    workspace = Workspace(cache)
    clock = time.monotonic()
    job = RenderJob.of(document, out, assets=assets)
    prepared = prepare(job, workspace)
    prepare_s = time.monotonic() - clock
    runs = DaskRuns(client) if client is not None else (timed.local_runs(workspace) if timed else None)
    copies: dict[str, int] = {}
    try:
        result = render_prepared(prepared, workspace, runs=runs)
        if client is not None:  # how many workers ended up holding each input (Dask copies it where it is needed)
            holders = client.who_has(list(runs._inputs.values()))
            copies = {key: len(holders.get(future.key, ())) for key, future in runs._inputs.items()}
    finally:
        if runs is not None:
            runs.close()
    wall = time.monotonic() - clock
    record = {"wall_s": wall, "prepare_s": prepare_s, "video_audio_s": result.timings.get("video_audio"),
              "mux_s": result.timings.get("mux"), "seconds": result.duration, "misses": result.cache_misses,
              "load_1m": os.getloadavg()[0]}  # the machine is shared: how busy it was
    if client is not None:
        record["runs"] = [{k: v for k, v in r.items() if k in ("run", "worker", "started", "ended", "status")}
                          for r in runs.log]
        record["inputs_sent_bytes"] = sum(runs.sent.values())
        record["inputs_to_workers_bytes"] = sum(size * max(copies.get(key, 1), 1) for key, size in runs.sent.items())
        record["pieces_back_bytes"] = runs.received
    return record


def makespan(durations: list[float], slots: int) -> float:
    """Greedy list scheduling in plan order (each run to the slot free first), as the scheduler hands them out."""
    free = [0.0] * slots
    for duration in durations:
        at = min(range(slots), key=free.__getitem__)
        free[at] += duration
    return max(free)


def model(runs: list[float], prepare_s: float, audio_s: float, mux_s: float, cost_s: float) -> dict[int, float]:
    return {n: prepare_s + max(makespan(runs, n) + cost_s, audio_s) + mux_s for n in WORKER_COUNTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/reelforge-bench-cluster"))
    parser.add_argument("--name", default="cluster", help="results-<date>-NAME.md/.json (default cluster)")
    parser.add_argument("--report", type=Path, metavar="FILE.json", help="Only write the report of these results.")
    args = parser.parse_args()
    if args.report:
        print(write_report(json.loads(args.report.read_text(encoding="utf-8"))))
        return

    import distributed

    from bench.workload import w_document
    from cluster_tools import Cluster

    workdir = args.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    assets, inputs = workdir / "assets", workdir / "inputs-cache"
    env = {**os.environ, "PYTHONPATH": str(REPO), "REELFORGE_CACHE": str(inputs)}
    subprocess.run([sys.executable, "-m", "bench.assets", str(assets)], cwd=REPO, check=True, env=env,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "bench.cases", "prewarm"], cwd=REPO, check=True, env=env,
                   stdout=subprocess.DEVNULL)
    timed = Timed()
    timed.install_audio_clock()
    cluster = Cluster(workdir / "dask").start()
    cluster.start_worker()
    cluster.start_worker()
    results: dict[str, Any] = {"machine": f"{platform.node()}, {os.cpu_count()} cores, shared with other work",
                               "date": dt.date.today().isoformat(), "name": args.name,
                               "command": " ".join(["python -m bench.cluster", *sys.argv[1:]])}
    try:
        client = distributed.Client(cluster.address, timeout=30, set_as_default=False)
        cluster.ensure_workers(2, client)
        w = w_document()
        _say("warm-up render on the cluster")
        render(w, assets, seeded_cache(inputs, workdir / "caches" / "warm"), workdir / "warm.mp4", client=client)
        local, remote = [], []
        for number in range(args.rounds):
            local.append(render(w, assets, seeded_cache(inputs, workdir / "caches" / "local"),
                                workdir / "local.mp4", timed=timed))
            _say(f"round {number + 1}: local {local[-1]['wall_s']:.1f} s")
            remote.append(render(w, assets, seeded_cache(inputs, workdir / "caches" / "cluster"),
                                 workdir / "cluster.mp4", client=client))
            _say(f"round {number + 1}: cluster {remote[-1]['wall_s']:.1f} s")
        results["w"] = {"local": local, "cluster": remote,
                        "local_median_s": statistics.median(r["wall_s"] for r in local),
                        "cluster_median_s": statistics.median(r["wall_s"] for r in remote),
                        "local_runs": list(timed.runs), "audio_s": list(timed.audio)}
        results["w"]["overhead"] = results["w"]["cluster_median_s"] / results["w"]["local_median_s"] - 1
        if not args.skip_long:
            document = long_document(args.long_minutes)
            timed.runs.clear()
            timed.audio.clear()
            _say("long video, locally")
            long_local = render(document, assets, seeded_cache(inputs, workdir / "caches" / "long-local"),
                                workdir / "long-local.mp4", timed=timed)
            local_runs = list(timed.runs)
            audio_s = timed.audio[-1]
            _say(f"long video, locally: {long_local['wall_s']:.1f} s; on the cluster")
            long_cluster = render(document, assets, seeded_cache(inputs, workdir / "caches" / "long-cluster"),
                                  workdir / "long-cluster.mp4", client=client)
            _say(f"long video on the cluster: {long_cluster['wall_s']:.1f} s")
            results["long"] = {"local": long_local, "cluster": long_cluster, "local_runs": local_runs,
                               "audio_s": audio_s}
        client.close()
    finally:
        cluster.stop()
    report = write_report(results)
    print(report)


def _scaling(record: dict, runs: list[dict], audio_s: float, cluster: dict | None) -> dict[str, Any]:
    durations = [r["ended"] - r["started"] for r in sorted(runs, key=lambda r: r["started"])]
    central = {"prepare_s": record["prepare_s"], "audio_s": audio_s, "mux_s": record["mux_s"]}
    cost = 0.0
    if cluster is not None:  # the cluster's cost per render: its measured video phase over the model's for 2
        cost = max(cluster["video_audio_s"] - max(makespan(durations, 2), audio_s), 0.0)
    return {"runs": len(durations), "durations": durations, "longest_s": max(durations), "sum_s": sum(durations),
            **central,
            "cost_s": cost, "model": model(durations, record["prepare_s"], audio_s, record["mux_s"], cost)}


def write_report(results: dict[str, Any]) -> str:
    w = results["w"]
    lines = [f"## Dask cluster ({results['date']}; {results['machine']})", "",
             f"Command: `.venv/bin/{results.get('command', 'python -m bench.cluster')}` (scheduler + 2 `dask worker --nthreads 1 --resources "
             "encode=1` on 127.0.0.1; the machine is shared with other work right now, figures are noisy).", "",
             "### Overhead of the cluster path on W (medians)", "",
             "| render | wall (s) | rounds |", "| --- | --- | --- |",
             f"| local pool (2 encoders) | {w['local_median_s']:.2f} | {_rounds(w['local'])} |",
             f"| cluster (2 single-thread workers, inputs sent) | {w['cluster_median_s']:.2f} | "
             f"{_rounds(w['cluster'])} |", "",
             f"Overhead: **{w['overhead'] * 100:+.1f}%** (target < 10%).", ""]
    lines += _transfer_lines(results)
    # W on 4 workers: from W's measured runs (the last local round's spans)
    last_round = _last_round(w["local_runs"])
    local_w = w["local"][-1]
    w_model = _scaling(local_w, last_round, w["audio_s"][-1] if w["audio_s"] else 0.0, w["cluster"][-1])
    seconds = local_w["seconds"]
    four = w_model["model"][4]
    lines += ["### W on more workers (model from W's measured runs)", "",
              f"W lasts {seconds:.1f} s; {w_model['runs']} runs, the longest {w_model['longest_s']:.1f} s, "
              f"{w_model['sum_s']:.1f} s of runs in all; central: prepare {w_model['prepare_s']:.1f} s, audio pass "
              f"{w_model['audio_s']:.1f} s (beside the runs), mux {w_model['mux_s']:.2f} s; cluster cost "
              f"{w_model['cost_s']:.2f} s.", "",
              "| workers | " + " | ".join(map(str, WORKER_COUNTS)) + " |",
              "| --- | " + " | ".join("---" for _ in WORKER_COUNTS) + " |",
              "| wall (s) | " + " | ".join(f"{w_model['model'][n]:.1f}" for n in WORKER_COUNTS) + " |", "",
              _four_worker_note(w_model, seconds, four), ""]
    if "long" in results:
        long = results["long"]
        scaling = _scaling(long["local"], long["local_runs"], long["audio_s"], long["cluster"])
        measured = {1: None, 2: long["cluster"]["wall_s"]}
        lines += [f"### Scaling: a {long['local']['seconds'] / 60:.1f}-minute video", "",
                  f"Rendered locally in {long['local']['wall_s']:.0f} s and on the 2-worker cluster in "
                  f"{long['cluster']['wall_s']:.0f} s. {scaling['runs']} runs (the longest "
                  f"{scaling['longest_s']:.1f} s, {scaling['sum_s']:.0f} s in all, measured with 2 encoders "
                  f"sharing this machine's 2 cores); central: prepare {scaling['prepare_s']:.1f} s, audio "
                  f"{scaling['audio_s']:.1f} s, mux {scaling['mux_s']:.1f} s; cluster cost {scaling['cost_s']:.1f} s.",
                  "", "| workers | " + " | ".join(map(str, WORKER_COUNTS)) + " |",
                  "| --- | " + " | ".join("---" for _ in WORKER_COUNTS) + " |",
                  "| model wall (s) | " + " | ".join(f"{scaling['model'][n]:.0f}" for n in WORKER_COUNTS) + " |",
                  "| measured (s) | " + " | ".join(f"{measured[n]:.0f}" if measured.get(n) else "-"
                                                    for n in WORKER_COUNTS) + " |", "",
                  _stops_note(scaling), ""]
    text = "\n".join(lines)
    stamp = results["date"]
    name = results.get("name", "cluster")
    (BENCH_DIR / f"results-{stamp}-{name}.md").write_text(text + "\n", encoding="utf-8")
    (BENCH_DIR / f"results-{stamp}-{name}.json").write_text(json.dumps(results, indent=1, default=str) + "\n",
                                                             encoding="utf-8")
    return text


def _transfer_lines(results: dict[str, Any]) -> list[str]:
    """Bytes the "send" transfer moved: inputs read and sent by the client (each once per render), the same inputs
    as held by the workers in the end (each copy to a worker that needed it), pieces back; per minute of video."""
    rows = [("W", results["w"]["cluster"][-1])]
    if "long" in results:
        rows.append((f"{results['long']['local']['seconds'] / 60:.0f}-minute video", results["long"]["cluster"]))
    mb = 1e6
    lines = ["### What the cluster moves (inputs sent, pieces back; 1080x1920 web quality)", "",
             "| render | length (s) | inputs sent by the client (MB) | inputs held by workers (MB) | pieces back (MB) "
             "| pieces back per minute (MB) | all of it on 1 Gb/s (s) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, record in rows:
        seconds = record["seconds"]
        sent, held, back = record["inputs_sent_bytes"], record["inputs_to_workers_bytes"], record["pieces_back_bytes"]
        wire = (sent + held + back) * 8 / 1e9  # client -> scheduler, -> workers, pieces back
        lines.append(f"| {name} | {seconds:.1f} | {sent / mb:.1f} | {held / mb:.1f} | {back / mb:.1f} | "
                     f"{back / mb * 60 / seconds:.1f} | {wire:.2f} |")
    lines += ["", "Inputs are sent once per render whatever its length (W's three 8 s clips and two stills; the long "
              "video reuses them); pieces grow with the video.", ""]
    return lines


def _rounds(records: list[dict]) -> str:
    return ", ".join(f"{record['wall_s']:.1f}" + (f" (load {record['load_1m']:.1f})" if "load_1m" in record else "")
                     for record in records)


def _last_round(runs: list[dict]) -> list[dict]:
    """The runs of the last local render (its runs started after the previous render's ended)."""
    ordered = sorted(runs, key=lambda r: r["started"])
    last: list[dict] = []
    for run in ordered:
        if run["run"] in {r["run"] for r in last}:
            last = []
        last.append(run)
    return last


def split_runs(durations: list[float], count: int) -> list[float]:
    """The runs a plan for `count` encoders would make, by model: the longest run halved until there are `count`
    (the planner splits the run of most frames at its middle; a run's time taken as even over its frames)."""
    runs = list(durations)
    while len(runs) < count:
        longest = max(range(len(runs)), key=runs.__getitem__)
        runs[longest:longest + 1] = [runs[longest] / 2, runs[longest] / 2]
    return runs


def _four_worker_note(scaling: dict, seconds: float, four: float) -> str:
    central = scaling["prepare_s"] + scaling["mux_s"]
    planned = scaling["prepare_s"] + max(makespan(split_runs(scaling["durations"], 4), 4) + scaling["cost_s"],
                                         scaling["audio_s"]) + scaling["mux_s"]
    text = [f"On 4 workers W as planned by default (for 2 encoders: {scaling['runs']} runs) takes {four:.1f} s by "
            f"the model against its own {seconds:.1f} s: the critical path is the longest run "
            f"({scaling['longest_s']:.1f} s) plus the central parts, and 2 of the 4 workers idle."]
    if four > seconds:
        needed = (four - central) / max(seconds - central, 1e-9)
        text.append(f"To finish within {seconds:.1f} s so, a 4-worker cluster needs workers about {needed:.2f}x "
                    f"this machine's single-core speed per encode.")
    text.append(f"Planned for 4 encoders (`RenderJob(..., workers=4)`: at least 4 runs, each about a quarter of "
                f"the frames; different pieces, so not the same bytes as the default plan's) W takes about "
                f"{planned:.1f} s by the model on 4 workers of this machine's speed, "
                f"{'under' if planned < seconds else 'over'} its own length, as long as the audio pass "
                f"({scaling['audio_s']:.1f} s, central) stays shorter than a run.")
    return " ".join(text)


def _stops_note(scaling: dict) -> str:
    values = scaling["model"]
    stops = next((n for a, n in zip(WORKER_COUNTS, WORKER_COUNTS[1:]) if values[a] - values[n] < 0.1 * values[a]),
                 WORKER_COUNTS[-1])
    floor = scaling["prepare_s"] + max(scaling["longest_s"] + scaling["cost_s"], scaling["audio_s"]) + scaling["mux_s"]
    return (f"It stops scaling at about {stops} workers (the next doubling gains under 10%): the floor is "
            f"{floor:.0f} s, set by the longest run, the audio pass and the mux, which stay central.")


if __name__ == "__main__":
    main()

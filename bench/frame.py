"""`reelforge frame` end to end with a warm cache (process start, imports, load, resolve from the cache, compose,
PNG), by two source trees alternating in one run.

    .venv/bin/python -m bench.frame [--before /path/to/old/checkout] [--rounds 5] [--workdir DIR]

Each tree gets a cache of its own, warmed by one `frame` call of its own code at every time measured (narration,
music, cards made once). Then each round runs, for each time of templates/demo.json (3 s: a still under its
title; 12 s: a card overlay, captions; 20 s: a clip and captions), the old tree then the new one. Without
`--before` only this tree is measured. The report: each tree's median over all calls and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
NEW_TREE = BENCH_DIR.parent
TIMES = ("3", "12", "20")


def tree_env(tree: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "REELFORGE_CACHE": str(cache), "PYTHONPATH": os.pathsep.join([str(tree), str(tree / "src")])}


def frame_call(tree: Path, cache: Path, at: str, out: Path) -> float:
    demo = tree / "templates" / "demo.json"
    clock = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reelforge", "frame", str(demo), "--at", at, "-o", str(out)], cwd=tree,
                   env=tree_env(tree, cache), check=True, capture_output=True)
    return time.perf_counter() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="The older checkout to compare with.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "reelforge-frame")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": NEW_TREE} if args.before else {"after": NEW_TREE}
    args.workdir.mkdir(parents=True, exist_ok=True)
    for name, tree in trees.items():  # warm: everything a frame reads is in the tree's own cache
        cache = args.workdir / f"cache-{name}"
        shutil.rmtree(cache, ignore_errors=True)
        for at in TIMES:
            frame_call(tree, cache, at, args.workdir / f"{name}-{at}.png")
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    for round_number in range(args.rounds):
        for at in TIMES:
            for name, tree in trees.items():
                seconds[name].append(frame_call(tree, args.workdir / f"cache-{name}", at, args.workdir / f"{name}.png"))
        print(f"round {round_number + 1}: " + ", ".join(f"{n} {statistics.median(v[-3:]):.3f} s" for n, v in seconds.items()),
              flush=True)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    report = {"machine": {"nproc": os.cpu_count(), "load": os.getloadavg()}, "rounds": args.rounds, "seconds": seconds,
              "median": medians}
    if "before" in medians:
        report["ratio"] = medians["after"] / medians["before"]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

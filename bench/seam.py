"""Before and after a change, in one run: workload W's cold render by two source trees, alternating, and the cost of
content-hashing a large file.

    .venv/bin/python -m bench.seam --before /path/to/old/checkout [--rounds 3] [--workdir DIR]
    .venv/bin/python -m bench.seam --hash-only [--hash-gb 1]

Both trees run with this venv (the older one put first on PYTHONPATH, its own `bench` package included), each
from a cache holding only its own narration and music (made once, by its own code, before the rounds): so each
cold render makes every segment, the audio pass and the mux. Rounds alternate old, new, old, new, ...; the
report gives each tree's median and the ratio of the medians. `--hash-gb` makes a file of that many GB and times
hashing it cold (first sight), then again in the same process and in a new process (both from the memo).
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

from bench.measure import run_case

BENCH_DIR = Path(__file__).resolve().parent
NEW_TREE = BENCH_DIR.parent


def tree_env(tree: Path, cache: Path) -> dict[str, str]:
    paths = [str(tree), str(tree / "src")]
    return {"REELFORGE_CACHE": str(cache), "PYTHONPATH": os.pathsep.join(paths)}


def compare(before: Path, rounds: int, workdir: Path, log: Path) -> dict:
    assets = workdir / "assets"
    subprocess.run([sys.executable, "-m", "bench.assets", str(assets)], cwd=NEW_TREE, check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, **tree_env(NEW_TREE, workdir / "unused")})
    trees = {"before": before, "after": NEW_TREE}
    inputs = {}
    for name, tree in trees.items():  # narration and music, made by each tree's own code into its own cache
        inputs[name] = workdir / f"inputs-{name}"
        shutil.rmtree(inputs[name], ignore_errors=True)
        run_case(f"prewarm-{name}", ["prewarm"], env=tree_env(tree, inputs[name]), cwd=tree, log=log)
    times: dict[str, list[float]] = {name: [] for name in trees}
    for round_number in range(rounds):
        for name, tree in trees.items():
            cache = workdir / f"cache-{name}"
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir(parents=True)
            for part in ("tts", "music"):
                shutil.copytree(inputs[name] / part, cache / part)
            out = workdir / f"{name}.mp4"
            run = run_case(f"cold-{name}", ["reelforge-cold", str(assets), str(out)], env=tree_env(tree, cache),
                           cwd=tree, log=log)
            times[name].append(run.work)
            print(f"round {round_number + 1} {name}: {run.work:.2f} s (load {run.load:.1f})", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {"rounds": rounds, "seconds": times, "median": medians, "ratio": medians["after"] / medians["before"]}


def hashing(gigabytes: float, workdir: Path) -> dict:
    from reelforge.workspace import Workspace

    big = workdir / "big.bin"
    size = int(gigabytes * (1 << 30))
    if not big.is_file() or big.stat().st_size != size:
        with big.open("wb") as handle:
            block = os.urandom(1 << 20)
            for _ in range(size >> 20):
                handle.write(block)
    cache = workdir / "hash-cache"
    shutil.rmtree(cache, ignore_errors=True)
    workspace = Workspace(cache)
    clock = time.perf_counter()
    digest = workspace.file_hash(big)
    cold = time.perf_counter() - clock
    clock = time.perf_counter()
    assert workspace.file_hash(big) == digest
    warm = time.perf_counter() - clock
    code = ("import sys, time; from pathlib import Path; from reelforge.workspace import Workspace; "
            "w = Workspace(Path(sys.argv[1])); c = time.perf_counter(); w.file_hash(Path(sys.argv[2])); "
            "print(time.perf_counter() - c)")
    other = float(subprocess.run([sys.executable, "-c", code, str(cache), str(big)], check=True, capture_output=True,
                                 text=True).stdout)
    return {"gigabytes": gigabytes, "first_s": cold, "same_process_s": warm, "new_process_s": other,
            "rate_mb_s": size / cold / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="The older checkout to compare with.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hash-gb", type=float, default=1.0)
    parser.add_argument("--hash-only", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "reelforge-seam")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    report = {"machine": {"nproc": os.cpu_count(), "load": os.getloadavg()}}
    report["hashing"] = hashing(args.hash_gb, args.workdir)
    print(json.dumps(report["hashing"]), flush=True)
    if not args.hash_only:
        if args.before is None:
            parser.error("--before is needed to compare")
        report["cold"] = compare(args.before.resolve(), args.rounds, args.workdir, args.workdir / "log.txt")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

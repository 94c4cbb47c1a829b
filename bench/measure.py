"""Running one benchmark case in its own process: wall time, peak memory of the process tree, its JSON result.

Two memory figures per case:
- `maxrss_mb`: `ru_maxrss` from `os.wait4` on the case's process, which includes its waited-for children
  (ffmpeg, piper): the largest resident set of any single process of the tree, the figure `/usr/bin/time -v`
  prints as "Maximum resident set size".
- `tree_peak_mb`: the largest *sum* of resident sets over the whole tree at once, sampled from /proc every
  0.1 s: what the machine must hold while two ffmpeg encoders and Python run side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
SAMPLE_SECONDS = 0.1


@dataclass
class CaseRun:
    name: str
    wall: float  # seconds, process start to exit (interpreter start and imports included)
    maxrss_mb: float
    tree_peak_mb: float
    cpu: float  # user + system seconds of the process and its children
    load: float  # 1-minute load average when the case started (other work on the machine skews wall times)
    result: dict[str, Any] = field(default_factory=dict)  # what the case printed (its own timings)

    @property
    def work(self) -> float:
        """The case's own measured seconds (the timed section), else the process wall time."""
        return float(self.result.get("work_s", self.wall))


def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident kB) for every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        # Fields after the command name (which may hold spaces) start after the last ')'.
        rest = stat[stat.rfind(")") + 2:].split()
        table[int(entry)] = (int(rest[1]), int(rest[21]) * PAGE_KB)
    return table


def tree_rss_kb(root: int) -> int:
    """Sum of resident sets of `root` and all its descendants, in kB."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, ()))
    return total


def run_case(name: str, args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
             log: Path | None = None) -> CaseRun:
    """Run `python -m bench.cases <args>` and measure it."""
    command = [sys.executable, "-m", "bench.cases", *args]
    stderr = open(log, "ab") if log else subprocess.DEVNULL
    load = os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                               stderr=stderr)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(process.pid))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")  # returns when the case exits
    done.set()
    sampler.join()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if log:
        stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"case {name} failed (exit {process.returncode}); see {log or 'stderr'}")
    result: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
    return CaseRun(name, wall, usage.ru_maxrss / 1024, peak / 1024, usage.ru_utime + usage.ru_stime, load, result)


def emit(result: dict[str, Any]) -> None:
    """Called by a case: hand its result to the parent."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)

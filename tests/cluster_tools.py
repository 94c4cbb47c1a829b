"""A real Dask cluster on 127.0.0.1 for tests: a `dask scheduler` process and `dask worker --nthreads 1 --resources
encode=1` processes (no nanny, so SIGKILL of a worker's pid kills the worker itself), each in its own process
group (in our session: with the kernel's autogroup scheduling, a session of its own would give each worker as much
CPU as all of this process's session, and a benchmark would compare unequal shares), each stopped by its own pid
at the end, and each killed by the kernel should the process that started it die first (`start_child`: a test
process killed mid-run left a worker behind for half an hour)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from reelforge.process import start_child

DASK = Path(sys.executable).parent / "dask"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=10)


def descendants(pids: set[int]) -> list[tuple[int, str]]:
    """(pid, command name) of every process below `pids`."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                parents[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), name)
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], set(pids)
    while frontier:
        below = {pid for pid, (parent, _) in parents.items() if parent in frontier}
        found += [(pid, parents[pid][1]) for pid in sorted(below)]
        frontier = below
    return found


@dataclass
class Cluster:
    folder: Path
    address: str = ""
    scheduler: subprocess.Popen | None = None
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    started: int = 0

    def start(self) -> "Cluster":
        self.folder.mkdir(parents=True, exist_ok=True)
        info = self.folder / "scheduler.json"
        log = (self.folder / "scheduler.log").open("wb")
        self.scheduler = start_child([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                           "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                                     "--scheduler-file", str(info)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert self.scheduler.poll() is None and time.monotonic() < deadline, \
                (self.folder / "scheduler.log").read_text()[-3000:]
            time.sleep(0.1)
        import json

        self.address = json.loads(info.read_text())["address"]
        return self

    def start_worker(self) -> str:
        self.started += 1
        name = f"w{self.started}"
        log = (self.folder / f"{name}.log").open("wb")
        self.workers[name] = start_child(
            [str(DASK), "worker", self.address, "--nthreads", "1", "--resources", "encode=1", "--no-nanny",
             "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--host", "127.0.0.1", "--name", name,
             "--local-directory", str(self.folder / name)], stdout=log, stderr=subprocess.STDOUT)
        return name

    def alive(self) -> dict[str, subprocess.Popen]:
        return {name: process for name, process in self.workers.items() if process.poll() is None}

    def ensure_workers(self, count: int, client) -> None:
        """Start workers until `count` are alive, and wait until the scheduler knows them."""
        while len(self.alive()) < count:
            self.start_worker()
        client.wait_for_workers(count, timeout=120)
        deadline = time.monotonic() + 60
        while len(client.scheduler_info(n_workers=-1)["workers"]) > count and time.monotonic() < deadline:
            time.sleep(0.1)  # a killed worker's departure

    def worker_pids(self) -> set[int]:
        return {process.pid for process in self.alive().values()}

    def stop(self) -> None:
        for process in self.workers.values():
            _stop(process)
        if self.scheduler is not None:
            _stop(self.scheduler)


def inprocess_cluster(folder: Path, workers: int = 2, threads: int = 1, encodes: int | None = 1):
    """An in-process LocalCluster (`processes=False`), its HTTP endpoints on 127.0.0.1 only, its workers' files
    (their reelforge caches too) under `folder`."""
    import distributed

    resources = {"encode": encodes} if encodes else None
    return distributed.LocalCluster(n_workers=workers, threads_per_worker=threads, processes=False,
                                    resources=resources, dashboard_address=None,
                                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                    worker_dashboard_address="127.0.0.1:0", local_directory=str(folder))

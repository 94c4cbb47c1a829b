"""Where renders run. The engine decides which job runs and when; an `Executor` only runs `RenderTask`s.

A task is plain data (a `RenderJob` with its output in the job's folder, the workspace's folders as a dict, the
caption files to write), so an executor may run it in this process (`LocalExecutor`, a thread pool) or send it
elsewhere (a cluster executor submits `run_task` to its workers). The contract:

- `slots`: how many tasks it runs at once; the engine never submits more.
- `submit(task, on_progress, cancel)` returns a `concurrent.futures.Future` whose result is `run_task`'s dict,
  or whose exception is the render's (a `ReelforgeError`, `RenderCancelled` after `cancel.cancel()`).
  `on_progress` must be called in this process (a remote executor relays its workers' progress), and setting
  `cancel` must stop the task's ffmpeg processes wherever they run.
- `shutdown(wait)`: no new tasks; with `wait`, return when the running ones have ended.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelforge.job import RenderJob, prepare, render_prepared
from reelforge.progress import CancelToken, ProgressCallback
from reelforge.workspace import Workspace


@dataclass(frozen=True)
class RenderTask:
    """One render of one job, as data another process can receive."""

    job_id: str
    job: RenderJob
    workspace: dict[str, Any]
    captions: tuple[str, ...] = ()  # sidecar files (.srt, .vtt) to write from the timeline's captions

    def to_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "job": self.job.model_dump(mode="json"), "workspace": self.workspace,
                "captions": list(self.captions)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RenderTask":
        return cls(data["job_id"], RenderJob.model_validate(data["job"]), dict(data["workspace"]),
                   tuple(data.get("captions", ())))


def run_task(task: RenderTask, on_progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None) -> dict[str, Any]:
    """Render the task's job into its output and write its caption files; what the render made, as a dict."""
    from reelforge.timeline.captions import write_sidecar

    workspace = Workspace.from_dict(task.workspace)
    prepared = prepare(task.job, workspace, on_progress=on_progress, cancel=cancel)
    result = render_prepared(prepared, workspace, on_progress=on_progress, cancel=cancel)
    timeline = prepared.timeline
    written = []
    for name in task.captions:
        if timeline.cues:
            write_sidecar(timeline.cues, timeline.rate, Path(name))
            written.append(Path(name).suffix.lstrip("."))
    return {"duration": round(result.duration, 3), "width": result.width, "height": result.height,
            "size": result.size_bytes, "cacheHits": result.cache_hits, "cacheMisses": result.cache_misses,
            "captions": written, "warnings": [str(w) for w in prepared.loaded.warnings]}


class Executor(ABC):
    """Runs render tasks (see the module's docstring for the contract)."""

    slots: int

    @abstractmethod
    def submit(self, task: RenderTask, on_progress: ProgressCallback, cancel: CancelToken) -> Future:
        ...

    def shutdown(self, wait: bool = True) -> None:
        pass


class LocalExecutor(Executor):
    """Tasks in a pool of threads of this process (ffmpeg does the heavy work in its own processes).

    With `nice`, each render thread lowers its own scheduling priority first; on Linux a thread's niceness is
    its own and passes to the threads and processes it starts, so the render and its ffmpeg runs yield the
    CPU to the threads answering HTTP requests."""

    def __init__(self, slots: int, *, nice: int = 0):
        self.slots = slots
        self.nice = nice
        self._pool = ThreadPoolExecutor(max_workers=max(slots, 1), thread_name_prefix="render",
                                        initializer=self._lower_priority)

    def _lower_priority(self) -> None:
        if self.nice and hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except OSError:
                pass

    def submit(self, task: RenderTask, on_progress: ProgressCallback, cancel: CancelToken) -> Future:
        return self._pool.submit(run_task, task, on_progress, cancel)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)

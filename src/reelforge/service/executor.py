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

`ProcessExecutor` (the server's default) runs each task in a process of its own; `LocalExecutor` in a thread
of this process (for programs that embed the engine); `reelforge.cluster.executor.DaskExecutor` (`serve
--scheduler`) prepares, mixes and muxes here and puts each render's video runs on a Dask cluster.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelforge.errors import ReelforgeError, RenderCancelled
from reelforge.job import RenderJob, prepare, render_prepared
from reelforge.progress import CancelToken, Progress, ProgressCallback
from reelforge.workspace import Workspace

PRELOAD = ["reelforge.job", "reelforge.service.tasks", "reelforge.resolve.resolver", "reelforge.timeline.compile",
           "reelforge.renderers.ffmpeg.pipeline", "reelforge.timeline.captions", "reelforge.speech.tts"]


@dataclass(frozen=True)
class RenderTask:
    """One render of one job, as data another process can receive."""

    job_id: str
    job: RenderJob | None  # None for a task of another `kind`
    workspace: dict[str, Any]
    captions: tuple[str, ...] = ()  # sidecar files (.srt, .vtt) to write from the timeline's captions
    scenes: str | None = None  # where to write the scene index (JSON: each scene's id, start, end, narration)
    kind: str = "render"  # or a task of `reelforge.service.tasks` (e.g. "transcribe"), run with `params`
    params: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "job": self.job.model_dump(mode="json") if self.job is not None else None,
                "workspace": self.workspace, "captions": list(self.captions), "scenes": self.scenes,
                "kind": self.kind, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RenderTask":
        job = RenderJob.model_validate(data["job"]) if data.get("job") is not None else None
        return cls(data["job_id"], job, dict(data["workspace"]), tuple(data.get("captions", ())),
                   data.get("scenes"), data.get("kind", "render"), data.get("params"))


def run_task(task: RenderTask, on_progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None, runs=None) -> dict[str, Any]:
    """Render the task's job into its output and write its caption files and scene index (or run the task of
    another kind); what it made, as a dict. `runs`: where the video runs execute (a `RunExecutor`; default here)."""
    from reelforge.timeline.captions import write_sidecar

    workspace = Workspace.from_dict(task.workspace)
    if task.kind != "render":
        from reelforge.service.tasks import run_kind

        return run_kind(task.kind, task.params or {}, workspace, on_progress, cancel)
    assert task.job is not None
    prepared = prepare(task.job, workspace, on_progress=on_progress, cancel=cancel)
    result = render_prepared(prepared, workspace, on_progress=on_progress, cancel=cancel, runs=runs)
    timeline = prepared.timeline
    written = []
    for name in task.captions:
        if timeline.cues:
            write_sidecar(timeline.cues, timeline.rate, Path(name))
            written.append(Path(name).suffix.lstrip("."))
    if task.scenes:
        write_scene_index(prepared, Path(task.scenes))
    return {"duration": round(result.duration, 3), "width": result.width, "height": result.height,
            "size": result.size_bytes, "cacheHits": result.cache_hits, "cacheMisses": result.cache_misses,
            "captions": written, "warnings": [str(w) for w in prepared.loaded.warnings]}


def write_scene_index(prepared, path: Path) -> None:
    """Each scene's id, start and end (seconds in the video) and narration, as JSON (for share pages)."""
    import json

    from reelforge.fileio import write_atomic

    timeline = prepared.timeline
    scenes = {scene.id: scene for scene in prepared.loaded.document.scenes}
    index = []
    for layer in timeline.scenes:
        scene = scenes.get(layer.name)
        index.append({"id": layer.name, "title": scene.title if scene else None,
                      "start": round(float(timeline.seconds(layer.range.start)), 3),
                      "end": round(float(timeline.seconds(layer.range.end)), 3),
                      "narration": (scene.narration.words_text if scene and scene.narration else "")
                      or " ".join(cue.text for cue in timeline.cues if cue.owner == layer.name)})
    write_atomic(path, json.dumps(index, ensure_ascii=False))


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


class TaskFailed(ReelforgeError):
    """A render that failed in another process: `report` is its error as `reelforge.reports.error_report` made it."""

    def __init__(self, report: dict[str, Any]):
        path, message = report.get("path"), report.get("message", "render failed")
        super().__init__(f"{path}: {message}" if path else message)
        self.report = report
        self.exit_code = report.get("exitCode", 1)


def _die_with_parent() -> None:
    """Linux: this process is killed when the process that started it dies (even by SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(connection, task: dict[str, Any], nice: int) -> None:
    """A render process: runs one task, sends progress and the outcome, obeys a "cancel" from the server."""
    from reelforge.reports import error_report

    _die_with_parent()
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    lock = threading.Lock()
    token = CancelToken()

    def send(message: tuple) -> None:
        with lock:
            try:
                connection.send(message)
            except (OSError, ValueError):
                token.cancel()  # the server is gone

    def listen() -> None:
        try:
            while connection.recv() != "cancel":
                pass
        except (EOFError, OSError):
            pass
        token.cancel()

    threading.Thread(target=listen, daemon=True, name="cancel").start()
    try:
        result = run_task(RenderTask.from_dict(task), lambda p: send(("progress", p.fraction, p.stage, p.eta_seconds)),
                          token)
        send(("done", result))
    except RenderCancelled:
        send(("cancelled",))
    except BaseException as error:  # noqa: BLE001 - everything is reported to the server, as data
        report = error_report(error)
        if report["code"] == "internal_error":
            import traceback

            traceback.print_exc()  # into the server's log: the answer says only the kind of error
        send(("failed", report))


class ProcessExecutor(Executor):
    """Each task in a process of its own, forked from a server that has the render modules loaded.

    The server's threads never share an interpreter lock with a render, so status requests stay fast while
    renders run; a render process runs at `nice` (its ffmpeg too) and dies with the server (PR_SET_PDEATHSIG).
    Progress comes back through a pipe; `cancel` is sent through it and stops the render's ffmpeg at once."""

    def __init__(self, slots: int, *, nice: int = 0):
        self.slots = slots
        self.nice = nice
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._stopping = threading.Event()

    def submit(self, task: RenderTask, on_progress: ProgressCallback, cancel: CancelToken) -> Future:
        future: Future = Future()
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_child, args=(theirs, task.to_dict(), self.nice), daemon=True,
                                        name=f"render-{task.job_id}")
        process.start()
        theirs.close()
        threading.Thread(target=self._relay, args=(process, ours, future, on_progress, cancel), daemon=True,
                         name=f"relay-{task.job_id}").start()
        return future

    def _relay(self, process, connection, future: Future, on_progress: ProgressCallback, cancel: CancelToken) -> None:
        outcome: tuple | None = None
        sent_cancel = False
        try:
            while outcome is None:
                if cancel.cancelled and not sent_cancel:
                    try:
                        connection.send("cancel")
                    except OSError:
                        pass
                    sent_cancel = True
                if connection.poll(0.05):
                    try:
                        message = connection.recv()
                    except (EOFError, OSError):
                        break
                    if message[0] == "progress":
                        on_progress(Progress(message[1], message[2], message[3]))
                    else:
                        outcome = message
                elif not process.is_alive() and not connection.poll(0):
                    break
        finally:
            connection.close()
            process.join(timeout=30)
        if outcome is None:
            if cancel.cancelled:
                future.set_exception(RenderCancelled())
            else:
                future.set_exception(TaskFailed({"code": "render_failed", "path": None, "exitCode": 1,
                                                 "message": f"the render process ended without an answer (exit "
                                                            f"code {process.exitcode})"}))
        elif outcome[0] == "done":
            future.set_result(outcome[1])
        elif outcome[0] == "cancelled":
            future.set_exception(RenderCancelled())
        else:
            future.set_exception(TaskFailed(outcome[1]))

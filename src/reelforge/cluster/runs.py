"""The ffmpeg backend's runs on a Dask cluster: `DaskRuns` (the client's side) and `run_on_worker` (the task).

A run is submitted as one task holding one `encode` resource, with `retries` (a worker killed mid-run: the
scheduler gives the run to another worker; an exception of the task itself: Dask retries it). Its inputs reach the
worker in one of three ways (`DaskRuns.transfer`):

- "send" (the default: workers share no disk): each input file is read here and held by a task of its own, keyed
  by its content key (`reelforge-input-file-<hash>`); the run depends on those, so Dask copies each input to the
  worker that needs it (from the scheduler, or a worker that has it) and can make it again if that worker dies.
  The worker keeps the file in its own cache folder; the pieces come back as the task's result.
- "shared": a folder every worker and this client mount (`shared=`): inputs are copied into `<shared>/inputs`
  once (named by content key), workers read them there and write the pieces into `<shared>/segments`.
- "local": the workers run on this machine (a local cluster): they read the inputs where they are and write the
  pieces into the render's own work folder.

Progress: the task logs `{"run", "frames"}` events on the render's topic (`reelforge-progress-<render>`), relayed
to the render's progress bar. Cancel: the render's Dask `Event` (`reelforge-cancel-<render>`), which every running
task polls; a task that sees it kills its own ffmpeg (Dask does not stop running tasks). Every run's start and end
(worker, pid, times) is logged on the `reelforge-runs` topic, the task log.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reelforge.cluster.connect import ENCODE
from reelforge.errors import RenderCancelled, RenderError
from reelforge.fileio import atomic_output
from reelforge.progress import CancelToken
from reelforge.renderers.ffmpeg.runs import RunExecutor, RunSpec, x264_auto_threads

if TYPE_CHECKING:
    from distributed import Client

RUNS_TOPIC = "reelforge-runs"
CANCEL_POLL = 0.2  # seconds between a running task's looks at its render's cancel flag
PROGRESS_EVERY = 0.25  # seconds between a task's progress events
RETRIES = 2
CANCEL_GRACE = 10.0  # seconds a cancelled render waits for its running tasks to say they stopped

Transfer = Literal["send", "shared", "local"]


def _safe(key: str) -> str:
    """A content key as a file or task name: `file:ab12` -> `file-ab12`."""
    return key.replace(":", "-").replace("/", "_")


def _place(source: Path, target: Path) -> None:
    """Move (or, across file systems, copy) `source` to `target`, which appears whole or not at all."""
    try:
        os.replace(source, target)
    except OSError:
        with atomic_output(target, suffix=target.suffix) as temp:
            shutil.copyfile(source, temp)


# -- the worker's side -------------------------------------------------------------------------------------------

def worker_cache(worker) -> Path:
    """A worker's own reelforge cache: beside its Dask folder (`--local-directory`), shared by the workers of
    one machine, kept across worker restarts when that folder is."""
    return Path(worker.local_directory).parent / "reelforge-cache"


def run_on_worker(spec_data: dict[str, Any], sources: dict[str, Any], render: str, pieces_to: str | None,
                  ffmpeg: str) -> dict[str, Any]:
    """The task: render one run on this worker. `sources`: per input key, the file's bytes or a path this worker
    can read. The pieces are written into `pieces_to` (named `<key>.mp4`) or returned as bytes. A failure of the
    run itself (ffmpeg, different fonts) and a cancel are answers, not exceptions: retrying them would not help."""
    from distributed import Event, get_client, get_worker

    from reelforge.fonts import fontconfig_env, fonts_dir, fonts_fingerprint
    from reelforge.process import ffmpeg_exe
    from reelforge.renderers.ffmpeg.runs import execute_run
    from reelforge.workspace import Workspace

    worker = get_worker()
    spec = RunSpec.from_dict(spec_data)
    started = time.time()
    record = {"render": render, "run": spec.name, "worker": worker.address, "host": socket.gethostname(),
              "pid": os.getpid()}
    worker.log_event(RUNS_TOPIC, {**record, "event": "start", "time": started})
    worker.log_event(f"reelforge-progress-{render}", {"run": spec.name, "frames": 0, "started": True})
    token = CancelToken()
    done = threading.Event()
    flag = Event(f"reelforge-cancel-{render}", client=get_client())

    def watch() -> None:
        while not done.wait(CANCEL_POLL):
            try:
                if flag.is_set():
                    token.cancel()
                    return
            except Exception:  # noqa: BLE001 - the scheduler is gone: this run's answer has nowhere to go
                token.cancel()
                return

    threading.Thread(target=watch, daemon=True, name=f"cancel-{spec.name}").start()
    last = [0.0]

    def on_frame(frames: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            worker.log_event(f"reelforge-progress-{render}", {"run": spec.name, "frames": frames})

    def answer(status: str, **extra: Any) -> dict[str, Any]:
        ended = time.time()
        worker.log_event(RUNS_TOPIC, {**record, "event": status, "time": ended})
        return {**record, "status": status, "started": started, "ended": ended, **extra}

    try:
        if flag.is_set():
            return answer("cancelled")
        if Path(ffmpeg_exe()).name != ffmpeg:
            return answer("failed", message=f"worker {worker.address} runs {Path(ffmpeg_exe()).name}, the client "
                                            f"{ffmpeg}: identical pieces need the same ffmpeg build")
        workspace = Workspace(worker_cache(worker))
        workspace.sweep_work()
        if fonts_fingerprint(workspace) != spec.fonts:
            return answer("failed", message=f"worker {worker.address} has other fonts than the client: install the "
                                            "same reelforge[render] on every worker")
        files: dict[str, Path] = {}
        inputs = workspace.folder("inputs")
        for key, source in sources.items():
            if isinstance(source, str):
                files[key] = Path(source)
                continue
            target = inputs / _safe(key)
            if not target.is_file():
                with atomic_output(target) as temp:
                    temp.write_bytes(source)
            files[key] = target
        with workspace.work_folder("run-") as folder:
            pieces = execute_run(spec, files, folder, fonts=fonts_dir(workspace), env=fontconfig_env(workspace),
                                 cancel=token, on_frame=on_frame)
            if pieces_to is not None:
                for key, piece in zip(spec.pieces, pieces):
                    _place(piece, Path(pieces_to) / f"{key}.mp4")
                return answer("done", pieces=None)
            return answer("done", pieces=[piece.read_bytes() for piece in pieces])
    except RenderCancelled:
        return answer("cancelled")
    except RenderError as error:
        return answer("failed", message=str(error))
    finally:
        done.set()


def _held(data: bytes) -> bytes:
    """An input file's bytes as a task's result (so Dask can make it again if the worker holding it dies)."""
    return data


# -- the client's side -------------------------------------------------------------------------------------------

class DaskRuns(RunExecutor):
    """Runs of one render (or of several, one after another, until one is cancelled) as tasks of a Dask cluster.
    See the module."""

    def __init__(self, client: "Client", *, transfer: Transfer = "send", shared: Path | None = None,
                 retries: int = RETRIES, slots: int | None = None):
        from reelforge.cluster.connect import encode_slots
        from reelforge.process import ffmpeg_exe

        if transfer == "shared" and shared is None:
            raise ValueError("transfer='shared' needs the shared folder")
        self.client = client
        self.transfer = transfer
        self.shared = Path(shared) if shared is not None else None
        self.retries = retries
        self.slots = slots or encode_slots(client)
        self.render = uuid.uuid4().hex[:16]
        self.ffmpeg = Path(ffmpeg_exe()).name
        self.log: list[dict[str, Any]] = []  # one record per finished run: worker, pid, started, ended, status
        self.sent: dict[str, int] = {}  # input key -> bytes sent (transfer "send"; each input once per render)
        self.received = 0  # bytes of pieces that came back as results (transfer "send")
        self._lock = threading.Lock()
        self._inputs: dict[str, Any] = {}  # key -> Dask future holding the file (transfer "send")
        self._live: dict[str, tuple[Any, Callable[[int], None], CancelToken]] = {}  # run -> (future, on_frame, cancel)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dask-pieces")
        self._relay = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dask-progress")
        self._closed = threading.Event()
        self._cancelled = False
        self._started: set[str] = set()  # runs a worker has begun
        self._topic = f"reelforge-progress-{self.render}"
        client.subscribe_topic(self._topic, self._on_progress)
        self._watcher = threading.Thread(target=self._watch_cancel, daemon=True, name="dask-cancel")
        self._watcher.start()

    # progress and cancel
    def _on_progress(self, event: tuple[float, dict]) -> None:
        message = event[1]
        with self._lock:
            live = self._live.get(str(message.get("run")))
            if message.get("started"):
                self._started.add(str(message.get("run")))
        if live is not None:  # off the client's event loop: a progress callback may write a file or a database
            self._relay.submit(live[1], int(message.get("frames", 0)))

    def _watch_cancel(self) -> None:
        while not self._closed.wait(0.05):
            with self._lock:
                tokens = [token for _, _, token in self._live.values()]
            if not self._cancelled and any(token.cancelled for token in tokens):
                self.cancel_all()

    def cancel_all(self) -> None:
        """Stop this render's runs: the running ones see the flag, kill their ffmpeg and answer (the render waits
        for that, up to CANCEL_GRACE seconds); the ones not started yet are dropped at once."""
        from distributed import Event

        self._cancelled = True
        try:
            Event(f"reelforge-cancel-{self.render}", client=self.client).set()
            with self._lock:
                waiting = [future for name, (future, _, _) in self._live.items() if name not in self._started]
            self.client.cancel(waiting)
        except Exception:  # noqa: BLE001 - a client already closed has nothing left to stop
            pass
        timer = threading.Timer(CANCEL_GRACE, self._drop_all)
        timer.daemon = True
        timer.start()

    def _drop_all(self) -> None:
        with self._lock:
            futures = [future for future, _, _ in self._live.values()]
        try:
            self.client.cancel(futures)
        except Exception:  # noqa: BLE001
            pass

    # inputs
    def _sources(self, spec: RunSpec, files: Mapping[str, Path]) -> dict[str, Any]:
        sources: dict[str, Any] = {}
        for file in spec.files:
            local = Path(files[file.key])
            if self.transfer == "local":
                sources[file.key] = str(local.absolute())
            elif self.transfer == "shared":
                assert self.shared is not None
                target = self.shared / "inputs" / _safe(file.key)
                if not target.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with atomic_output(target) as temp:
                        shutil.copyfile(local, temp)
                sources[file.key] = str(target)
            else:
                with self._lock:
                    future = self._inputs.get(file.key)
                if future is None:
                    data = local.read_bytes()
                    future = self.client.submit(_held, data, key=f"reelforge-input-{_safe(file.key)}",
                                                pure=False, retries=self.retries)
                    with self._lock:
                        self._inputs[file.key] = future
                        self.sent[file.key] = len(data)
                sources[file.key] = future
        return sources

    def submit(self, spec: RunSpec, files: Mapping[str, Path], workdir: Path, cancel: CancelToken,
               on_frame: Callable[[int], None]) -> "Future[list[Path]]":
        import warnings

        done: Future = Future()
        if cancel.cancelled or self._cancelled:
            done.set_exception(RenderCancelled())
            return done
        if self.transfer == "shared" and self.shared is not None and all(
                (self.shared / "segments" / f"{key}.mp4").is_file() for key in spec.pieces):
            # Another client of the shared folder rendered these pieces already: they are the same by their keys.
            names = [workdir / f"{key}.mp4" for key in spec.pieces]
            for key, path in zip(spec.pieces, names):
                shutil.copyfile(self.shared / "segments" / f"{key}.mp4", path)
            done.set_result(names)
            return done
        # x264's own thread count is this machine's: made explicit, so a worker encodes the same bitstream.
        spec = spec.with_threads(spec.threads or x264_auto_threads())
        pieces_to = {"local": str(workdir), "shared": str(self.shared / "segments") if self.shared else None,
                     "send": None}[self.transfer]
        if pieces_to is not None:
            Path(pieces_to).mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "large graph": the input files travel with the graph on purpose
            sources = self._sources(spec, files)
            future = self.client.submit(run_on_worker, spec.to_dict(), sources, self.render, pieces_to, self.ffmpeg,
                                        key=f"reelforge-run-{self.render}-{spec.name}", resources={ENCODE: 1},
                                        retries=self.retries, pure=False)
        with self._lock:
            self._live[spec.name] = (future, on_frame, cancel)
        future.add_done_callback(lambda f: self._pool.submit(self._finish, f, spec, workdir, done))
        return done

    def _finish(self, future, spec: RunSpec, workdir: Path, done: Future) -> None:
        try:
            try:
                if future.status == "cancelled":
                    raise RenderCancelled()
                result = future.result()
            except RenderCancelled:
                raise
            except BaseException as error:  # noqa: BLE001 - the cluster's fault, after its retries
                if self._cancelled:
                    raise RenderCancelled() from None
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise RenderError(f"{spec.what}: the cluster could not run it ({type(error).__name__}: "
                                  f"{reason[:200]})") from None
            with self._lock:
                self.log.append({key: value for key, value in result.items() if key != "pieces"} | {"run": spec.name})
            if result["status"] == "cancelled":
                raise RenderCancelled()
            if result["status"] == "failed":
                raise RenderError(result["message"])
            names = [workdir / f"{key}.mp4" for key in spec.pieces]
            if self.transfer == "send":
                for path, data in zip(names, result["pieces"]):
                    path.write_bytes(data)
                with self._lock:
                    self.received += sum(len(data) for data in result["pieces"])
            elif self.transfer == "shared":
                assert self.shared is not None
                for key, path in zip(spec.pieces, names):
                    shutil.copyfile(self.shared / "segments" / f"{key}.mp4", path)
            done.set_result(names)
        except BaseException as error:  # noqa: BLE001 - handed to the render
            done.set_exception(error)
        finally:
            with self._lock:
                self._live.pop(spec.name, None)
            future.release()

    def close(self) -> None:
        """Stop relaying, forget the inputs held for this render and its cancel flag."""
        from distributed import Event

        with self._lock:
            live = bool(self._live)
        if live:  # a render that stopped early (Ctrl-C): its running tasks stop, and are waited for
            self.cancel_all()
            deadline = time.monotonic() + CANCEL_GRACE + 1
            while time.monotonic() < deadline:
                with self._lock:
                    if not self._live:
                        break
                time.sleep(0.05)
        self._closed.set()
        with self._lock:
            held = list(self._inputs.values())
            self._inputs.clear()
        try:
            self.client.unsubscribe_topic(self._topic)
            for future in held:
                future.release()
            Event(f"reelforge-cancel-{self.render}", client=self.client).clear()
        except Exception:  # noqa: BLE001 - the client may be closed already
            pass
        self._pool.shutdown(wait=True)
        self._relay.shutdown(wait=True)

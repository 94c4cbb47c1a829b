"""The service's `Executor` on a Dask cluster (`reelforge serve --scheduler tcp://HOST:8786`).

Each render task runs in a thread here as it would in `LocalExecutor` (prepare, cards, audio pass, mux), but its
video runs go to the cluster through a `DaskRuns` of its own: the workers' progress comes back through Dask events
into the task's `on_progress`, and the job's cancel token, once set, raises the render's Dask cancel flag, which
every running task watches to kill its own ffmpeg. Jobs, progress, cancel and webhooks behave as with the local
pool: the engine sees the same futures and the same exceptions.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelforge.progress import CancelToken, ProgressCallback
from reelforge.service.executor import Executor, RenderTask, run_task

if TYPE_CHECKING:
    from distributed import Client

    from reelforge.cluster.runs import Transfer


class DaskExecutor(Executor):
    """Render tasks whose video runs execute on the cluster `client` is connected to."""

    def __init__(self, client: "Client", slots: int, *, transfer: "Transfer" = "send", shared: Path | None = None,
                 own_client: bool = False):
        from reelforge.cluster.connect import encode_slots

        self.client = client
        self.slots = slots
        self.transfer = transfer
        self.shared = shared
        self.encodes = encode_slots(client)  # fails at start-up, in one line, when no worker takes encodes
        self._own_client = own_client
        self._pool = ThreadPoolExecutor(max_workers=max(slots, 1), thread_name_prefix="render")

    @classmethod
    def connect(cls, address: str, slots: int, *, shared: Path | None = None) -> "DaskExecutor":
        """An executor on the scheduler at `address` (ClusterUnavailable in one line within seconds)."""
        from reelforge.cluster.connect import connect

        client = connect(address)
        try:
            return cls(client, slots, transfer="shared" if shared else "send", shared=shared, own_client=True)
        except BaseException:
            client.close()
            raise

    def _run(self, task: RenderTask, on_progress: ProgressCallback, cancel: CancelToken) -> dict[str, Any]:
        from reelforge.cluster.runs import DaskRuns

        if task.kind != "render":  # a task of another kind (a transcription): here, it has no video runs
            return run_task(task, on_progress, cancel)
        runs = DaskRuns(self.client, transfer=self.transfer, shared=self.shared, slots=self.encodes)
        try:
            return run_task(task, on_progress, cancel, runs=runs)
        finally:
            runs.close()

    def submit(self, task: RenderTask, on_progress: ProgressCallback, cancel: CancelToken) -> Future:
        return self._pool.submit(self._run, task, on_progress, cancel)

    def shutdown(self, wait: bool = True) -> None:
        def finish() -> None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            if self._own_client:
                try:
                    self.client.close()
                except Exception:  # noqa: BLE001 - closing a client whose scheduler is gone
                    pass

        if wait:
            finish()
        else:  # the renders still stopping keep the client until they have
            threading.Thread(target=finish, daemon=True, name="dask-executor-shutdown").start()

"""Reaching a Dask cluster: a running scheduler's address, or a local cluster of worker processes."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from reelforge.errors import ReelforgeError, UsageError

if TYPE_CHECKING:
    from distributed import Client

# The resource each worker declares: how many x264 encodes (runs) it takes at once (`dask worker --resources
# encode=1`). A run holds one, so a 2-core worker declaring 1 is never handed four runs at once.
ENCODE = "encode"
CONNECT_TIMEOUT = 5.0  # seconds to reach the scheduler before saying it cannot be reached
WORKERS_TIMEOUT = 30.0  # seconds to wait for a first worker that takes encodes


class ClusterUnavailable(ReelforgeError):
    """The scheduler cannot be reached, or no worker takes encodes."""


def _distributed():
    try:
        import distributed
    except ImportError as error:
        raise ReelforgeError(f"rendering on a cluster needs Dask ({error.name} is missing): "
                             "pip install 'reelforge[cluster]'") from None
    return distributed


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> "Client":
    """A client of the scheduler at `address` (`tcp://HOST:8786`); ClusterUnavailable within `timeout` seconds
    when it does not answer."""
    distributed = _distributed()
    if "://" not in address:
        address = f"tcp://{address}"
    try:
        _host, _, port = address.split("://", 1)[1].rpartition(":")
        int(port)
    except ValueError:
        raise UsageError(f"--scheduler {address!r}: expected tcp://HOST:PORT") from None
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        reason = str(error).split("\n")[0]
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                                 f"({reason[:160]})") from None


def local_cluster(workers: int | None = None, *, processes: bool = True, folder: Path | None = None) -> "Client":
    """A client of a new cluster of `workers` workers on this machine (default: one per two cores, at least two),
    each taking one encode with one thread: processes of their own (they die with us), or with `processes=False`
    threads of this one (the in-process cluster; a program that is not guarded by `if __name__ == "__main__"`
    cannot start worker processes). `folder`: where the workers keep their files (default: Dask's, in the
    system's temporary folder). Close it with `close(client)`."""
    distributed = _distributed()
    count = workers or max((os.cpu_count() or 2) // 2, 2)
    # Everything on 127.0.0.1 at free ports: the scheduler, the workers and their HTTP endpoints (no dashboard).
    where = {"host": "127.0.0.1"} if processes else {}
    cluster = distributed.LocalCluster(n_workers=count, threads_per_worker=1, processes=processes, **where,
                                       resources={ENCODE: 1}, dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                       worker_dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                                       **({"local_directory": str(folder)} if folder is not None else {}))
    client = distributed.Client(cluster, set_as_default=False)
    client._reelforge_cluster = cluster  # closed with the client (see `close`)
    return client


def close(client: "Client") -> None:
    """Close the client, and the local cluster it was made with."""
    cluster = getattr(client, "_reelforge_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def encode_slots(client: "Client", timeout: float = WORKERS_TIMEOUT) -> int:
    """How many encodes the cluster's workers take at once; waits up to `timeout` for a first such worker."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        slots = sum(int(info.get("resources", {}).get(ENCODE, 0)) for info in workers.values())
        if slots:
            return slots
        if time.monotonic() > deadline:
            if workers:
                raise ClusterUnavailable(f"no worker of the cluster takes encodes: start workers with "
                                         f"`dask worker SCHEDULER --nthreads 1 --resources {ENCODE}=1`")
            raise ClusterUnavailable(f"the cluster has no workers (waited {timeout:g} s)")
        time.sleep(0.2)

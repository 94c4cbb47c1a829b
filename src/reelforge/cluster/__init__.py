"""Past one machine: renders on a Dask cluster (`dask`, `distributed`; the `cluster` extra).

- `connect`: a client of a running scheduler (`tcp://HOST:8786`, a one-line error when it cannot be reached) or a
  local cluster of worker processes; each worker declares how many x264 encodes it takes (`--resources encode=N`).
- `runs.DaskRuns`: the ffmpeg backend's `RunExecutor` on the cluster: each run (a plain `RunSpec`) is a task
  holding one encode resource, retried elsewhere when its worker dies; its inputs are sent by content key (or read
  from a shared folder), its pieces come back into the client's cache; progress and cancel travel as Dask events.
- `batch`: `reelforge batch`, many documents' runs over one cluster, a status line each and a summary table.
- `executor.DaskExecutor`: the service's `Executor` whose renders put their runs on the cluster.

The cards, the audio pass and the mux of every render stay on the client: they are light, and the output is
written where the client is.
"""

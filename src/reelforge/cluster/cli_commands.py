"""The command line's cluster parts, for cli.py to call: `reelforge batch`, and `render --scheduler`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributed import Client

    from reelforge.cluster.runs import Transfer
    from reelforge.workspace import Workspace

EXIT_INTERRUPTED = 130


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """--scheduler and --shared-folder, for `render` (and `batch`)."""
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="Render the video runs on this Dask cluster's workers (the audio pass and the mux stay "
                             "here); its workers declare encodes with --resources encode=N.")
    parser.add_argument("--shared-folder", type=Path, metavar="DIR",
                        help="A folder this machine and every worker mount: inputs and pieces pass through it "
                             "instead of being sent (default: sent).")


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="JOBS.jsonl|FOLDER", type=Path,
                        help="A folder of .json documents, or a JSON Lines file of jobs ({\"document\": PATH or "
                             "{...}, \"output\"?: NAME.mp4, \"quality\"?, \"assets\"?} a line).")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR",
                        help="Folder for the MP4s (each written only when complete).")
    add_cluster_arguments(parser)
    parser.add_argument("--workers", type=int, metavar="N",
                        help="Without --scheduler: worker processes of the local cluster (default: one per two "
                             "cores, at least two).")
    parser.add_argument("--parallel", type=int, default=2, metavar="N",
                        help="Documents prepared and muxed at once on this machine (default 2).")
    parser.add_argument("--quality", choices=["draft", "web", "studio"], help="Override every document's quality.")
    parser.add_argument("-q", "--quiet", action="store_true", help="No status lines (the table is still printed).")


def open_cluster(scheduler: str | None, workers: int | None, shared: Path | None,
                 workspace: "Workspace | None" = None) -> "tuple[Client, Transfer]":
    """A client of the scheduler (inputs sent, or through the shared folder), else of a new local cluster (the
    workers read the inputs where they are, and keep their files in the workspace's cache)."""
    from reelforge.cluster.connect import connect, local_cluster

    if scheduler:
        return connect(scheduler), ("shared" if shared else "send")
    folder = workspace.cache / "dask" if workspace is not None else None
    return local_cluster(workers, folder=folder), ("shared" if shared else "local")


def render_on_cluster(args: argparse.Namespace, workspace: "Workspace", job, on_progress):
    """`reelforge render FILE -o OUT --scheduler …`: the job's runs on the cluster, the rest here."""
    from reelforge.cluster.connect import close
    from reelforge.cluster.runs import DaskRuns
    from reelforge.job import run

    client, transfer = open_cluster(args.scheduler, None, args.shared_folder)
    runs = None
    try:
        runs = DaskRuns(client, transfer=transfer, shared=args.shared_folder)
        return run(job, workspace, on_progress=on_progress, runs=runs)
    finally:
        if runs is not None:
            runs.close()
        close(client)


def cmd_batch(args: argparse.Namespace, workspace: "Workspace") -> int:
    from reelforge.cluster.batch import Batch, StatusBoard, read_jobs, summary_table
    from reelforge.cluster.connect import close, encode_slots
    from reelforge.cluster.runs import DaskRuns
    from reelforge.errors import UsageError

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    items = read_jobs(args.source, args.output.absolute(), quality=args.quality)
    args.output.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    client, transfer = open_cluster(args.scheduler, args.workers, args.shared_folder, workspace)
    board = StatusBoard(sys.stderr, enabled=not args.quiet)
    interrupted = 0
    try:
        slots = encode_slots(client)
        if not args.quiet:
            where = args.scheduler or f"a local cluster of {len(client.scheduler_info()['workers'])} workers"
            print(f"batch: {len(items)} documents on {where} ({slots} encodes at once)", file=sys.stderr)
        batch = Batch(items, workspace, lambda: DaskRuns(client, transfer=transfer, shared=args.shared_folder,
                                                         slots=slots),
                      parallel=args.parallel, on_change=board.update)
        board.batch = batch
        try:
            batch.run()
        except KeyboardInterrupt as error:  # Ctrl-C, or SIGTERM (the CLI's Terminated)
            interrupted = 143 if type(error).__name__ == "Terminated" else EXIT_INTERRUPTED
    finally:
        close(client)
    sys.stdout.write(summary_table(items))
    done = sum(1 for item in items if item.state == "done")
    print(f"batch: {done} of {len(items)} documents rendered in {time.monotonic() - started:.1f} s into "
          f"{args.output}", file=sys.stderr)
    if interrupted:
        print("reelforge: interrupted: the documents not finished were not written", file=sys.stderr)
        return interrupted
    return 0 if done == len(items) else 1

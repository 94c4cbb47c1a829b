"""`reelforge batch`: many documents rendered at once, their video runs spread over one Dask cluster.

The documents come from a folder (every `*.json` in it) or a JSON Lines file (one job a line: `{"document": PATH
or {...}, "output"?: NAME.mp4, "quality"?, "assets"?}`, or a bare document object; paths relative to the file's
folder). Each document is prepared, mixed and muxed here, a few at a time, while the runs of all of them share the
cluster's encodes; a document that fails is reported and the others go on. `Batch.run` returns one `Outcome` each.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelforge.errors import DocumentError, ReelforgeError, RenderCancelled, UsageError
from reelforge.progress import CancelToken, Progress

if TYPE_CHECKING:
    from reelforge.cluster.runs import DaskRuns
    from reelforge.job import RenderJob
    from reelforge.workspace import Workspace


@dataclass
class Item:
    """One document of a batch and how far it is."""

    name: str  # what the status lines and the table call it
    job: "RenderJob | None"  # None: the line could not be read (`error` says why)
    weight: float = 1.0  # its share of the whole (estimated seconds of video)
    state: str = "queued"  # queued, preparing, rendering, done, failed, cancelled
    fraction: float = 0.0
    duration: float | None = None
    wall: float | None = None
    hits: int = 0
    pieces: int = 0
    error: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)  # the cluster's task log of its runs


def read_jobs(source: Path, outdir: Path, quality: str | None = None) -> list[Item]:
    """The batch's documents as jobs writing into `outdir`; a line that cannot be read becomes a failed item."""
    from reelforge.job import RenderJob

    if source.is_dir():
        files = sorted(path for path in source.glob("*.json") if path.is_file())
        if not files:
            raise UsageError(f"{source}: no .json documents in this folder")
        return [Item(path.stem, RenderJob.of(path, outdir / f"{path.stem}.mp4", quality=quality)) for path in files]
    if not source.is_file():
        raise UsageError(f"{source}: no such file or folder")
    items: list[Item] = []
    names: set[str] = set()
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{source}: cannot read it ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label = f"{source.name}:{number}"
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("a line must be a JSON object")
            spec = entry if "document" in entry else {"document": entry}
            document = spec["document"]
            if isinstance(document, str):
                document = (source.parent / document).resolve()
                stem = Path(document).stem
            else:
                stem = f"line{number}"
            output = spec.get("output") or f"{stem}.mp4"
            while Path(output).stem in names:
                output = f"{Path(output).stem}-{number}.mp4"
            names.add(Path(output).stem)
            assets = spec.get("assets")
            job = RenderJob.of(document, outdir / output, base_dir=source.parent,
                               assets=(source.parent / assets) if assets else None,
                               quality=spec.get("quality", quality))
            items.append(Item(Path(output).stem, job))
        except (ValueError, KeyError, TypeError) as error:  # a bad line fails alone
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            items.append(Item(label, None, state="failed", error=f"{label}: {message[:200]}"))
    if not items:
        raise UsageError(f"{source}: no jobs in it")
    return items


class Batch:
    """Render `items` with their runs on the cluster of `runs_for()` (a new `DaskRuns` per document), `parallel`
    documents being prepared and muxed at once. `on_change(item)` is called whenever an item's state or progress
    moves (from any thread)."""

    def __init__(self, items: list[Item], workspace: "Workspace", runs_for: "Callable[[], DaskRuns]", *,
                 parallel: int = 2, on_change: Callable[[Item], None] | None = None):
        self.items = items
        self.workspace = workspace
        self.runs_for = runs_for
        self.parallel = max(parallel, 1)
        self.on_change = on_change or (lambda item: None)
        self.cancel = CancelToken()
        self.started = time.monotonic()

    def _estimate(self, item: Item) -> None:
        """Its weight: the estimated length of the video (a document that does not load fails here, at once)."""
        from reelforge.document.estimate import document_seconds
        from reelforge.job import load_job_document

        try:
            item.weight = max(document_seconds(load_job_document(item.job).document), 1.0)
        except DocumentError as error:
            item.state, item.error = "failed", _one_line(error)
        except ReelforgeError as error:
            item.state, item.error = "failed", str(error)

    def _render(self, item: Item) -> None:
        from reelforge.job import prepare, render_prepared

        if item.state != "queued":
            return
        if self.cancel.cancelled:
            item.state, item.error = "cancelled", "cancelled"
            self.on_change(item)
            return
        clock = time.monotonic()
        item.state = "preparing"
        self.on_change(item)

        def progress(update: Progress) -> None:
            if item.state == "preparing" and update.fraction > 0:
                item.state = "rendering"
            item.fraction = max(item.fraction, update.fraction)
            self.on_change(item)

        runs = None
        try:
            prepared = prepare(item.job, self.workspace, on_progress=progress, cancel=self.cancel)
            item.state = "rendering"
            self.on_change(item)
            runs = self.runs_for()
            result = render_prepared(prepared, self.workspace, on_progress=progress, cancel=self.cancel, runs=runs)
            item.state, item.fraction = "done", 1.0
            item.duration, item.hits = result.duration, result.cache_hits
            item.pieces = result.cache_hits + result.cache_misses
        except RenderCancelled:
            item.state, item.error = "cancelled", "cancelled"
        except DocumentError as error:
            item.state, item.error = "failed", _one_line(error)
        except ReelforgeError as error:
            item.state, item.error = "failed", str(error)
        except Exception as error:  # noqa: BLE001 - one document's bug must not stop the others
            item.state, item.error = "failed", f"internal error: {type(error).__name__}: {error}"
        finally:
            if runs is not None:
                item.runs = list(runs.log)
                runs.close()
            item.wall = time.monotonic() - clock
            self.on_change(item)

    def run(self) -> list[Item]:
        """Render every item (Ctrl-C: the running ones are stopped on the workers, the rest not started)."""
        for item in self.items:
            if item.job is not None and item.state == "queued":
                self._estimate(item)
            self.on_change(item)
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="batch")
        futures = [pool.submit(self._render, item) for item in self.items]
        try:
            for future in futures:
                while not future.done():
                    wait([future], timeout=0.2)  # short waits keep Ctrl-C deliverable to this thread
        except BaseException:
            self.cancel.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            for item in self.items:
                if item.state == "queued":
                    item.state, item.error = "cancelled", "cancelled"
            raise
        pool.shutdown(wait=True)
        return self.items

    def fraction(self) -> float:
        total = sum(item.weight for item in self.items) or 1.0
        done = sum(item.weight * (1.0 if item.state in ("done", "failed", "cancelled") else item.fraction)
                   for item in self.items)
        return min(done / total, 1.0)

    def eta(self) -> float | None:
        fraction = self.fraction()
        if fraction <= 0.02 or fraction >= 1:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed * (1 - fraction) / fraction


def _one_line(error: DocumentError) -> str:
    problems = list(getattr(error, "problems", []) or [])
    return str(problems[0]) if problems else str(error)


class StatusBoard:
    """One status line per document and an overall bar with ETA, on stderr: redrawn in place on a terminal,
    otherwise a line whenever a document changes state (and every tenth of the whole)."""

    def __init__(self, stream, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.batch: Batch | None = None
        self.lock = threading.Lock()
        self.drawn = 0
        self.last_draw = 0.0
        self.states: dict[int, str] = {}
        self.last_tenth = -1

    def line(self, item: Item) -> str:
        if item.state == "rendering":
            status = f"rendering {int(item.fraction * 100):3d}%"
        elif item.state == "done":
            status = f"done in {item.wall:.1f} s ({item.hits}/{item.pieces} pieces reused)"
        elif item.state in ("failed", "cancelled"):
            status = f"{item.state}: {item.error}" if item.state == "failed" else "cancelled"
        else:
            status = item.state
        return f"{item.name[:32]:<32}  {status}"

    def bar(self) -> str:
        assert self.batch is not None
        fraction = self.batch.fraction()
        eta = self.batch.eta()
        done = sum(1 for item in self.batch.items if item.state in ("done", "failed", "cancelled"))
        filled = int(fraction * 30)
        tail = f" ETA {eta:4.0f} s" if eta is not None else ""
        return f"[{'#' * filled}{'.' * (30 - filled)}] {int(fraction * 100):3d}%  {done}/{len(self.batch.items)} documents{tail}"

    def update(self, item: Item) -> None:
        if not self.enabled or self.batch is None:
            return
        with self.lock:
            if self.tty:
                now = time.monotonic()
                if now - self.last_draw < 0.1 and item.state in ("rendering", "preparing"):
                    return
                self.last_draw = now
                lines = [self.line(i) for i in self.batch.items] + [self.bar()]
                up = f"\x1b[{self.drawn}F" if self.drawn else ""
                self.stream.write(up + "".join(f"\x1b[2K{text}\n" for text in lines))
                self.drawn = len(lines)
                self.stream.flush()
                return
            key = id(item)
            if self.states.get(key) != item.state:
                self.states[key] = item.state
                if item.state != "queued":
                    print(self.line(item), file=self.stream, flush=True)
            tenth = int(self.batch.fraction() * 10)
            if tenth != self.last_tenth:
                self.last_tenth = tenth
                print(f"batch: {self.bar()}", file=self.stream, flush=True)


def summary_table(items: list[Item]) -> str:
    """The table printed at the end: document, duration, wall time, cache hits, error."""
    rows = [("DOCUMENT", "DURATION", "WALL", "CACHE HITS", "ERROR")]
    for item in items:
        rows.append((item.name, f"{item.duration:.1f} s" if item.duration is not None else "-",
                     f"{item.wall:.1f} s" if item.wall is not None else "-",
                     f"{item.hits}/{item.pieces}" if item.state == "done" else "-",
                     item.error or ""))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "".join(("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths)) + "  " + row[4]).rstrip()
                   + "\n" for row in rows)

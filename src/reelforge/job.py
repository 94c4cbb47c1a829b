"""The render seam: a `RenderJob` (plain data that round-trips through JSON) prepared and rendered in a `Workspace`.

Every front end renders through these two steps: the command line, `frame`, the editor, `to_moviepy` and the
service. `prepare` turns a job into a timeline (load, resolve, compile); `render_prepared` hands it to the
job's backend. `run` does both; `render` is the one-call form for Python programs.

    from reelforge import RenderJob, Workspace, run
    job = RenderJob.of("project.json", "out.mp4", quality="draft")
    result = run(job, Workspace("/tmp/reelforge-cache"))
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelforge.errors import ReelforgeError
from reelforge.fileio import WriteError, check_writable
from reelforge.progress import CancelToken, Progress, ProgressCallback, RenderResult
from reelforge.resolve.policy import SourcePolicy
from reelforge.workspace import Workspace

if TYPE_CHECKING:  # importing these at run time would load the whole model on `import reelforge.job`
    from reelforge.document.loader import LoadedDocument
    from reelforge.model import Document
    from reelforge.renderers.ffmpeg.runs import RunExecutor
    from reelforge.timeline import Timeline

Quality = Literal["draft", "web", "studio"]
DEFAULT_WORKERS = 2


class RenderJob(BaseModel):
    """One render as plain data: what to render, with which settings, to where.

    `document` is the document's JSON object or the path of its file. Relative paths inside a document
    (`path` sources, `assetsDir`) resolve against `base_dir`, which is the document file's own folder when the
    document is a path; `RenderJob.of` sets it to the current folder for a document given as an object, so a
    job means the same in any process that reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    document: dict[str, Any] | str = Field(description="The document: its JSON object, or the path of its file.")
    output: str | None = Field(default=None, description="The MP4 to write (None: prepare only, e.g. for a frame).")
    assets: str | None = Field(default=None, description="The folder `uploadName` files are in (default: the "
                                                         "document's `assetsDir`, or assets/ beside it).")
    base_dir: str | None = Field(default=None, description="Where a document object's relative paths resolve.")
    quality: Quality | None = Field(default=None, description="Overrides the document's output quality.")
    backend: str = Field(default="ffmpeg", description="The renderer: ffmpeg (default) or moviepy.")
    subtitles: bool = Field(default=True, description="Add the captions as a subtitle track (ffmpeg backend).")
    workers: int = Field(default=DEFAULT_WORKERS, ge=1, description="ffmpeg runs encoding at once.")
    sources: SourcePolicy = Field(default_factory=SourcePolicy, description="What the document's sources may "
                                  "reach (default: the user's own files and network; the service narrows it).")

    @classmethod
    def of(cls, document: "str | Path | dict | Document", output: str | Path | None = None, *,
           assets: str | Path | None = None, base_dir: str | Path | None = None, **options: Any) -> "RenderJob":
        """A job from Python values: paths are made absolute and a Document model becomes its JSON object."""
        from reelforge.model import Document

        if isinstance(document, Document):
            document = document.to_json_dict()
        if isinstance(document, dict):
            folder = Path(base_dir) if base_dir is not None else Path.cwd()
            base = str(folder.absolute())
        else:
            document = str(Path(document).absolute())
            base = str(Path(base_dir).absolute()) if base_dir is not None else None
        return cls(document=document, output=str(Path(output).absolute()) if output is not None else None,
                   assets=str(Path(assets).absolute()) if assets is not None else None, base_dir=base, **options)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> "RenderJob":
        return cls.model_validate_json(text)


@dataclass
class PreparedRender:
    """A job made ready for a backend: the checked document (with its warnings) and its timeline."""

    job: RenderJob
    loaded: "LoadedDocument"
    timeline: "Timeline"
    timings: dict[str, float] = field(default_factory=dict)


def load_job_document(job: RenderJob) -> "LoadedDocument":
    """The job's document, loaded, upgraded, validated and checked (a DocumentError otherwise)."""
    from reelforge.document.loader import load_document

    source = Path(job.document) if isinstance(job.document, str) else job.document
    return load_document(source, assets=Path(job.assets) if job.assets else None,
                         base_dir=Path(job.base_dir) if job.base_dir else None)


def prepare(job: RenderJob, workspace: Workspace, *, on_progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> PreparedRender:
    """Load, resolve (assets, narration) and compile the job's document into the timeline every backend reads."""
    from reelforge.resolve.resolver import resolve_document
    from reelforge.timeline.compile import compile_timeline

    timings: dict[str, float] = {}
    clock = time.monotonic()
    loaded = load_job_document(job)
    if job.quality is not None:
        output = loaded.document.output.model_copy(update={"quality": job.quality})
        loaded.document = loaded.document.model_copy(update={"output": output})
    if cancel is not None:
        cancel.raise_if_cancelled()
    on_step = (lambda step: on_progress(Progress(0.0, step, None))) if on_progress else None
    resolved = resolve_document(loaded, workspace, assets=Path(job.assets) if job.assets else None, on_step=on_step,
                                policy=job.sources)
    timings["resolve"] = time.monotonic() - clock
    if cancel is not None:
        cancel.raise_if_cancelled()
    clock = time.monotonic()
    timeline = compile_timeline(resolved)
    timeline.quality = loaded.document.output.quality
    timings["compile"] = time.monotonic() - clock
    return PreparedRender(job, loaded, timeline, timings)


def render_prepared(prepared: PreparedRender, workspace: Workspace, *, on_progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None, runs: "RunExecutor | None" = None) -> RenderResult:
    """Render a prepared job with its backend into its output (written only when complete). `runs`: where the
    ffmpeg backend's video runs execute (default: here; `reelforge.cluster.runs.DaskRuns`: a Dask cluster)."""
    from reelforge.renderers import get_backend

    job = prepared.job
    if job.output is None:
        raise ReelforgeError("the render job names no output file")
    backend = get_backend(job.backend)
    if cancel is not None:
        cancel.raise_if_cancelled()
    timeline = prepared.timeline
    elsewhere = {} if runs is None else {"runs": runs}
    if runs is not None and job.backend != "ffmpeg":
        raise ReelforgeError(f"the {job.backend} backend renders on this machine only (use the ffmpeg backend)")
    result = backend(timeline, Path(job.output), workspace, quality=timeline.quality, on_progress=on_progress,
                     cancel=cancel, subtitles=job.subtitles, workers=job.workers, **elsewhere)
    result.timings = {**prepared.timings, **result.timings}
    return result


def run(job: RenderJob, workspace: Workspace, *, on_progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None, runs: "RunExecutor | None" = None) -> RenderResult:
    """Prepare and render a job. Raises DocumentError (a bad document, with JSON paths), MediaError (an asset),
    RenderError (ffmpeg or a card failed) or RenderCancelled; an existing output is untouched by a failure."""
    from reelforge.renderers import get_backend

    get_backend(job.backend)  # an unknown backend or an output that cannot be written fails before any work
    if job.output is not None:
        output = Path(job.output)
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise WriteError(output, f"cannot make its folder ({error.strerror or error})") from None
        check_writable(output)
    if cancel is not None:
        cancel.raise_if_cancelled()
    return render_prepared(prepare(job, workspace, on_progress=on_progress, cancel=cancel), workspace,
                           on_progress=on_progress, cancel=cancel, runs=runs)


def render(
    document_or_path: "str | Path | dict | Document",
    out_path: str | Path,
    *,
    assets: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    quality: Quality | None = None,
    subtitles: bool = True,
    backend: str = "ffmpeg",
    workers: int = DEFAULT_WORKERS,
    base_dir: str | Path | None = None,
    workspace: Workspace | None = None,
) -> RenderResult:
    """Render a document to an MP4 at `out_path`; the file appears only when it is complete.

    document_or_path: a document file's path, its parsed JSON (a dict) or a `reelforge.model.Document`. Relative
        paths in a dict or Document resolve against `base_dir`, else the current folder; in a file, against the
        file's own folder.
    assets: the folder `uploadName` sources are in (default: the document's `assetsDir`, or assets/ beside it).
    on_progress: called (from render threads, at most ten times a second) with a `Progress`: `fraction` (0..1),
        `stage` and `eta_seconds` (None until it can be estimated).
    cancel: a `CancelToken`; `cancel.cancel()` from any thread stops ffmpeg at once and raises RenderCancelled.
    quality: "draft" (half size, fast), "web" or "studio", instead of the document's own.
    subtitles: add the captions as a subtitle track besides burning them in (ffmpeg backend).
    backend: "ffmpeg" (default: fast, cached by segment) or "moviepy" (the reference renderer).
    workers: ffmpeg processes encoding at once.
    workspace: where the cache and work folders are; default `Workspace.from_environment()` ($REELFORGE_CACHE,
        else ~/.cache/reelforge).

    Returns a RenderResult (path, duration, width, height, size_bytes, timings, cache_hits, cache_misses).
    Raises DocumentError, MediaError, RenderError or RenderCancelled (all ReelforgeError, each with a message a
    user can act on); a failure or cancel leaves nothing at `out_path` and an existing file there untouched."""
    job = RenderJob.of(document_or_path, out_path, assets=assets, base_dir=base_dir, quality=quality,
                       subtitles=subtitles, backend=backend, workers=workers)
    return run(job, workspace or Workspace.from_environment(), on_progress=on_progress, cancel=cancel)

"""A run: one ffmpeg process rendering consecutive segments, as plain data that any machine can execute.

The ffmpeg backend plans its video pass as `RunSpec`s. A spec names each input file by its content key (the same
`file:<blake2b>` / `card:<name>` its segments' cache keys use), never by a path; it carries the filter graph, the
subtitle text, the encoder settings (x264's thread count included: the bitstream depends on it) and the cache keys
of the pieces it makes. `execute_run` lays the run's folder out (`in/<n><suffix>` links to the input files,
`fonts` linked to the fonts folder, `graph.txt`, `text.ass`), runs ffmpeg there and returns the pieces' files.

Where a run executes is a `RunExecutor`'s business: `LocalRuns` runs them in threads of this process (the default,
as fast as rendering has always been); `reelforge.cluster.runs.DaskRuns` sends them to a Dask cluster's workers,
with the input files (or where a shared folder holds them) and brings the pieces back. Either way the pipeline
moves the pieces into its cache under the keys the spec names.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from reelforge.errors import RenderError
from reelforge.process import run_ffmpeg
from reelforge.progress import CancelToken
from reelforge.renderers.ffmpeg.segments import Segment
from reelforge.renderers.ffmpeg.video import ASS_NAME, FONTS_PLACEHOLDER, piece_path, run_output_args, run_parts
from reelforge.timebase import Rate
from reelforge.timeline import Timeline

SPEC_VERSION = 1
INPUTS_FOLDER = "in"


@dataclass(frozen=True)
class RunFile:
    """An input file of a run, by what it holds: `key` as in the segments' cache keys (`file:<hash>` or
    `card:<name>`) and the suffix its link keeps (ffmpeg picks some demuxers by it)."""

    key: str
    suffix: str = ""


@dataclass(frozen=True)
class RunInput:
    """One ffmpeg input: its options (seek, duration, decoder threads) and the file (`RunSpec.files[file]`)."""

    options: tuple[str, ...]
    file: int


@dataclass(frozen=True)
class RunSpec:
    """One ffmpeg process rendering consecutive segments into pieces, as plain data (JSON round trip)."""

    name: str  # unique within its render ("run<first segment>")
    files: tuple[RunFile, ...]
    inputs: tuple[RunInput, ...]
    graph: str  # the filter graph, libass's fonts folder written `fonts` (linked in the run's folder)
    subtitles: str  # the ASS text burned in ("" when no text shows)
    pieces: tuple[str, ...]  # the cache key of each segment it renders, in order
    frame_counts: tuple[int, ...]  # frames of each segment
    first_frame: int  # where the run starts on the timeline (for messages)
    rate: str  # the frame rate, "30" or "30000/1001"
    quality: str
    threads: int | None  # x264's threads (None: x264's own choice for the executing machine)
    fonts: str  # the fonts' content fingerprint the pieces' keys were made with

    @property
    def frames(self) -> int:
        return sum(self.frame_counts)

    @property
    def what(self) -> str:
        return f"video, frames {self.first_frame}-{self.first_frame + self.frames}"

    def arguments(self) -> list[str]:
        """ffmpeg's arguments, run in the run's folder as `execute_run` lays it out."""
        args: list[str] = []
        for item in self.inputs:
            file = self.files[item.file]
            args += [*item.options, "-i", f"{INPUTS_FOLDER}/{item.file}{file.suffix}"]
        return args + run_output_args(Rate(Fraction(self.rate)), self.quality, list(self.frame_counts), self.threads)

    def with_threads(self, threads: int | None) -> "RunSpec":
        return replace(self, threads=threads)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = SPEC_VERSION
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunSpec":
        if data.get("version") != SPEC_VERSION:
            raise RenderError(f"run spec version {data.get('version')!r} is not {SPEC_VERSION}: the client and the "
                              "worker run different reelforge versions")
        fields = {key: value for key, value in data.items() if key != "version"}
        fields["files"] = tuple(RunFile(**file) for file in data["files"])
        fields["inputs"] = tuple(RunInput(tuple(item["options"]), item["file"]) for item in data["inputs"])
        for name in ("pieces", "frame_counts"):
            fields[name] = tuple(data[name])
        return cls(**fields)


_SUFFIX = re.compile(r"^\.[A-Za-z0-9_-]{1,15}$")


def plan_run(timeline: Timeline, segments: list[Segment], keys: list[str], *, name: str, quality: str, stills: Path,
             threads: int | None, fonts: str, file_key: Callable[[Path], str]) -> tuple[RunSpec, dict[str, Path]]:
    """The spec of one run of consecutive `segments` (whose cache keys are `keys`), and where this machine has
    each of its files (by key). `file_key`: a file's content key, as the segments' keys name it."""
    parts, graph, subtitles = run_parts(timeline, segments, stills)
    files: list[RunFile] = []
    where: dict[str, Path] = {}
    index_of: dict[str, int] = {}
    inputs = []
    for part in parts:
        if len(part) < 2 or part[-2] != "-i":
            raise RenderError(f"{name}: an input without a file: {part}")  # the graph builder adds files only
        path = Path(part[-1])
        key = file_key(path)
        if key not in index_of:
            suffix = path.suffix if _SUFFIX.match(path.suffix) else ""
            index_of[key] = len(files)
            files.append(RunFile(key, suffix))
            where[key] = path
        inputs.append(RunInput(tuple(part[:-2]), index_of[key]))
    spec = RunSpec(name=name, files=tuple(files), inputs=tuple(inputs), graph=graph, subtitles=subtitles,
                   pieces=tuple(keys), frame_counts=tuple(s.range.duration for s in segments),
                   first_frame=segments[0].range.start, rate=timeline.rate.ffmpeg(), quality=quality, threads=threads,
                   fonts=fonts)
    return spec, where


def lay_out(spec: RunSpec, files: Mapping[str, Path], workdir: Path, fonts: Path) -> list[str]:
    """Fill the empty folder `workdir` for `spec` (input links, fonts link, graph, subtitles); its ffmpeg arguments."""
    inputs = workdir / INPUTS_FOLDER
    inputs.mkdir()
    for number, file in enumerate(spec.files):
        os.symlink(Path(files[file.key]).absolute(), inputs / f"{number}{file.suffix}")
    (workdir / str(FONTS_PLACEHOLDER)).symlink_to(Path(fonts).absolute(), target_is_directory=True)
    if spec.subtitles:
        (workdir / ASS_NAME).write_text(spec.subtitles, encoding="utf-8")
    (workdir / "graph.txt").write_text(spec.graph, encoding="utf-8")
    return spec.arguments()


def execute_run(spec: RunSpec, files: Mapping[str, Path], workdir: Path, *, fonts: Path, env: Mapping[str, str] | None,
                cancel: CancelToken | None = None, on_frame: Callable[[int], None] | None = None) -> list[Path]:
    """Run `spec` in the empty folder `workdir`, reading each input from `files[key]`; the pieces' files (in the
    spec's order, inside `workdir`). Raises RenderError (ffmpeg failed) or RenderCancelled."""
    args = lay_out(spec, files, workdir, fonts)
    run_ffmpeg(args, cwd=workdir, cancel=cancel, on_frame=on_frame, what=spec.what, env=env)
    pieces = []
    for number in range(len(spec.pieces)):
        piece = piece_path(workdir, number)
        if not piece.is_file():
            start = spec.first_frame + sum(spec.frame_counts[:number])
            raise RenderError(f"{spec.what}: ffmpeg wrote no piece for frame {start}")
        pieces.append(piece)
    return pieces


def x264_threads(at_once: int, cores: int | None = None) -> int | None:
    """x264's threads for a run when `at_once` runs share this machine's cores: None (x264's own choice, the
    fastest alone) for one run, else an equal share."""
    cores = cores or os.cpu_count() or 2
    return max(cores // at_once, 1) if at_once > 1 else None


def x264_auto_threads() -> int:
    """The thread count x264 chooses by itself here (1.5 per core it may use): what `threads=None` means on this
    machine, made explicit when a run is sent to another."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 2
    return max(cores * 3 // 2, 1)


class RunExecutor(ABC):
    """Where runs execute. `submit` returns a Future of the pieces' files (in `spec.pieces` order) on this
    machine's file system, in or under `workdir` (an empty folder of this render's); the pipeline moves them
    into the cache. `files` says where this machine has each input (by key). `on_frame(n)`: the run has encoded
    `n` frames (called from any thread). Cancelling `cancel` must stop the run's ffmpeg wherever it runs."""

    slots: int  # runs executing at once

    @abstractmethod
    def submit(self, spec: RunSpec, files: Mapping[str, Path], workdir: Path, cancel: CancelToken,
               on_frame: Callable[[int], None]) -> "Future[list[Path]]":
        ...

    def close(self) -> None:
        """Release what the executor holds (it takes no more runs)."""


class LocalRuns(RunExecutor):
    """Runs in `slots` threads of this process, each an ffmpeg of this machine reading the files where they are."""

    def __init__(self, slots: int, fonts: Path, env: Mapping[str, str] | None):
        self.slots = max(slots, 1)
        self.fonts = fonts
        self.env = env
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="video")

    def submit(self, spec: RunSpec, files: Mapping[str, Path], workdir: Path, cancel: CancelToken,
               on_frame: Callable[[int], None]) -> "Future[list[Path]]":
        return self._pool.submit(execute_run, spec, files, workdir, fonts=self.fonts, env=self.env, cancel=cancel,
                                 on_frame=on_frame)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

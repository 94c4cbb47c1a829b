"""Turning a document's sources (uploadName, path, url) into probed local files, with errors at their JSON paths."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from reelforge.document.checks import assets_folder
from reelforge.model import Document, Source
from reelforge.resolve.fetch import fetch_url
from reelforge.resolve.media import MediaError, MediaInfo, probe
from reelforge.workspace import Workspace


class SourceResolver:
    """Turns a Source into a probed local file; `where` (a JSON path) names it in errors."""

    def __init__(self, document: Document, base_dir: Path, assets: Path | None, workspace: Workspace):
        self.base_dir = base_dir.resolve()
        self.assets = assets_folder(document, self.base_dir, assets.resolve() if assets else None)
        self.workspace = workspace
        self._probed: dict[Path, MediaInfo] = {}
        self._pending: dict[Path, Future] = {}
        self._pool: ThreadPoolExecutor | None = None

    def prefetch(self, sources: list[Source]) -> None:
        """Start probing local files in the background (they are read while narration is synthesized);
        `media()` waits for them, and any error is still raised there, in document order."""
        for source in sources:
            if source.url is not None:
                continue
            try:
                path = self.path(source, "")
            except MediaError:
                continue  # reported by media(), with its JSON path
            if path not in self._pending:
                self._pool = self._pool or ThreadPoolExecutor(max_workers=2, thread_name_prefix="probe")
                self._pending[path] = self._pool.submit(probe, path, "", self.workspace)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def path(self, source: Source, where: str) -> Path:
        if source.upload_name is not None:
            path = self.assets / source.upload_name
            if not _is_file(path, f"{where}.uploadName"):
                raise MediaError(f"{where}.uploadName: {source.upload_name!r} is not in the assets folder {self.assets}")
            return path
        if source.path is not None:
            path = self.base_dir / source.path
            if not _is_file(path, f"{where}.path"):
                raise MediaError(f"{where}.path: file not found: {path}")
            return path.resolve()
        return fetch_url(source.url or "", f"{where}.url", self.workspace)

    def media(self, source: Source, where: str) -> MediaInfo:
        path = self.path(source, where)
        if path not in self._probed:
            future = self._pending.pop(path, None)
            try:
                self._probed[path] = future.result() if future is not None else probe(path, where, self.workspace)
            except MediaError:
                if future is None:
                    raise
                self._probed[path] = probe(path, where, self.workspace)  # again, for the message with this use's JSON path
        return self._probed[path]


def _is_file(path: Path, where: str) -> bool:
    """Whether `path` is a file; a name no file system can hold is a MediaError at `where`."""
    from reelforge.document.checks import too_long_name

    problem = too_long_name(str(path))
    if problem:
        raise MediaError(f"{where}: {problem}")
    try:
        return path.is_file()
    except (OSError, ValueError) as error:
        raise MediaError(f"{where}: cannot read {path}: {getattr(error, 'strerror', None) or error}") from None


def file_sources(document: Document) -> list[Source]:
    """The sources of scene visuals, blocks and music: the files a render probes."""
    found = [scene.visual.source for scene in document.scenes if scene.visual.type in ("video", "image")]
    found += [block.source for block in document.blocks if block.type in ("video", "image", "audio")]
    if document.music is not None and document.music.source is not None:
        found.append(document.music.source)
    return found


def check_kind(media: MediaInfo, wanted: str, where: str) -> None:
    """A MediaError when `media` is not the kind of file its place in the document needs."""
    if wanted == "image" and not media.has_video:
        raise MediaError(f"{where}: {media.path.name} is not an image")
    if wanted == "video" and (not media.has_video or media.is_image):
        raise MediaError(f"{where}: {media.path.name} is not a video (use an image visual for stills)")
    if wanted == "audio" and not media.has_audio:
        raise MediaError(f"{where}: {media.path.name} has no audio")

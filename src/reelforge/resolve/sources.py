"""Turning a document's sources (uploadName, path, url) into probed local files, with errors at their JSON paths,
within what the job's `SourcePolicy` lets the document reach."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from reelforge.document.checks import assets_folder, iter_sources
from reelforge.errors import Problem
from reelforge.model import Document, Source
from reelforge.resolve.fetch import AddressRefused, fetch_url, resolve_target
from reelforge.resolve.media import MediaError, MediaInfo, probe
from reelforge.resolve.policy import SourcePolicy
from reelforge.workspace import Workspace

PATHS_REFUSED = "path sources are not accepted here: upload the file and name it with uploadName, or use a url"


class SourceResolver:
    """Turns a Source into a probed local file; `where` (a JSON path) names it in errors."""

    def __init__(self, document: Document, base_dir: Path, assets: Path | None, workspace: Workspace,
                 policy: SourcePolicy | None = None):
        self.policy = policy or SourcePolicy()
        self.base_dir = base_dir.resolve()
        if self.policy.confine_uploads:  # the document's own assetsDir could name any folder
            self.assets = (assets or self.base_dir / "assets").resolve()
        else:
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
        policy = self.policy
        if source.upload_name is not None:
            path = self.assets / source.upload_name
            if policy.confine_uploads:
                real = path.resolve()
                if real != self.assets and self.assets not in real.parents:
                    raise MediaError(f"{where}.uploadName: {source.upload_name!r} leads outside the job's folder")
                path = real
            if not _is_file(path, f"{where}.uploadName"):
                shown = "the job's uploads" if policy.confine_uploads else f"the assets folder {self.assets}"
                raise MediaError(f"{where}.uploadName: {source.upload_name!r} is not in {shown}")
            return path
        if source.path is not None:
            if not policy.path_sources and policy.media_root is None:
                raise MediaError(f"{where}.path: {PATHS_REFUSED}")
            if policy.media_root is not None and not policy.path_sources:
                root = Path(policy.media_root).resolve()
                path = (root / source.path).resolve()
                if root not in path.parents:
                    raise MediaError(f"{where}.path: {source.path!r} is outside the media folder")
                if not _is_file(path, f"{where}.path"):
                    raise MediaError(f"{where}.path: {source.path!r} is not in the media folder")
                return path
            path = self.base_dir / source.path
            if not _is_file(path, f"{where}.path"):
                raise MediaError(f"{where}.path: file not found: {path}")
            return path.resolve()
        return fetch_url(source.url or "", f"{where}.url", self.workspace, policy.fetch)

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


def policy_problems(document: Document, policy: SourcePolicy, *, resolve: bool = True) -> list[Problem]:
    """What `policy` refuses in `document`, found before any render: `path` sources it does not accept, and
    URLs whose scheme or address it refuses (with `resolve`, after looking the host up; a redirect can still be
    refused at render time). Each Problem names the source's JSON path."""
    problems: list[Problem] = []
    for where, source in iter_sources(document):
        if source.path is not None and not policy.path_sources:
            if policy.media_root is None:
                problems.append(Problem(f"{where}.path", PATHS_REFUSED))
            else:
                root = Path(policy.media_root).resolve()
                if root not in (root / source.path).resolve().parents:
                    problems.append(Problem(f"{where}.path", f"{source.path!r} is outside the media folder"))
        elif source.url is not None and resolve and not policy.fetch.addresses.private_addresses:
            try:
                resolve_target(source.url, policy.fetch.addresses, timeout=min(policy.fetch.deadline_seconds, 10))
            except AddressRefused as exc:
                problems.append(Problem(f"{where}.url", f"{source.url} is refused: {exc}"))
            except (OSError, TimeoutError):
                pass  # a host that does not resolve now fails at render time, with its reason
    return problems

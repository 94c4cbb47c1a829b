"""Finding and probing media files: local files, the assets folder, and URLs fetched once into the cache."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from reelforge.workspace import cache_root, content_key
from reelforge.errors import ReelforgeError
from reelforge.fileio import write_atomic

MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30.0
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


class MediaError(ReelforgeError):
    """A media file is missing, unreadable, or not media; the message names where it was used."""

    exit_code = 2


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    width: int | None
    height: int | None
    duration: Fraction | None  # None for still images
    has_video: bool
    has_audio: bool
    is_image: bool


PROBE_VERSION = 1  # part of the probe cache's key: bump when MediaInfo or the checks change


def probe(path: Path, where: str) -> MediaInfo:
    """Read a media file's streams with PyAV; a clear MediaError when it is not media.

    A file that probed well is remembered in the cache by its path, size and modification time, so the
    next render of an unchanged file skips opening and decoding it."""
    if not path.is_file():
        raise MediaError(f"{where}: file not found: {path}")
    stat = path.stat()
    if stat.st_size == 0:
        raise MediaError(f"{where}: file is empty (0 bytes): {path}")
    memo = cache_root() / "probe" / (content_key("probe", PROBE_VERSION, str(path.resolve()), stat.st_size,
                                                 stat.st_mtime_ns) + ".json")
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        duration = Fraction(data["duration"]) if data["duration"] is not None else None
        return MediaInfo(path, data["width"], data["height"], duration, data["has_video"], data["has_audio"],
                         data["is_image"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    info = _probe(path, where)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(memo, json.dumps({
            "width": info.width, "height": info.height,
            "duration": str(info.duration) if info.duration is not None else None,
            "has_video": info.has_video, "has_audio": info.has_audio, "is_image": info.is_image}))
    except OSError:
        pass  # the cache only saves work: a full or read-only disk must not fail a good probe
    return info


def _probe(path: Path, where: str) -> MediaInfo:
    import av

    try:
        with av.open(str(path)) as container:
            video = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            if video is None and audio is None:
                raise MediaError(f"{where}: no audio or video in {path}")
            duration = None
            if container.duration is not None:
                duration = Fraction(container.duration, 1_000_000)
            elif video is not None and video.duration is not None and video.time_base:
                duration = video.duration * video.time_base
            elif audio is not None and audio.duration is not None and audio.time_base:
                duration = audio.duration * audio.time_base
            is_image = video is not None and audio is None and (
                path.suffix.lower() in IMAGE_SUFFIXES or container.format.name.endswith("_pipe") or container.format.name == "image2"
            )
            if video is not None:
                # Decode one frame: catches truncated or corrupt files that parse but do not play.
                next(container.decode(video=0))
            width = video.codec_context.width if video is not None else None
            height = video.codec_context.height if video is not None else None
    except MediaError:
        raise
    except (av.error.FFmpegError, StopIteration, UnicodeDecodeError, ValueError) as exc:
        raise MediaError(f"{where}: not a readable media file: {path} ({type(exc).__name__}: {exc})") from None
    if not is_image and duration is not None and duration <= 0:
        raise MediaError(f"{where}: media has no duration: {path}")
    return MediaInfo(path, width, height, None if is_image else duration, video is not None, audio is not None, is_image)


def fetch_url(url: str, where: str, *, max_bytes: int = MAX_DOWNLOAD_BYTES, timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download `url` once into the cache (keyed by the URL); later calls reuse the file."""
    folder = cache_root() / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(urllib.request.urlparse(url).path).suffix[:8]
    target = folder / (content_key("url", url)[:32] + suffix)
    if target.is_file():
        return target
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "reelforge"})
        with urllib.request.urlopen(request, timeout=timeout) as response, os.fdopen(fd, "wb") as out:
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind.startswith("text/") or kind in ("application/json", "application/xml"):
                raise MediaError(f"{where}: {url} serves {kind}, not media")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise MediaError(f"{where}: {url} is {int(length) / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB")
            received = 0
            while chunk := response.read(1 << 16):
                received += len(chunk)
                if received > max_bytes:
                    raise MediaError(f"{where}: {url} is larger than the {max_bytes / 1e6:.0f} MB limit")
                out.write(chunk)
        try:
            _probe(Path(tmp), where)
        except MediaError as exc:
            detail = str(exc).split(": ", 1)[-1].replace(tmp, url)
            raise MediaError(f"{where}: {url} is not media: {detail}") from None
        os.replace(tmp, target)
        return target
    except MediaError:
        raise
    except urllib.error.HTTPError as exc:
        raise MediaError(f"{where}: cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MediaError(f"{where}: cannot fetch {url}: {reason}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)

"""Probing media files: what streams a file holds and how long it lasts, checked by decoding a frame (a PNG or
JPEG picture more cheaply: `_read_picture`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from reelforge.errors import ReelforgeError
from reelforge.fileio import write_atomic
from reelforge.workspace import Workspace, content_key

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
# Most pixels a picture may have: a 10000x10000 PNG of 316 KB decodes into 400 MB of frame. 50 MP is more
# than a 45 MP camera gives and eight times a 4K frame.
MAX_PIXELS = 50_000_000


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


PROBE_VERSION = 2  # part of the probe cache's key: bump when MediaInfo or the checks change


def probe(path: Path, where: str, workspace: Workspace | None = None) -> MediaInfo:
    """Read a media file's streams with PyAV; a clear MediaError when it is not media.

    With a workspace, a file that probed well is remembered in its cache by the file's content hash, so the
    next render of the same bytes (wherever they now lie) skips opening and decoding it."""
    if not path.is_file():
        raise MediaError(f"{where}: file not found: {path}")
    if path.stat().st_size == 0:
        raise MediaError(f"{where}: file is empty (0 bytes): {path}")
    if workspace is None:
        return read_streams(path, where)
    memo = workspace.cache / "probe" / (content_key("probe", PROBE_VERSION, workspace.file_hash(path)) + ".json")
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        duration = Fraction(data["duration"]) if data["duration"] is not None else None
        return MediaInfo(path, data["width"], data["height"], duration, data["has_video"], data["has_audio"],
                         data["is_image"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    info = read_streams(path, where)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(memo, json.dumps({
            "width": info.width, "height": info.height,
            "duration": str(info.duration) if info.duration is not None else None,
            "has_video": info.has_video, "has_audio": info.has_audio, "is_image": info.is_image}))
    except OSError:
        pass  # the cache only saves work: a full or read-only disk must not fail a good probe
    return info


def _read_picture(path: Path, where: str) -> MediaInfo | None:
    """A picture Pillow knows, from its header: refused when over MAX_PIXELS (before anything decodes it), and
    for a single-frame PNG or JPEG, checked whole and returned here (None: let PyAV read the file).

    The check is cheaper than decoding the picture, which costs a 6-megapixel PNG 90 ms: a PNG's every chunk
    against its CRC up to its end chunk, a JPEG decoded at an eighth of its size (every byte of it read)."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below is ours
        try:
            image = Image.open(path)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            return None  # not a picture Pillow knows: the probe below says what it is
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise MediaError(f"{where}: {path.name} is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
                                 f"the limit is {MAX_PIXELS / 1e6:.0f}: make it smaller first")
            if image.format not in ("PNG", "JPEG") or getattr(image, "n_frames", 1) != 1:
                return None
            try:
                if image.format == "PNG":
                    image.verify()
                else:
                    image.draft(image.mode, (max(width // 8, 1), max(height // 8, 1)))
                    image.load()
            except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds (SyntaxError for a bad CRC)
                raise MediaError(f"{where}: not a readable media file: {path} ({type(exc).__name__}: {exc})") from None
    return MediaInfo(path, width, height, None, True, False, True)


def read_streams(path: Path, where: str) -> MediaInfo:
    picture = _read_picture(path, where)
    if picture is not None:
        return picture
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
            if video is not None and (video.codec_context.width or 0) * (video.codec_context.height or 0) > MAX_PIXELS:
                raise MediaError(f"{where}: {path.name} is {video.codec_context.width}x{video.codec_context.height}; "
                                 f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels a frame")
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

"""A job's uploaded files: streamed into its folder under a size cap checked while they arrive, their type told
from their first bytes (never from the name or the client's Content-Type), never following a symlink."""

from __future__ import annotations

import os
import re
from pathlib import Path

from reelforge.model.sources import UPLOAD_NAME_PATTERN
from reelforge.service.errors import Invalid, TooLarge, UnsupportedMedia

SNIFF_BYTES = 64
_NAME = re.compile(UPLOAD_NAME_PATTERN)


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file show, or None for anything that is not an image, video or audio."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:2] == b"BM" and len(head) >= 14:
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand.startswith(b"qt"):
            return "video/quicktime"
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head else "video/x-matroska"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame (mp3) or ADTS (aac)
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    return None


def check_upload_name(name: str) -> str:
    """The part's file name, when it is a bare file name a document can name as `uploadName`."""
    if not name or not _NAME.match(name) or name in (".", ".."):
        raise Invalid(f"upload file name {name!r} must be a bare file name (no '/', '\\\\' or leading '.')",
                      code="invalid_upload_name", details={"errors": [{"path": "files", "message": "bad file name"}]})
    return name


class UploadBudget:
    """The bytes a job's uploads may still take."""

    def __init__(self, per_file: int, total: int):
        self.per_file = per_file
        self.left = total
        self.total = total


class UploadWriter:
    """One uploaded file, written as it streams in; `finish()` gives it its name, `abort()` removes it."""

    def __init__(self, folder: Path, name: str, budget: UploadBudget):
        self.name = check_upload_name(name)
        self.folder = folder
        self.budget = budget
        self.final = folder / name
        self.temp = folder / f".{os.getpid()}.{id(self)}.part"
        if os.path.lexists(self.final):
            raise Invalid(f"two files are named {name!r}", code="duplicate_upload")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self.temp, flags, 0o640)
        self.size = 0
        self.kind: str | None = None
        self._head = b""

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.budget.per_file:
            raise TooLarge(f"file {self.name!r} is larger than the {self.budget.per_file / 1e6:g} MB limit per file",
                           code="file_too_large")
        if self.size > self.budget.left:
            raise TooLarge(f"the job's files are larger than the {self.budget.total / 1e6:g} MB limit",
                           code="job_too_large")
        if self.kind is None and len(self._head) < SNIFF_BYTES:
            self._head += data[:SNIFF_BYTES]
            if len(self._head) >= SNIFF_BYTES:
                self._check_kind()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _check_kind(self) -> None:
        self.kind = sniff(self._head)
        if self.kind is None:
            raise UnsupportedMedia(f"file {self.name!r} is not an image, video or audio file (by its content)",
                                   code="unsupported_file_type")

    def finish(self) -> str:
        """Close and name the file; its media type."""
        if self.kind is None:
            self._check_kind()
        os.close(self._fd)
        self._fd = -1
        if self.size == 0:
            raise Invalid(f"file {self.name!r} is empty", code="empty_upload")
        os.rename(self.temp, self.final)  # a rename replaces a directory entry; it never follows a symlink
        self.budget.left -= self.size
        return self.kind or "application/octet-stream"

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.temp.unlink(missing_ok=True)

"""Atomic file writes: every file reelforge writes appears whole or not at all, and the previous version survives.

`write_atomic` writes bytes; `atomic_output` hands out a temporary path in the target's folder for a file that
another program (ffmpeg) writes, and renames it over the target only when the work succeeded. Both:
- write to a temporary file in the same folder, fsync it, then `os.replace` it over the target (readers see the
  old file or the new one, never half of one; a full disk or a crash leaves the old file as it was);
- follow a symlink to the file it points to (the link stays a link) and keep the file's permissions and owner;
- refuse to replace a file that is read-only (no write permission bit), with an error saying so;
- keep the previous version as `NAME.bak` when asked, itself written to a temporary file first, so a failed
  save never destroys the old backup.
Temporary files are named `.NAME.<pid>.<random>.partial` and locked while in use, so `sweep_partials` can
remove those a killed process left behind without touching one another process is still writing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import stat as stat_module
from collections.abc import Iterator
from pathlib import Path

from reelforge.errors import ReelforgeError

BACKUP_SUFFIX = ".bak"
PARTIAL_MARK = ".partial"


class WriteError(ReelforgeError, OSError):
    """A file could not be written; the message names it and says why (read-only, a folder, a full disk...).

    Also an OSError, so code that lets a cache write fail quietly (`except OSError`) still does."""

    exit_code = 2

    def __init__(self, path: Path, reason: str, *, verb: str = "write", read_only: bool = False):
        super().__init__(f"cannot {verb} {path}: {reason}")
        self.path = Path(path)
        self.reason = reason
        self.read_only = read_only  # the file itself is read-only: another name would work


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + BACKUP_SUFFIX)


def real_target(path: Path) -> Path:
    """The file a write to `path` must change: the end of its symlinks (the link itself is kept)."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_writable(path: Path) -> Path:
    """`path`'s real target, after checking a write could replace it: not a folder, not a read-only file, in a
    folder that exists. Raises WriteError saying what is in the way."""
    target = real_target(path)
    if target.is_dir():
        raise WriteError(path, "it is a folder: give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise WriteError(path, f"folder {folder} does not exist")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    if not mode & (stat_module.S_IWUSR | stat_module.S_IWGRP | stat_module.S_IWOTH):
        raise WriteError(path, "it is read-only: save it under another name, or make it writable first",
                         read_only=True)
    return target


def write_atomic(path: Path, data: bytes | str, *, keep_backup: bool = False, exclusive: bool = False) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half of one.

    `keep_backup`: first keep the current file as `path.bak` (replacing the old backup only once the new one is
    whole). `exclusive`: only create `path`; if it exists by the time the data is written, it is kept as it is
    (a cache entry: the first version written is the one every reader sees)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_output(path, keep_backup=keep_backup, exclusive=exclusive) as temp:
        with temp.open("wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_output(path: Path, *, keep_backup: bool = False, suffix: str = "", exclusive: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write into; on success it replaces `path` (atomically, keeping the old
    file's mode and owner, and a `.bak` of it with `keep_backup`); on any failure it is removed and `path` is
    untouched. `suffix` ends the temporary name (ffmpeg picks a format by it, e.g. ".mp4"). `exclusive`: the
    temporary file takes the name only if nothing has it yet (a link, which fails on an existing name)."""
    target = check_writable(Path(path))
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{PARTIAL_MARK}{suffix}")
    try:
        lock = _create_locked(temp)
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        yield temp
        if exclusive:
            _link_new(temp, target)
        else:
            _finish(temp, target, keep_backup)
    except OSError as error:
        raise _write_error(path, error) from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
        os.close(lock)


def _create_locked(temp: Path) -> int:
    """Create `temp` (empty) and hold a lock on it for as long as it is being written."""
    fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _finish(temp: Path, target: Path, keep_backup: bool) -> None:
    try:
        old = target.stat()
    except FileNotFoundError:
        old = None
    if old is None:
        os.chmod(temp, 0o666 & ~_umask())
    else:
        os.chmod(temp, stat_module.S_IMODE(old.st_mode))
        if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(PermissionError):  # only root may give a file away; others keep their own
                os.chown(temp, old.st_uid, old.st_gid)
        if keep_backup:
            _replace_backup(target)
    os.replace(temp, target)
    _sync_folder(target.parent)


def _link_new(temp: Path, target: Path) -> None:
    """Give `temp` the name `target` unless `target` exists (then the existing file is kept)."""
    os.chmod(temp, 0o666 & ~_umask())
    try:
        os.link(temp, target)
    except FileExistsError:
        return
    _sync_folder(target.parent)


def _replace_backup(target: Path) -> None:
    """Copy `target` to `target.bak` through a temporary file: the old backup stays until the new one is whole."""
    backup = backup_path(target)
    temp = backup.with_name(f".{backup.name}.{os.getpid()}.{secrets.token_hex(4)}{PARTIAL_MARK}")
    try:
        with target.open("rb") as source, temp.open("xb") as copy:
            shutil.copyfileobj(source, copy, 1 << 20)
            copy.flush()
            os.fsync(copy.fileno())
        shutil.copystat(target, temp)
        os.replace(temp, backup)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(path: Path, error: OSError) -> WriteError:
    reasons = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EDQUOT: "over the disk quota",
               errno.ENAMETOOLONG: "the file name is too long", errno.EISDIR: "it is a folder"}
    return WriteError(path, reasons.get(error.errno, error.strerror or str(error)))


@contextlib.contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock named by `path` (a small file beside what it guards) across processes and threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sweep_partials(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files in `folder` (of the file `name`, or all) whose writer is gone: each is locked
    by its writer while it lives, so a lock that can be taken means a process died mid-write. Returns them."""
    removed = []
    pattern = f".{name}.*{PARTIAL_MARK}*" if name else f".*{PARTIAL_MARK}*"
    try:
        candidates = list(Path(folder).glob(pattern))
    except OSError:
        return removed
    for candidate in candidates:
        if _unlocked(candidate):
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _unlocked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

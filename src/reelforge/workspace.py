"""Where a render keeps its files (the content-addressed cache, work folders, fonts), passed explicitly.

A `Workspace` is made once, at the edge (the CLI from the environment, the service from its data folder, a
test from a temporary folder), and handed to every stage that reads or writes the cache. No library module
reads the environment. Keys of cached pieces depend only on content: files are named by the hash of their
bytes (`ContentHasher`), never by their path, so a moved project or a copied cache hits as before.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CACHE_ENV = "REELFORGE_CACHE"
VOICES_ENV = "REELFORGE_VOICES"
ASR_MODEL_ENV = "REELFORGE_ASR_MODEL"
HASH_CHUNK = 1 << 20


def content_key(*parts: Any) -> str:
    """A stable sha256 of JSON-able parts."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


@dataclass
class SpeechStats:
    """Counters of the work the speech engine did for one workspace (tests use them to prove cache hits)."""

    synthesized: int = 0  # narrations run through the model (cache misses)
    cache_hits: int = 0  # narrations served from the cache without the model
    models_loaded: int = 0  # voice models loaded into onnxruntime
    sentence_hits: int = 0  # sentences of a synthesized narration reused from the sentence cache
    heard: int = 0  # recordings aligned or recognized by the speech recognition model (cache misses)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, counter: str) -> None:
        """Add one to `counter` (safe from several threads: narrations are synthesized in a pool)."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def reset(self) -> None:
        with self._lock:
            self.synthesized = self.cache_hits = self.models_loaded = self.sentence_hits = self.heard = 0


class ContentHasher:
    """The BLAKE2b hash of a file's bytes, computed once per version of the file.

    A hash is remembered (in memory and under `memo_dir`) by the file's real path, size, device, inode,
    modification time and change time. The change time moves on every write and cannot be set back, so a
    remembered hash is never stale, and a 1 GB clip is read once, not at every render. A copied cache
    remembers nothing about this machine's files: they are hashed again and give the same keys."""

    def __init__(self, memo_dir: Path | None = None):
        self.memo_dir = memo_dir
        self._known: dict[tuple, str] = {}
        self._lock = threading.Lock()
        self.files_hashed = 0  # files read and hashed (not remembered): the benchmark and tests count them

    def hash(self, path: Path) -> str:
        path = Path(path)
        identity = _identity(path)
        with self._lock:
            known = self._known.get(identity)
        if known is not None:
            return known
        memo = self.memo_dir / (content_key("file-hash", 1, *identity)[:40] + ".txt") if self.memo_dir else None
        if memo is not None:
            try:
                digest = memo.read_text(encoding="ascii").strip()
                if len(digest) == 64:
                    with self._lock:
                        self._known[identity] = digest
                    return digest
            except (OSError, UnicodeDecodeError):
                pass
        digest = _blake2b_file(path)
        with self._lock:
            self.files_hashed += 1
        if _identity(path) != identity:  # written while it was read: this hash describes no one version
            return digest
        with self._lock:
            self._known[identity] = digest
        if memo is not None:
            _remember(memo, digest)
        return digest


def _identity(path: Path) -> tuple:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)


def _blake2b_file(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=32)
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _remember(memo: Path, digest: str) -> None:
    """Write a memo entry atomically; a cache that cannot be written only costs a hash next time."""
    from reelforge.fileio import write_atomic

    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(memo, digest)
    except OSError:
        pass


LOCK_NAME = ".lock"
# A folder without a lock file was made by an older reelforge or its process died between mkdir and the lock.
UNLOCKED_FOLDER_AGE = 600.0


class WorkFolder:
    """A temporary folder that is locked while its owner lives: `release()` (or the `with` block) removes it,
    and if the owner is killed, the lock goes with the process and the next sweep removes the folder."""

    def __init__(self, path: Path, lock_fd: int):
        self.path = path
        self._lock_fd: int | None = lock_fd

    @classmethod
    def create(cls, parent: Path, prefix: str) -> "WorkFolder":
        parent.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        # Locked before it takes its name: a sweeper sees no lock file (and leaves a young folder alone) or a
        # locked one, never one it could take before its owner does.
        unnamed = path / f"{LOCK_NAME}.{os.getpid()}"
        fd = os.open(unnamed, os.O_CREAT | os.O_WRONLY, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(unnamed, path / LOCK_NAME)
        return cls(path, fd)

    def release(self) -> None:
        """Remove the folder and everything in it (once; later calls do nothing)."""
        if self._lock_fd is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *_exc: object) -> None:
        self.release()



def sweep_work_folders(parent: Path) -> list[Path]:
    """Remove the folders under `parent` whose owner is gone (their lock can be taken), and old unlocked ones."""
    removed = []
    try:
        folders = [path for path in parent.iterdir() if path.is_dir()]
    except OSError:
        return removed
    for folder in folders:
        lock = folder / LOCK_NAME
        try:
            fd = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:
            try:
                stale = time.time() - folder.stat().st_mtime > UNLOCKED_FOLDER_AGE
            except OSError:
                continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held: a render in progress
        finally:
            os.close(fd)  # releases the lock we may have taken
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


@dataclass(frozen=True)
class Workspace:
    """The folders one render (or one job of the service) works in.

    cache: content-addressed pieces (segments, audio, narration, cards, probes, downloads, music, stills);
    work: temporary folders of renders in progress (default `<cache>/work`, on the cache's file system so
    finished pieces are published by rename); fonts: reelforge's font files for libass and manim (default
    `<cache>/fonts`); voices: a folder of extra piper voices (None: the bundled voice only); asr_model: the
    faster-whisper model folder that aligns and recognizes recordings (None: the bundled Whisper tiny.en)."""

    cache: Path
    work: Path = None  # type: ignore[assignment]
    fonts: Path = None  # type: ignore[assignment]
    voices: Path | None = None
    asr_model: Path | None = None
    stats: SpeechStats = field(default_factory=SpeechStats, compare=False, repr=False)
    hasher: ContentHasher = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        cache = Path(self.cache).expanduser().absolute()
        object.__setattr__(self, "cache", cache)
        object.__setattr__(self, "work", Path(self.work).expanduser().absolute() if self.work else cache / "work")
        object.__setattr__(self, "fonts", Path(self.fonts).expanduser().absolute() if self.fonts else cache / "fonts")
        if self.voices is not None:
            object.__setattr__(self, "voices", Path(self.voices).expanduser())
        if self.asr_model is not None:
            object.__setattr__(self, "asr_model", Path(self.asr_model).expanduser())
        if self.hasher is None:
            object.__setattr__(self, "hasher", ContentHasher(cache / "hashes"))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Workspace":
        """The workspace the environment names: `$REELFORGE_CACHE` (else `$XDG_CACHE_HOME/reelforge`, else
        ~/.cache/reelforge), `$REELFORGE_VOICES` (else ~/.local/share/reelforge/voices) and
        `$REELFORGE_ASR_MODEL` (else the bundled speech recognition model). Only the edges
        (the command line, the service, the public `render()` when given no workspace) call this."""
        env = os.environ if environ is None else environ
        explicit = env.get(CACHE_ENV)
        home = Path(env.get("HOME") or Path.home())
        cache = Path(explicit) if explicit else Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "reelforge"
        voices = env.get(VOICES_ENV)
        asr_model = env.get(ASR_MODEL_ENV)
        return cls(cache, voices=Path(voices) if voices else home / ".local" / "share" / "reelforge" / "voices",
                   asr_model=Path(asr_model) if asr_model else None)

    def folder(self, name: str) -> Path:
        """`<cache>/name`, created when missing."""
        path = self.cache / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def work_folder(self, prefix: str) -> "WorkFolder":
        """A new, empty temporary folder under `work`, held (locked) until `release()`; use it as a context
        manager for work that ends in one call. A folder whose process died is removed by `sweep_work`."""
        return WorkFolder.create(self.work, prefix)

    def sweep_work(self) -> list[Path]:
        """Remove the work folders (and the pieces in them) that processes killed mid-render left behind."""
        return sweep_work_folders(self.work)

    def file_hash(self, path: Path) -> str:
        """The content hash of a file (computed once per version of it; see ContentHasher)."""
        return self.hasher.hash(path)

    def to_dict(self) -> dict[str, str | None]:
        """The folders as plain data (a job sent to another process names its workspace this way)."""
        return {"cache": str(self.cache), "work": str(self.work), "fonts": str(self.fonts),
                "voices": str(self.voices) if self.voices is not None else None,
                "asr_model": str(self.asr_model) if self.asr_model is not None else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Workspace":
        voices = data.get("voices")
        asr_model = data.get("asr_model")
        return cls(Path(data["cache"]), work=data.get("work"), fonts=data.get("fonts"),
                   voices=Path(voices) if voices else None, asr_model=Path(asr_model) if asr_model else None)

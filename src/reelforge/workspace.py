"""The content-addressed cache shared by every stage (TTS, fetched URLs, rendered pieces)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """`$REELFORGE_CACHE`, or ~/.cache/reelforge."""
    root = os.environ.get("REELFORGE_CACHE")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "reelforge"
    base.mkdir(parents=True, exist_ok=True)
    return base


def content_key(*parts: Any) -> str:
    """A stable sha256 of JSON-able parts."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def file_fingerprint(path: Path) -> str:
    """Cheap identity of a file's content: size and modification time in ns (hash only small files)."""
    stat = path.stat()
    if stat.st_size <= 4 * 1024 * 1024:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{stat.st_size}:{stat.st_mtime_ns}"

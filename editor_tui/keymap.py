"""The user's key remapping: binding id → keys, read from a JSON file (no Textual needed to read it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from reelforge.errors import ReelforgeError


def keymap_path() -> Path:
    """`$REELFORGE_EDITOR_KEYS`, or editor-keys.json in ~/.config/reelforge (or $XDG_CONFIG_HOME/reelforge)."""
    explicit = os.environ.get("REELFORGE_EDITOR_KEYS")
    if explicit:
        return Path(explicit)
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "reelforge" / "editor-keys.json"


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """The remapping in `path` ({"editor.add_scene": "n", "editor.save": "ctrl+w"}), empty when there is no file."""
    path = keymap_path() if path is None else path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ReelforgeError(f"cannot read the key map {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ReelforgeError(f"{path}: a key map is a JSON object of binding id to keys, e.g. {{\"editor.add_scene\": \"n\"}}")
    return data

"""The card renderer's error type: which card failed and manim's last words."""

from __future__ import annotations

from reelforge.errors import ReelforgeError


class CardError(ReelforgeError):
    """A card could not be found, validated or rendered."""

    exit_code = 1

    def __init__(self, message: str, *, kind: str | None = None, detail: str = ""):
        self.kind = kind
        self.detail = detail
        super().__init__(message + (f"\n{detail}" if detail else ""))


class CardPluginWarning(UserWarning):
    """A `reelforge.cards` entry point was skipped (it failed to load or is not a valid card)."""

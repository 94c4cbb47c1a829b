"""The error the speech engine reports: unknown voice, broken voice file, nothing to say."""

from __future__ import annotations

from reelforge.errors import ReelforgeError


class TTSError(ReelforgeError):
    """Narration could not be synthesized; the message says what to change."""

"""App-wide messages posted by the editor's workers: speech, recordings heard, lengths found, previews, renders,
autosave."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from textual.message import Message


@dataclass
class TtsFinished(Message):
    """A scene's narration was spoken (seconds set: the exact length) or could not be (error set)."""

    scene_id: str
    text: str
    voice: object
    seconds: Fraction | None = None
    error: str | None = None


@dataclass
class RecordingHeard(Message):
    """A scene's recording was aligned to its transcript (or its words recognized, `recognized`): its exact length
    and the words heard; or it could not be (error set)."""

    scene_id: str
    source: str
    seconds: Fraction | None = None
    words: str = ""
    word_count: int = 0
    recognized: bool = False
    error: str | None = None


@dataclass
class LengthsFound(Message):
    """Exact lengths the workspace cache already knew: speech by scene id (its text and seconds, for `voice`) and
    recordings by scene id (their source and seconds)."""

    voice: object
    spoken: dict[str, tuple[str, Fraction]]
    recorded: dict[str, tuple[str, Fraction]]


@dataclass
class PreviewReady(Message):
    """A still frame of a scene was composed into `png` (or failed with `error`)."""

    scene_id: str
    png: Path | None = None
    error: str | None = None


@dataclass
class RenderProgress(Message):
    """How far a render is; a newer one replaces an older one still waiting in the queue."""

    fraction: float
    stage: str
    eta_seconds: float | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RenderProgress)


@dataclass
class RenderFinished(Message):
    """A render ended: `path` when it produced a file, `cancelled` when the user stopped it, else `error`."""

    path: Path | None = None
    seconds: float = 0.0
    cancelled: bool = False
    error: str | None = None


@dataclass
class AutosaveWritten(Message):
    """The autosave file was written (or could not be: `error`)."""

    path: Path
    error: str | None = None

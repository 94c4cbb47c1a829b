"""Error types with messages a user can act on; the CLI turns them into lines and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a document, located by its JSON path."""

    path: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.path or "(document)"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"


class ReelforgeError(Exception):
    """Base class of every error reelforge reports to a user."""

    exit_code = 1


class DocumentError(ReelforgeError):
    """A document could not be read or is invalid; carries every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = problems
        self.source = source
        first = problems[0] if problems else Problem("", "invalid document")
        super().__init__(str(first) if len(problems) == 1 else f"{first} (and {len(problems) - 1} more)")


class UsageError(ReelforgeError):
    """An argument that cannot work (a time past the end, a missing option value); the message says why."""

    exit_code = 2


class EditError(ReelforgeError):
    """An edit operation was refused; the project is unchanged."""

    exit_code = 2


class RenderError(ReelforgeError):
    """A render failed (ffmpeg, a card worker, the audio pass); the message says which part and why."""

    exit_code = 1


class RenderCancelled(ReelforgeError):
    """A render was stopped by its CancelToken, Ctrl-C or SIGTERM; nothing was written at the output path."""

    exit_code = 130

    def __init__(self, message: str = "render cancelled"):
        super().__init__(message)

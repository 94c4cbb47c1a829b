"""The line at the top: the project's name, frame shape and size, total length, and whether it is saved."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def clock(seconds: float) -> str:
    """Seconds as m:ss.s (0:32.4)."""
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


class ProjectHeader(Static):
    """Shows what the editor is told; holds nothing of its own."""

    DEFAULT_CSS = """
    ProjectHeader { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def show(self, *, name: str, aspect: str, width: int, height: int, seconds: float, exact: bool,
             dirty: bool, changed_on_disk: bool, file_name: str) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(name, style="bold")
        line.append(f"  ·  {aspect}  ·  {width}×{height}  ·  ")
        line.append(("" if exact else "~") + clock(seconds), style="bold" if exact else "")
        line.append(f"  ·  {file_name}", style="dim")
        if dirty:
            line.append("  ● unsaved", style="bold yellow")
        if changed_on_disk:
            line.append("  ⚠ changed on disk", style="bold red")
        self.update(line)

"""The line at the top: the project's name, frame shape and size, total length, and whether it is saved; what matters
most (unsaved, changed on disk, the length) stays when the terminal is narrow, the name and file name give way."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget


def clock(seconds: float) -> str:
    """Seconds as m:ss.s (0:32.4)."""
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


@dataclass(frozen=True)
class HeaderFacts:
    name: str
    aspect: str
    width: int
    height: int
    seconds: float
    exact: bool
    dirty: bool
    changed_on_disk: bool
    file_name: str


SEPARATOR = "  ·  "


def header_line(facts: HeaderFacts, width: int) -> Text:
    """The header for `width` cells: the file name goes first, then the frame size, then the name is shortened;
    the length and the unsaved / changed-on-disk marks always show."""
    marks = Text()
    if facts.dirty:
        marks.append("  ● unsaved", style="bold yellow")
    if facts.changed_on_disk:
        marks.append("  ⚠ changed on disk", style="bold red")
    length = Text(("" if facts.exact else "~") + clock(facts.seconds), style="bold" if facts.exact else "")
    for show_file, show_size in ((True, True), (False, True), (False, False)):
        middle = Text(SEPARATOR + facts.aspect)
        if show_size:
            middle.append(f"{SEPARATOR}{facts.width}×{facts.height}")
        middle.append(SEPARATOR)
        tail = Text(SEPARATOR + facts.file_name, style="dim") if show_file else Text()
        room = width - middle.cell_len - length.cell_len - tail.cell_len - marks.cell_len
        if room >= min(len(facts.name), 12) or not (show_file or show_size):
            name = facts.name if len(facts.name) <= room else facts.name[: max(room - 1, 1)] + "…"
            return Text.assemble(Text(name, style="bold"), middle, length, tail, marks, no_wrap=True,
                                 overflow="ellipsis")
    raise AssertionError("the last layout always returns")


class ProjectHeader(Widget):
    """Shows what the editor is told; holds nothing of its own."""

    DEFAULT_CSS = """
    ProjectHeader { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._facts: HeaderFacts | None = None

    def show(self, **facts) -> None:
        self._facts = HeaderFacts(**facts)
        self.refresh()

    def render(self) -> Text:
        if self._facts is None:
            return Text()
        return header_line(self._facts, self.content_size.width)

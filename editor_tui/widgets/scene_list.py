"""The scene list: number, id, length (estimated ~ or exact), speech and problem state, visual, narration; and the
one-letter keys, which work where the focus is on the list (in the form, typing takes the letters)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from editor_tui.state import SceneRow

SPEECH_MARKS = {
    "fresh": ("✓", "green", "speech is up to date"),
    "stale": ("!", "yellow", "narration changed since it was spoken"),
    "none": ("·", "dim", "not spoken yet: length estimated"),
    "speaking": ("…", "bold cyan", "speaking now"),
    "recorded": ("♪", "", "recorded narration"),
    "silent": ("-", "dim", "no narration"),
}


def excerpt(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_id(scene_id: str, limit: int) -> str:
    """An id cut to `limit` characters in the middle, so its end stays: a split's "the-ocean-is-2" is "the-o…is-2",
    never the same as "the-ocean-is"."""
    if len(scene_id) <= limit:
        return scene_id
    tail = max((limit - 1) // 2, 1)
    return scene_id[: limit - 1 - tail] + "…" + scene_id[-tail:]


MIN_ID_WIDTH = 4
MAX_ID_WIDTH = 24
MIN_NARRATION_WIDTH = 8
VISUAL_WIDTH = 11
LENGTH_WIDTH = 5


SETTINGS = Binding.Group("Settings")
"""c and m both open the settings screen (at captions, at music): one label in the footer."""


def _binding(key: str, action: str, label: str, help_text: str, *, show: bool = True,
             group: Binding.Group | None = None) -> Binding:
    return Binding(key, f"screen.{action}", label, show=show, tooltip=help_text, id=f"editor.{action}", group=group)


class SceneList(DataTable):
    """One row per scene, keyed by scene id; the cursor row is the selected scene."""

    # The footer shows what fits in 80 columns; the command palette (ctrl+p) lists every action.
    BINDINGS = [
        _binding("a", "add_scene", "Add", "Add a scene after the selected one"),
        _binding("d", "delete_scene", "Delete", "Delete the selected scene", show=False),
        _binding("shift+up", "move_up", "Move up", "Move the selected scene up", show=False),
        _binding("shift+down", "move_down", "Move down", "Move the selected scene down", show=False),
        _binding("s", "split_scene", "Split", "Split the scene's narration at the sentence nearest the cursor",
                 show=False),
        _binding("t", "speak", "Speech", "Speak the narration again, or align the recording (exact length)"),
        _binding("v", "pick_visual", "Visual", "Pick the selected scene's visual: a file, color, gradient or card"),
        _binding("c", "captions", "Captions", "Settings at captions: style, position, words a line", group=SETTINGS),
        _binding("m", "music", "Music", "Settings at music: mood or file, volume, ducking", group=SETTINGS),
        _binding("p", "preview", "Preview", "Preview the selected scene as a still frame"),
        _binding("enter", "edit_scene", "Edit", "Edit the selected scene in the form", show=False),
        _binding("q", "quit_editor", "Quit", "Quit, asking first when there are unsaved changes"),
        # Shown here only (the screen's ctrl+r works everywhere): the form's footer has no room for it at 80 columns.
        Binding("ctrl+r", "screen.render", "Render", tooltip="Render the video (escape cancels)",
                id="editor.list.render"),
    ]

    @dataclass
    class Selected(Message):
        """The user moved to another scene."""

        scene_list: "SceneList"
        scene_id: str

        @property
        def control(self) -> "SceneList":
            return self.scene_list

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._shown: list[SceneRow] = []
        self._layout: dict[str, int] = {}

    def on_mount(self) -> None:
        self._lay_out(self._widths(self._shown))

    def _widths(self, rows: list[SceneRow]) -> dict[str, int]:
        """Column widths for the room there is: the id first (as long as the longest id, up to 24), then the
        narration's excerpt (8 at least), and the visual only when there is room to spare."""
        room = self.scrollable_content_region.width - 1
        fixed = 2 + LENGTH_WIDTH + 2 + 2 * 5  # number, length, state, and one cell of padding each side of 5 columns
        longest = max((len(row.scene_id) for row in rows), default=8)
        id_width = max(MIN_ID_WIDTH, min(longest, MAX_ID_WIDTH, room - fixed - MIN_NARRATION_WIDTH))
        narration = room - fixed - id_width
        visual = VISUAL_WIDTH if narration >= VISUAL_WIDTH + 2 + 20 else 0
        if visual:
            narration -= visual + 2
        return {"id": id_width, "visual": visual, "narration": max(narration, 6)}

    def _lay_out(self, widths: dict[str, int]) -> None:
        self.clear(columns=True)
        self._layout = widths
        self.add_column("#", key="number", width=2)
        self.add_column("id", key="id", width=widths["id"])
        self.add_column("len", key="len", width=LENGTH_WIDTH)
        self.add_column("", key="state", width=2)
        if widths["visual"]:
            self.add_column("visual", key="visual", width=widths["visual"])
        self.add_column("narration", key="narration", width=widths["narration"])

    def on_resize(self) -> None:
        if self._layout and self._widths(self._shown) != self._layout:
            self.show(self._shown, self.selected_id(), relayout=True)

    def show(self, rows: list[SceneRow], selected_id: str | None, *, relayout: bool = False) -> None:
        """Show `rows`, with the cursor on `selected_id`; rows that did not change are left alone."""
        widths = self._widths(rows)
        if relayout or widths != self._layout:
            with self.prevent(DataTable.RowHighlighted):
                self._lay_out(widths)
            self._shown = []
        if [row.scene_id for row in rows] != [row.scene_id for row in self._shown]:
            with self.prevent(DataTable.RowHighlighted):
                self.clear()
                for row in rows:
                    self.add_row(*self._cells(row), key=row.scene_id)
        else:
            for old, row in zip(self._shown, rows):
                if old != row:
                    for column, value in zip(self.columns, self._cells(row)):
                        self.update_cell(row.scene_id, column, value)
        self._shown = list(rows)
        if selected_id is not None:
            index = next((i for i, row in enumerate(rows) if row.scene_id == selected_id), None)
            if index is not None and index != self.cursor_row:
                with self.prevent(DataTable.RowHighlighted):
                    self.move_cursor(row=index)

    def _cells(self, row: SceneRow) -> tuple:
        mark, style, _ = SPEECH_MARKS[row.speech]
        state = Text(mark, style=style)
        if row.has_problem:
            state.append("✗", style="bold red")
        seconds = Text(f"{row.seconds:.2f}" if row.exact else f"~{row.seconds:.1f}",
                       style="" if row.exact else "italic")
        visual = (excerpt(row.visual, self._layout["visual"]),) if self._layout["visual"] else ()
        return (str(row.number), short_id(row.scene_id, self._layout["id"]), seconds, state, *visual,
                excerpt(row.excerpt, self._layout["narration"]))

    def selected_id(self) -> str | None:
        if not self._shown or not 0 <= self.cursor_row < len(self._shown):
            return None
        return self._shown[self.cursor_row].scene_id

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Selected(self, str(event.row_key.value)))

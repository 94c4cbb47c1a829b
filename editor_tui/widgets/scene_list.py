"""The scene list: number, id, length (estimated ~ or exact), speech and problem state, visual, narration."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
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


ID_WIDTH = 10
VISUAL_WIDTH = 11
FIXED_COLUMNS_WIDTH = 2 + ID_WIDTH + 5 + 2 + 4 * 2  # number, id, length, state, with their padding


class SceneList(DataTable):
    """One row per scene, keyed by scene id; the cursor row is the selected scene."""

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

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        self.add_column("#", key="number", width=2)
        self.add_column("id", key="id", width=ID_WIDTH)
        self.add_column("len", key="len", width=5)
        self.add_column("", key="state", width=2)
        if self._with_visual:
            self.add_column("visual", key="visual", width=VISUAL_WIDTH)
        self.add_column("narration", key="narration", width=self._narration_width)

    @property
    def _with_visual(self) -> bool:
        """The visual column shows when there is room for it and some narration (the form names the visual too)."""
        return self.scrollable_content_region.width >= FIXED_COLUMNS_WIDTH + VISUAL_WIDTH + 2 + 20

    @property
    def _narration_width(self) -> int:
        """What is left of the width for the narration excerpt (each column has one cell of padding each side)."""
        taken = FIXED_COLUMNS_WIDTH + (VISUAL_WIDTH + 2 if self._with_visual else 0) + 2
        return max(6, self.scrollable_content_region.width - taken - 1)

    def on_resize(self) -> None:
        if self.columns and (self.columns[list(self.columns)[-1]].width != self._narration_width
                             or ("visual" in self.columns) != self._with_visual):
            rows, selected = self._shown, self.selected_id()
            self.clear(columns=True)
            self._add_columns()
            self._shown = []
            self.show(rows, selected)

    def show(self, rows: list[SceneRow], selected_id: str | None) -> None:
        """Show `rows`, with the cursor on `selected_id`; rows that did not change are left alone."""
        if [row.scene_id for row in rows] != [row.scene_id for row in self._shown]:
            with self.prevent(DataTable.RowHighlighted):
                self.clear()
                for row in rows:
                    self.add_row(*self._cells(row, self._narration_width), key=row.scene_id)
        else:
            for old, row in zip(self._shown, rows):
                if old != row:
                    for column, value in zip(self.columns, self._cells(row, self._narration_width)):
                        self.update_cell(row.scene_id, column, value)
        self._shown = list(rows)
        if selected_id is not None:
            index = next((i for i, row in enumerate(rows) if row.scene_id == selected_id), None)
            if index is not None and index != self.cursor_row:
                with self.prevent(DataTable.RowHighlighted):
                    self.move_cursor(row=index)

    def _cells(self, row: SceneRow, narration_width: int) -> tuple:
        mark, style, _ = SPEECH_MARKS[row.speech]
        state = Text(mark, style=style)
        if row.has_problem:
            state.append("✗", style="bold red")
        seconds = Text(f"{row.seconds:.2f}" if row.exact else f"~{row.seconds:.1f}",
                       style="" if row.exact else "italic")
        visual = (excerpt(row.visual, VISUAL_WIDTH),) if "visual" in self.columns else ()
        return (str(row.number), excerpt(row.scene_id, ID_WIDTH), seconds, state, *visual,
                excerpt(row.excerpt, narration_width))

    def selected_id(self) -> str | None:
        if not self._shown or not 0 <= self.cursor_row < len(self._shown):
            return None
        return self._shown[self.cursor_row].scene_id

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Selected(self, str(event.row_key.value)))

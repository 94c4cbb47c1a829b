"""Asks where to save the project instead (its file is read-only, or the user chose "save as")."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


def suggested_copy(path: Path) -> Path:
    """PROJECT-copy.json beside the project (PROJECT-copy-2.json, ... when taken)."""
    candidate = path.with_name(f"{path.stem}-copy{path.suffix}")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-copy-{number}{path.suffix}")
        number += 1
    return candidate


class SaveAsScreen(ModalScreen[Path | None]):
    """Dismisses with the path to save to, or None when the user cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save_as.cancel")]

    def __init__(self, reason: str, suggestion: Path) -> None:
        super().__init__()
        self.reason = reason
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide") as dialog:
            dialog.border_title = "Save as"
            yield Label(self.reason, classes="question")
            yield Label("Save to")
            yield Input(str(self.suggestion), id="save-as-path")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save-as-path", Input).focus()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted, "#save-as-path")
    def save(self) -> None:
        value = self.query_one("#save-as-path", Input).value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

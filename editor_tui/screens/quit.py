"""Quitting with unsaved changes: save and quit, quit without saving, or stay."""

from __future__ import annotations

from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

QuitChoice = Literal["save", "discard", "stay"]


class QuitScreen(ModalScreen[QuitChoice]):
    """Asks what to do with unsaved changes; dismisses with "save", "discard" or "stay"."""

    BINDINGS = [
        Binding("s", "answer('save')", "Save and quit", id="quit.save"),
        Binding("d", "answer('discard')", "Quit without saving", id="quit.discard"),
        Binding("n,escape", "answer('stay')", "Stay", id="quit.stay"),
    ]

    def __init__(self, file_name: str, pending: list[str] | None = None) -> None:
        super().__init__()
        self.file_name = file_name
        self.pending = pending or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Unsaved changes"
            question = f"{self.file_name} has unsaved changes."
            if self.pending:
                question += f"\nNot valid yet, so not saved either way: {', '.join(self.pending)}."
            yield Label(question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Save and quit (s)", id="save", variant="primary", compact=True)
                yield Button("Quit without saving (d)", id="discard", variant="warning", compact=True)
                yield Button("Stay (esc)", id="stay", compact=True)

    def on_mount(self) -> None:
        self.query_one("#save", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)  # type: ignore[arg-type]

    def action_answer(self, answer: QuitChoice) -> None:
        self.dismiss(answer)

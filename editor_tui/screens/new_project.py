"""Asks what a new project looks like: its name, frame shape and voice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from reelforge.model.output import AspectRatio

ASPECT_NAMES = {"9:16": "9:16 vertical short", "16:9": "16:9 landscape", "1:1": "1:1 square", "4:5": "4:5 portrait"}


@dataclass(frozen=True)
class NewProject:
    name: str
    aspect_ratio: str
    voice_id: str


class NewProjectScreen(ModalScreen[NewProject | None]):
    """Dismisses with the choices, or None when the user gives up (the editor then closes)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new_project.cancel")]

    def __init__(self, file_name: str, default_name: str, voices: list[str]) -> None:
        super().__init__()
        self.file_name = file_name
        self.default_name = default_name
        self.voices = voices or ["en_US-joe-medium"]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = f"New project: {self.file_name}"
            yield Label("Name")
            yield Input(self.default_name, id="name")
            yield Label("Aspect ratio")
            yield Select([(ASPECT_NAMES[a], a) for a in get_args(AspectRatio)], value="9:16", allow_blank=False,
                         id="aspect")
            yield Label("Voice")
            yield Select([(voice, voice) for voice in self.voices], value=self.voices[0], allow_blank=False, id="voice")
            with Horizontal(classes="buttons"):
                yield Button("Create", id="create", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#create")
    @on(Input.Submitted, "#name")
    def create(self) -> None:
        name = self.query_one("#name", Input).value.strip() or self.default_name
        self.dismiss(NewProject(name, str(self.query_one("#aspect", Select).value),
                                str(self.query_one("#voice", Select).value)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

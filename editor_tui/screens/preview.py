"""A still frame of the selected scene, drawn in the terminal; `g` shows it with kitty/sixel graphics where available."""

from __future__ import annotations

import sys
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from editor_tui.messages import PreviewReady
from editor_tui.widgets.preview import HalfBlockImage, graphics_protocol, kitty_sequence, png_bytes, sixel_sequence


class PreviewScreen(ModalScreen[None]):
    """Shows 'composing…' until PreviewReady arrives, then the frame."""

    BINDINGS = [
        Binding("escape,q,p", "dismiss_preview", "Close", id="preview.close"),
        Binding("g", "graphics", "Full resolution", id="preview.graphics"),
    ]

    def __init__(self, scene_id: str, at_seconds: float) -> None:
        super().__init__()
        self.scene_id = scene_id
        self.at_seconds = at_seconds
        self.protocol = graphics_protocol()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog preview") as dialog:
            dialog.border_title = f"Preview: {self.scene_id} at {self.at_seconds:.1f} s"
            yield HalfBlockImage(id="preview-image")
            hint = "escape closes" + ("" if self.protocol == "halfblock" else f" · g shows it with {self.protocol} graphics")
            yield Label("composing the frame…", id="preview-status")
            yield Label(hint, classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "graphics":
            return self.protocol != "halfblock" and self.query_one(HalfBlockImage).image is not None
        return True

    def on_preview_ready(self, message: PreviewReady) -> None:
        status = self.query_one("#preview-status", Label)
        if message.png is None:
            status.update(f"cannot preview: {message.error}")
            return
        self.query_one(HalfBlockImage).show(message.png)
        status.update(str(message.png.name))
        status.display = False
        self.refresh_bindings()

    def action_dismiss_preview(self) -> None:
        self.dismiss(None)

    def action_graphics(self) -> None:
        image = self.query_one(HalfBlockImage).image
        if image is None:
            return
        with self.app.suspend():
            sys.stdout.write("\x1b[2J\x1b[H")
            if self.protocol == "kitty":
                sys.stdout.write(kitty_sequence(png_bytes(image), columns=80, rows=30))
            else:
                sys.stdout.write(sixel_sequence(image))
            sys.stdout.write("\r\nPress enter to go back to the editor.")
            sys.stdout.flush()
            sys.stdin.readline()


def preview_path(folder: Path, scene_id: str) -> Path:
    return folder / f"preview-{scene_id}.png"

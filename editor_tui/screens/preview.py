"""A still frame of the selected scene, drawn in the terminal with half blocks; `g` shows it at full resolution with
kitty or sixel graphics where the terminal speaks them, and elsewhere (tmux, most terminals) a larger half-block view
filling the screen, saying why."""

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
        Binding("g", "graphics", "Larger", id="preview.graphics"),
    ]

    def __init__(self, scene_id: str, at_seconds: float) -> None:
        super().__init__()
        self.scene_id = scene_id
        self.at_seconds = at_seconds
        self.protocol = graphics_protocol()
        self.png: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog preview") as dialog:
            dialog.border_title = f"Preview: {self.scene_id} at {self.at_seconds:.1f} s"
            yield HalfBlockImage(id="preview-image")
            yield Label("composing the frame…", id="preview-status")
            yield Label(self._hint(), classes="hint", id="preview-hint")

    def _hint(self) -> str:
        if self.protocol != "halfblock":
            return f"escape closes · g shows it at full resolution ({self.protocol} graphics)"
        return "escape closes · g: a larger view (this terminal shows no pixels: half blocks, 2 pixels a cell)"

    def why_no_pixels(self) -> str:
        """Why `g` shows half blocks rather than the frame's pixels here."""
        if self.protocol != "halfblock":
            return ""
        import os

        if os.environ.get("TMUX") or os.environ.get("TERM", "").startswith(("screen", "tmux")):
            return "tmux passes no image protocol (kitty or sixel) through"
        return "this terminal speaks no image protocol reelforge knows (kitty or sixel)"

    def on_preview_ready(self, message: PreviewReady) -> None:
        status = self.query_one("#preview-status", Label)
        if message.png is None:
            status.update(f"cannot preview: {message.error}")
            return
        self.png = message.png
        self.query_one(HalfBlockImage).show(message.png)
        status.update(str(message.png.name))
        status.display = False

    def action_dismiss_preview(self) -> None:
        self.dismiss(None)

    def action_graphics(self) -> None:
        image = self.query_one(HalfBlockImage).image
        if image is None:
            self.notify("the frame is still being composed", timeout=2)
            return
        if self.protocol == "halfblock":
            dialog = self.query_one(".dialog.preview")
            large = not dialog.has_class("large")
            dialog.set_class(large, "large")
            if large:
                self.notify(f"a larger half-block view: {self.why_no_pixels()}. The frame is {self.png}",
                            title="Preview", timeout=6)
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

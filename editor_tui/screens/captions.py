"""Caption settings: on or off, style, position, words per line."""

from __future__ import annotations

from typing import Any, get_args

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select

from reelforge.model import Captions
from reelforge.model.captions import CaptionPosition, CaptionStyle

STYLE_NAMES = {"bold_pop": "bold pop (3 words, big)", "minimal_white": "minimal white (4 words)",
               "karaoke_neon": "karaoke neon (2 words, highlighted)"}


def captions_changes(enabled: bool, style: str, position: str, words: str) -> dict[str, Any]:
    """The caption settings as set_captions takes them; ValueError when words per line is not 1 to 12."""
    words_per_line = None
    if words.strip():
        try:
            words_per_line = int(words)
        except ValueError:
            raise ValueError(f"words per line: {words!r} is not a whole number") from None
        if not 1 <= words_per_line <= 12:
            raise ValueError(f"words per line: {words_per_line} is outside 1 to 12")
    return {"enabled": enabled, "style": style, "position": position, "words_per_line": words_per_line}


class CaptionsScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with set_captions changes, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="captions.cancel")]

    def __init__(self, current: Captions) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Captions"
            yield Checkbox("Show captions", self.current.enabled, id="captions-enabled", compact=True,
                           classes="field-check")
            yield Label("Style")
            yield Select([(STYLE_NAMES[s], s) for s in get_args(CaptionStyle)], value=self.current.style,
                         allow_blank=False, id="captions-style")
            yield Label("Position")
            yield Select([(p, p) for p in get_args(CaptionPosition)], value=self.current.position,
                         allow_blank=False, id="captions-position")
            with Horizontal(classes="field-row"):
                yield Label("Words per line", classes="row-label")
                yield Input(str(self.current.words_per_line or ""), placeholder="style's", id="captions-words",
                            compact=True)
            yield Label("", id="captions-error")
            with Horizontal(classes="buttons"):
                yield Button("Use it", id="use", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#use")
    @on(Input.Submitted, "#captions-words")
    def use(self) -> None:
        try:
            changes = captions_changes(self.query_one("#captions-enabled", Checkbox).value,
                                       str(self.query_one("#captions-style", Select).value),
                                       str(self.query_one("#captions-position", Select).value),
                                       self.query_one("#captions-words", Input).value)
        except ValueError as exc:
            self.query_one("#captions-error", Label).update(str(exc))
            return
        self.dismiss(changes)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

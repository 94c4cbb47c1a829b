"""Picks what a scene shows: a file from the assets folder (or one imported into it), a color, a gradient or a card."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from pydantic import TypeAdapter, ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, TabbedContent, TabPane
from textual.widgets.option_list import Option

from reelforge.errors import ReelforgeError
from reelforge.model import Visual

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".m4v", ".avi"}
CARD_FIELDS = {
    "title": ("Title", "Subtitle (optional)"),
    "list_item": ("Headline", "Body (optional)"),
    "quiz": ("Question", "Choices, separated by | (the first is right)"),
    "stat": ("Number", "Label (optional)"),
    "quote": ("Quote", "Author (optional)"),
    "end": ("Closing line", "Call to action (optional)"),
}


class PickError(ValueError):
    """The picker's fields do not make a visual; the message says which field and why."""


@lru_cache(maxsize=1)
def _visual_adapter() -> TypeAdapter:
    return TypeAdapter(Visual)


def visual_from_wire(data: dict[str, Any]):
    try:
        return _visual_adapter().validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "visual"
        raise PickError(f"{where}: {first['msg']}") from None


def visual_for_file(upload_name: str):
    """An image or video visual for a file in the assets folder, by its suffix."""
    suffix = Path(upload_name).suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return visual_from_wire({"type": "video", "source": {"uploadName": upload_name}})
    if suffix in IMAGE_SUFFIXES:
        return visual_from_wire({"type": "image", "source": {"uploadName": upload_name}})
    raise PickError(f"{upload_name}: not an image or a video ({', '.join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))})")


def gradient_visual(colors: str, angle: str):
    parts = [part for part in re.split(r"[\s,]+", colors.strip()) if part]
    try:
        degrees = float(angle or "180")
    except ValueError:
        raise PickError(f"angle: {angle!r} is not a number of degrees") from None
    return visual_from_wire({"type": "gradient", "colors": parts, "angle": degrees})


def card_visual(kind: str, first: str, second: str, number: int = 1):
    """A card visual from the picker's two text fields, read as CARD_FIELDS says for `kind`."""
    first, second = first.strip(), second.strip()
    if kind == "title":
        card = {"title": first, "subtitle": second or None}
    elif kind == "list_item":
        card = {"number": number, "title": first, "body": second or None}
    elif kind == "quiz":
        choices = [choice.strip() for choice in second.split("|") if choice.strip()]
        card = {"question": first, "choices": choices, "answer": 0}
    elif kind == "stat":
        try:
            value = float(first)
        except ValueError:
            raise PickError(f"number: {first!r} is not a number") from None
        card = {"value": value, "label": second or None}
    elif kind == "quote":
        card = {"quote": first, "author": second or None}
    else:
        card = {"title": first, "callToAction": second or None}
    card = {key: value for key, value in card.items() if value is not None}
    return visual_from_wire({"type": "card", "card": {"card": kind, **card}})


def media_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    suffixes = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes
                  and not p.name.startswith("."))


class VisualPicker(ModalScreen["Any | None"]):
    """Dismisses with a visual model (VideoVisual, ImageVisual, ColorVisual, GradientVisual, CardVisual) or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="visual_picker.cancel")]

    def __init__(self, assets: Path, import_file: Callable[[Path], str], *, scene_number: int = 1,
                 current: Any = None) -> None:
        super().__init__()
        self.assets = assets
        self.import_file = import_file
        self.scene_number = scene_number
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide") as dialog:
            dialog.border_title = "Pick a visual"
            with TabbedContent(id="kinds"):
                with TabPane("Files", id="files"):
                    yield OptionList(id="file-list")
                    yield Input(placeholder="Import a file: its path, then enter (copied into the assets folder)",
                                id="import-path")
                with TabPane("Color", id="color"):
                    yield Label("Color (#rgb or #rrggbb)")
                    yield Input(self._current_color(), id="color-value")
                with TabPane("Gradient", id="gradient"):
                    yield Label("Colors, 2 to 4 (#1363df #06283d)")
                    yield Input("#1363df #06283d", id="gradient-colors")
                    yield Label("Angle in degrees (0 up, 90 right, 180 down)")
                    yield Input("180", id="gradient-angle")
                with TabPane("Card", id="card"):
                    yield Select([(kind.replace("_", " "), kind) for kind in CARD_FIELDS], value="title",
                                 allow_blank=False, id="card-kind")
                    yield Label(CARD_FIELDS["title"][0], id="card-first-label")
                    yield Input(id="card-first")
                    yield Label(CARD_FIELDS["title"][1], id="card-second-label")
                    yield Input(id="card-second")
            yield Label("", id="pick-error")
            with Horizontal(classes="buttons"):
                yield Button("Use it", id="use", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._fill_files()

    def _current_color(self) -> str:
        return getattr(self.current, "color", None) or "#101828"

    def _fill_files(self, highlight: str | None = None) -> None:
        files = media_files(self.assets)
        options = self.query_one("#file-list", OptionList)
        options.clear_options()
        if files:
            options.add_options([Option(name, id=name) for name in files])
            if highlight in files:
                options.highlighted = files.index(highlight)
        else:
            options.add_option(Option(f"(no images or videos in {self.assets.name}/ yet)", disabled=True))

    def _error(self, message: str) -> None:
        self.query_one("#pick-error", Label).update(message)

    # --- choosing -------------------------------------------------------------------------------------

    def chosen(self):
        """The visual the active tab describes; PickError when its fields do not make one."""
        tab = self.query_one("#kinds", TabbedContent).active
        if tab == "files":
            options = self.query_one("#file-list", OptionList)
            if options.highlighted is None or options.get_option_at_index(options.highlighted).id is None:
                raise PickError("pick a file from the list, or import one")
            return visual_for_file(str(options.get_option_at_index(options.highlighted).id))
        if tab == "color":
            return visual_from_wire({"type": "color", "color": self.query_one("#color-value", Input).value.strip()})
        if tab == "gradient":
            return gradient_visual(self.query_one("#gradient-colors", Input).value,
                                   self.query_one("#gradient-angle", Input).value)
        return card_visual(str(self.query_one("#card-kind", Select).value), self.query_one("#card-first", Input).value,
                           self.query_one("#card-second", Input).value, number=self.scene_number)

    @on(Button.Pressed, "#use")
    @on(OptionList.OptionSelected, "#file-list")
    @on(Input.Submitted, "#color-value,#gradient-colors,#gradient-angle,#card-first,#card-second")
    def use(self) -> None:
        try:
            self.dismiss(self.chosen())
        except PickError as exc:
            self._error(str(exc))

    @on(Input.Submitted, "#import-path")
    def import_path(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            return
        try:
            name = self.import_file(Path(event.value.strip()))
            visual_for_file(name)
        except (ReelforgeError, PickError, OSError) as exc:
            self._error(str(exc))
            return
        event.input.value = ""
        self._fill_files(highlight=name)
        self._error(f"imported {name} into {self.assets.name}/")
        self.query_one("#file-list", OptionList).focus()

    @on(Select.Changed, "#card-kind")
    def card_kind(self, event: Select.Changed) -> None:
        first, second = CARD_FIELDS[str(event.value)]
        self.query_one("#card-first-label", Label).update(first)
        self.query_one("#card-second-label", Label).update(second)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

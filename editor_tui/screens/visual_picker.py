"""Picks what a scene shows: a file from the assets folder (or one imported into it), a color, a gradient or a card
(any registered card, built-in or plug-in, through a form built from its pydantic model)."""

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
from textual.widgets import Button, ContentSwitcher, Input, Label, OptionList, Select, TabbedContent, TabPane
from textual.widgets.option_list import Option

from editor_tui.card_fields import PickError
from editor_tui.widgets.card_form import CardForm
from reelforge.cards.registry import CardSpec, card_specs
from reelforge.errors import ReelforgeError
from reelforge.model import Visual

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".m4v", ".avi"}


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


def card_summary(spec: CardSpec) -> str:
    """The first line of the card model's docstring, and where a plug-in card comes from."""
    doc = (spec.model.__doc__ or "").strip().splitlines()
    summary = doc[0] if doc else ""
    return summary if spec.source == "builtin" else f"{summary} ({spec.source})".strip()


def media_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    suffixes = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes
                  and not p.name.startswith("."))


class VisualPicker(ModalScreen["Any | None"]):
    """Dismisses with a visual model (VideoVisual, ImageVisual, ColorVisual, GradientVisual, CardVisual) or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="visual_picker.cancel")]
    DEFAULT_CSS = """
    VisualPicker #card-kind {
        width: 32;
    }
    VisualPicker #card-summary {
        color: $text-muted;
        width: 1fr;
    }
    """

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
                    yield from self._compose_cards()
            yield Label("", id="pick-error")
            with Horizontal(classes="buttons"):
                yield Button("Use it", id="use", variant="primary")
                yield Button("Cancel", id="cancel")

    def _compose_cards(self) -> ComposeResult:
        """A select of every registered card and, under it, the form of the selected one."""
        specs = card_specs()
        first = specs[0].name
        prefill = {"list_item": {"number": str(self.scene_number)}, "quiz": {"answer": "0"}}
        yield Select([(spec.name.replace("_", " "), spec.name) for spec in specs], value=first, allow_blank=False,
                     id="card-kind", compact=True)
        yield Label(card_summary(specs[0]), id="card-summary")
        with ContentSwitcher(initial=f"card-form-{first}", id="card-forms"):
            for spec in specs:
                yield CardForm(spec, prefill.get(spec.name), id=f"card-form-{spec.name}")

    def on_mount(self) -> None:
        self._fill_files()
        self._load_current_card()

    def _load_current_card(self) -> None:
        """When the scene already shows a card, its kind is selected and its form filled."""
        card = getattr(self.current, "card", None)
        kind = getattr(card, "card", None)
        if getattr(self.current, "type", None) != "card" or not self.query(f"#card-form-{kind}"):
            return
        self.query_one(f"#card-form-{kind}", CardForm).load_card(card)
        self.query_one("#card-kind", Select).value = kind

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
        return self._card_visual()

    def _card_visual(self):
        kind = str(self.query_one("#card-kind", Select).value)
        visual: dict[str, Any] = {"type": "card", "card": self.query_one(f"#card-form-{kind}", CardForm).build_card()}
        background = getattr(self.current, "background", None) if getattr(self.current, "type", None) == "card" else None
        if background is not None:
            visual["background"] = background  # picking another card keeps the scene's card background
        return visual_from_wire(visual)

    @on(Button.Pressed, "#use")
    @on(OptionList.OptionSelected, "#file-list")
    @on(Input.Submitted, "#color-value,#gradient-colors,#gradient-angle,.card-input")
    def use(self) -> None:
        try:
            self.dismiss(self.chosen())
        except PickError as exc:
            self._error(str(exc))
            if exc.widget_id is not None:
                self.query_one(f"#{exc.widget_id}").focus()

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
        form = self.query_one(f"#card-form-{event.value}", CardForm)
        self.query_one("#card-forms", ContentSwitcher).current = form.id
        self.query_one("#card-summary", Label).update(card_summary(form.spec))
        self._error("")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

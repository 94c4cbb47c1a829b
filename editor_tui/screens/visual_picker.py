"""Picks what a scene shows: a file from the assets folder (or one imported into it), a color, a gradient or a card
(any registered card, built-in or plug-in, through a form built from its pydantic model)."""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Union

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, ContentSwitcher, Input, Label, OptionList, Select, TabbedContent, TabPane
from textual.widgets.option_list import Option

from reelforge.cards.registry import CardSpec, card_specs
from reelforge.errors import ReelforgeError
from reelforge.model import Visual

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".m4v", ".avi"}
LIST_SEPARATOR = "|"


class PickError(ValueError):
    """The picker's fields do not make a visual; the message says which field and why, `widget_id` where it is."""

    def __init__(self, message: str, widget_id: str | None = None) -> None:
        super().__init__(message)
        self.widget_id = widget_id


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


# --- cards: one form per registered card, built from its pydantic model ----------------------------------

FieldKind = Literal["text", "int", "float", "bool", "choice", "list", "json"]
PLACEHOLDERS = {"text": "", "int": "a whole number", "float": "a number", "choice": "",
                "list": f"values separated by {LIST_SEPARATOR}", "json": "JSON, or plain text"}


@dataclass(frozen=True)
class CardField:
    """One field of a card model as the form shows and reads it: `key` is its name on the wire (the alias)."""

    name: str
    key: str
    description: str
    kind: FieldKind
    required: bool
    default: Any = None
    choices: tuple = ()
    item_kind: FieldKind = "text"


def _unwrap(annotation: Any) -> Any:
    """The type without `Annotated` constraints and without `| None`."""
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) in (Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _kind(annotation: Any) -> FieldKind:
    kinds: dict[Any, FieldKind] = {bool: "bool", int: "int", float: "float", str: "text"}
    if annotation in kinds:
        return kinds[annotation]
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice"
    if origin in (list, tuple, set, frozenset):
        return "list"
    return "json"


def card_fields(model: type[BaseModel]) -> list[CardField]:
    """The fields a card's form asks for: every field of its model but the `card` name."""
    fields = []
    for name, info in model.model_fields.items():
        if name == "card":
            continue
        annotation = _unwrap(info.annotation)
        kind = _kind(annotation)
        item_kind: FieldKind = "text"
        if kind == "list":
            items = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
            item_kind = _kind(_unwrap(items[0])) if items else "text"
            item_kind = item_kind if item_kind in ("text", "int", "float") else "json"
        default = None if info.default is PydanticUndefined else info.default
        choices = typing.get_args(annotation) if kind == "choice" else ()
        fields.append(CardField(name, info.alias or name, info.description or "", kind, info.is_required(),
                                default, choices, item_kind))
    return fields


def parse_value(text: str, kind: FieldKind, key: str) -> Any:
    """A field's typed value from its text; PickError naming the field when it is not one."""
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise PickError(f"{key}: {text!r} is not a whole number") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise PickError(f"{key}: {text!r} is not a number") from None
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def shown_value(value: Any, kind: FieldKind, item_kind: FieldKind = "text") -> str:
    """A field's value as the form's text (what `parse_value` reads back)."""
    if value is None:
        return ""
    if kind == "list":
        return f" {LIST_SEPARATOR} ".join(shown_value(item, item_kind) for item in value)
    if kind == "json" and not isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def validation_message(error: ValidationError, fallback: str) -> tuple[str, str | None]:
    """The first error as "where: what", and the field key it is about (None for the card as a whole)."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{where or fallback}: {message}", (str(first["loc"][0]) if first["loc"] else None)


class CardForm(VerticalScroll, can_focus=False):
    """The form of one card kind: `load_card` fills it from a card, `build_card` reads it back (wire form).

    Each field is labelled with its wire name and description; text fields are inputs (numbers parsed, lists
    split at `|`), booleans checkboxes, Literal fields selects. Empty optional fields are left out."""

    DEFAULT_CSS = """
    CardForm {
        height: auto;
        max-height: 12;
        margin-top: 1;
        scrollbar-size-vertical: 1;
    }
    CardForm .card-field-label {
        width: 1fr;
    }
    CardForm Input, CardForm Select {
        width: 1fr;
        background: $boost;
    }
    """

    def __init__(self, spec: CardSpec, prefill: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.fields = card_fields(spec.model)
        self.prefill = prefill or {}

    def widget_id(self, field: CardField) -> str:
        name = field.name if field.name.isascii() else field.name.encode().hex()  # Textual ids are ASCII
        return f"card-{self.spec.name}-{name}"

    def compose(self) -> ComposeResult:
        for field in self.fields:
            label = Content.from_markup("[b]$key[/b]  [$foreground-muted]$description", key=field.key,
                                        description=field.description)
            if field.kind == "bool":
                yield Checkbox(label, bool(field.default), id=self.widget_id(field), compact=True)
                continue
            yield Label(label, classes="card-field-label")
            if field.kind == "choice":
                preset = field.default in field.choices
                yield Select([(str(choice), choice) for choice in field.choices], prompt="choose one",
                             value=field.default if preset else Select.NULL,
                             allow_blank=not preset, id=self.widget_id(field), compact=True)
                continue
            yield Input(self.prefill.get(field.name, ""), placeholder=self._placeholder(field),
                        id=self.widget_id(field), classes="card-input", compact=True)

    @staticmethod
    def _placeholder(field: CardField) -> str:
        """What to type ("a whole number"), and whether it may stay empty ("optional", "default 3")."""
        parts = [PLACEHOLDERS[field.kind]]
        if not field.required:
            default = shown_value(field.default, field.kind, field.item_kind)
            parts.append(f"default {default}" if default else "optional")
        return ", ".join(part for part in parts if part)

    # --- the model ↔ UI mapping ------------------------------------------------------------------------

    def load_card(self, card: BaseModel) -> None:
        """Show an existing card's values; the fields it leaves unset stay empty (at their defaults)."""
        for field in self.fields:
            if field.name not in card.model_fields_set:
                continue
            value = getattr(card, field.name)
            widget = self.query_one(f"#{self.widget_id(field)}")
            if isinstance(widget, Checkbox):
                widget.value = bool(value)
            elif isinstance(widget, Select):
                widget.value = value if value in field.choices else Select.NULL
            elif isinstance(widget, Input):
                widget.value = shown_value(value, field.kind, field.item_kind)

    def build_card(self) -> dict[str, Any]:
        """The card in wire form, checked by its model; PickError (with the field's widget) when it is not valid."""
        data: dict[str, Any] = {"card": self.spec.name}
        for field in self.fields:
            try:
                value = self._read(field)
            except PickError as error:
                raise PickError(str(error), self.widget_id(field)) from None
            if value is not PydanticUndefined:
                data[field.key] = value
        try:
            self.spec.model.model_validate(data)
        except ValidationError as error:
            message, key = validation_message(error, self.spec.name)
            field = next((field for field in self.fields if key in (field.key, field.name)), None)
            raise PickError(message, self.widget_id(field) if field else None) from None
        return data

    def _read(self, field: CardField) -> Any:
        """A field's value, or PydanticUndefined to leave it out (empty, or an optional choice left at its default)."""
        widget = self.query_one(f"#{self.widget_id(field)}")
        if isinstance(widget, Select) and widget.is_blank():
            return PydanticUndefined
        if isinstance(widget, (Checkbox, Select)):
            default = bool(field.default) if field.kind == "bool" else field.default
            return PydanticUndefined if not field.required and widget.value == default else widget.value
        text = widget.value.strip()
        if not text:
            return PydanticUndefined
        if field.kind == "list":
            items = [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]
            return [parse_value(item, field.item_kind, field.key) for item in items]
        return parse_value(text, field.kind, field.key)


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

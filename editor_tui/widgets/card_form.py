"""The form of one card kind, built from its pydantic model: an input, checkbox or select per field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Checkbox, Input, Label, Select

from editor_tui.card_fields import (
    PLACEHOLDERS,
    CardField,
    PickError,
    RawValue,
    card_fields,
    card_wire,
    raw_values,
    shown_value,
)
from reelforge.cards.registry import CardSpec


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

    def __init__(self, spec: CardSpec, prefill: dict[str, str] | None = None, *,
                 values: dict[str, RawValue] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.fields = card_fields(spec.model)
        self.prefill = prefill or {}
        self.initial_values = values  # shown once composed (the scene form mounts a card's form with its values)

    def on_mount(self) -> None:
        if self.initial_values is not None:
            with self.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
                self.load_values(self.initial_values)

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

    def load_card(self, card: BaseModel | None) -> None:
        """Show a card's values (every field empty, at its default, for None); fields it leaves unset stay empty."""
        self.load_values(raw_values(self.spec, card))

    def build_card(self) -> dict[str, Any]:
        """The card in wire form, checked by its model; PickError (with the field's widget) when it is not valid."""
        try:
            return card_wire(self.spec, self.read_values())
        except PickError as error:
            field = next((field for field in self.fields if field.name == error.field), None)
            raise PickError(str(error), self.widget_id(field) if field else None, field=error.field) from None

    def load_values(self, values: dict[str, RawValue]) -> None:
        """Set each field's widget to its raw value (the text, checkbox state or choice)."""
        for field in self.fields:
            value = values.get(field.name, field.empty())
            widget = self.query_one(f"#{self.widget_id(field)}")
            if isinstance(widget, Checkbox):
                widget.value = bool(value)
            elif isinstance(widget, Select):
                widget.value = value if value in field.choices else Select.NULL
            elif isinstance(widget, Input):
                widget.value = str(value or "")

    def read_values(self) -> dict[str, RawValue]:
        """Each field's raw value, by field name."""
        values: dict[str, RawValue] = {}
        for field in self.fields:
            widget = self.query_one(f"#{self.widget_id(field)}")
            if isinstance(widget, Select):
                values[field.name] = None if widget.is_blank() else widget.value
            else:
                values[field.name] = widget.value
        return values

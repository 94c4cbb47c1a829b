"""A card's fields as a form shows them, without Textual: each field of a card model as typed text (or a checkbox or a
choice), read back into the card's wire form and checked by its model."""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from reelforge.cards.registry import CardSpec

LIST_SEPARATOR = "|"

FieldKind = Literal["text", "int", "float", "bool", "choice", "list", "json"]
PLACEHOLDERS = {"text": "", "int": "a whole number", "float": "a number", "choice": "",
                "list": f"values separated by {LIST_SEPARATOR}", "json": "JSON, or plain text"}

RawValue = str | bool | None
"""What a card field's widget holds: the text typed, a checkbox's state, or a choice (None: none chosen)."""


class PickError(ValueError):
    """Fields that do not make a visual or a card; the message says which field and why, `field` names it (the
    field's Python name) when known, `widget_id` where a dialog shows it."""

    def __init__(self, message: str, widget_id: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.widget_id = widget_id
        self.field = field


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

    def empty(self) -> RawValue:
        """What the field's widget holds before anything is typed: its default for a checkbox or choice, else ""."""
        if self.kind == "bool":
            return bool(self.default)
        if self.kind == "choice":
            return self.default if self.default in self.choices else None
        return ""


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


def raw_values(spec: CardSpec, card: BaseModel | None = None) -> dict[str, RawValue]:
    """What each field's widget shows for `card` (every field empty, at its default, without one): by field name.
    Fields the card leaves unset stay empty."""
    values: dict[str, RawValue] = {}
    for field in card_fields(spec.model):
        value = field.empty()
        if card is not None and field.name in card.model_fields_set:
            current = getattr(card, field.name)
            if field.kind == "bool":
                value = bool(current)
            elif field.kind == "choice":
                value = current if current in field.choices else None
            else:
                value = shown_value(current, field.kind, field.item_kind)
        values[field.name] = value
    return values


def card_wire(spec: CardSpec, values: Mapping[str, RawValue]) -> dict[str, Any]:
    """The card in wire form from its fields' raw values, checked by its model; PickError (with `field`) when not
    valid. Empty optional fields, and optional checkboxes and choices left at their default, are left out."""
    data: dict[str, Any] = {"card": spec.name}
    fields = card_fields(spec.model)
    for field in fields:
        raw = values.get(field.name, field.empty())
        try:
            value = _read(field, raw)
        except PickError as error:
            raise PickError(str(error), field=field.name) from None
        if value is not PydanticUndefined:
            data[field.key] = value
    try:
        spec.model.model_validate(data)
    except ValidationError as error:
        message, key = validation_message(error, spec.name)
        field = next((field for field in fields if key in (field.key, field.name)), None)
        raise PickError(message, field=field.name if field else None) from None
    return data


def _read(field: CardField, raw: RawValue) -> Any:
    """A field's value from its raw value, or PydanticUndefined to leave it out."""
    if field.kind in ("bool", "choice"):
        if raw is None:
            return PydanticUndefined
        default = bool(field.default) if field.kind == "bool" else field.default
        return PydanticUndefined if not field.required and raw == default else raw
    text = str(raw or "").strip()
    if not text:
        return PydanticUndefined
    if field.kind == "list":
        items = [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]
        return [parse_value(item, field.item_kind, field.key) for item in items]
    return parse_value(text, field.kind, field.key)

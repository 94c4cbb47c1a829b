"""JSON paths such as `blocks[0].source.uploadName`, built from pydantic error locations by walking the model types."""

from __future__ import annotations

import json
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Iterable, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag
from pydantic.fields import FieldInfo

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_KEY_SHOWN = 60


def format_path(parts: Iterable[str | int]) -> str:
    """`blocks[0].source.uploadName`; keys that are not plain names are quoted: `scenes[0]["my key"]`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            shown = part if len(part) <= _MAX_KEY_SHOWN else part[:_MAX_KEY_SHOWN] + "…"
            out += f"[{json.dumps(shown)}]"
    return out


@dataclass(frozen=True)
class Location:
    """Where a pydantic error location points in the document."""

    parts: list[str | int]
    """The places in the data: keys and indexes, without union tags and member labels."""
    owner: type[BaseModel] | None
    """The model whose key the last part is (for an unknown key: the model that does not know it)."""
    node: Any = None
    """The type at the end of the walk (for a union whose tag is missing: the union)."""
    discriminator: Any = None
    """The discriminator of `node` when it is a tagged union."""

    def tags(self) -> list[str]:
        """The tags `node` accepts, when it is a union tagged by a key such as `type`."""
        members = _union_members(self.node) or []
        if not isinstance(self.discriminator, str):
            return []
        found: list[str] = []
        for member in members:
            model, _ = _unwrap(member)
            field = field_by_key(model, self.discriminator) if isinstance(model, type) and issubclass(model, BaseModel) else None
            if field is not None and get_origin(field.annotation) is Literal:
                found += [str(arg) for arg in get_args(field.annotation)]
        return found


def locate(root: Any, loc: tuple) -> Location:
    """Follow `loc` through the type `root`, keeping the parts that name places in the data.

    pydantic puts labels in `loc` that are not in the data: the tag of a discriminated union
    (`blocks, 0, "text", "duration"`) and the member of a plain union (`duration, "float"`).
    Knowing the types tells them apart from keys, even where a key and a tag are spelled alike
    (`visual: {"type": "card", "card": {...}}` errs at `visual, "card", "card", ...`).
    """
    parts: list[str | int] = []
    owner: type[BaseModel] | None = None
    node, discriminator = _unwrap(root)
    for part in loc:
        members = _union_members(node)
        if members is not None:
            chosen = _member_for_label(members, part, discriminator)
            if chosen is None:
                break  # a label of a scalar member ("float", "literal['auto']"): no more places in the data
            node, discriminator = _unwrap(chosen)
            continue
        if isinstance(part, int):
            parts.append(part)
            node, discriminator = _unwrap(get_args(node)[0]) if get_origin(node) is list and get_args(node) else (None, None)
            continue
        parts.append(part)
        if isinstance(node, type) and issubclass(node, BaseModel):
            owner = node
            field = field_by_key(node, part)
            if field is None:
                node, discriminator = None, None
                break  # an unknown key: the end of the road
            node, discriminator = _unwrap(field.annotation)
            discriminator = field.discriminator or discriminator
            continue
        node, discriminator = None, None  # a scalar: what follows labels its kind
        break
    return Location(parts, owner, node, discriminator)


def field_by_key(model: type[BaseModel], key: str) -> FieldInfo | None:
    """The field a wire key (the alias) or a Python name refers to."""
    for name, field in model.model_fields.items():
        if key == (field.alias or name) or key == name:
            return field
    return None


def wire_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts on the wire (its field aliases)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _unwrap(annotation: Any) -> tuple[Any, Any]:
    """Strip `Annotated` and `Optional`; return the type and a union discriminator found on the way."""
    discriminator = None
    while True:
        current = getattr(annotation, "current_type", None)
        if isinstance(annotation, type) and callable(current):  # a type decided at validation time (cards)
            annotation = current()
            continue
        if get_origin(annotation) is Annotated:
            annotation, *metadata = get_args(annotation)
            for item in metadata:
                if isinstance(item, FieldInfo) and item.discriminator is not None:
                    discriminator = item.discriminator
                elif isinstance(item, Discriminator):
                    discriminator = item
            continue
        if _is_union(annotation):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) == 1:
                annotation = members[0]  # Optional[X]: null adds no label to the location
                continue
        return annotation, discriminator


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _union_members(annotation: Any) -> list[Any] | None:
    if not _is_union(annotation):
        return None
    return [arg for arg in get_args(annotation) if arg is not type(None)]


def _member_for_label(members: list[Any], label: Any, discriminator: Any) -> Any | None:
    for member in members:
        if _tag_of(member) == label:
            return member
        model, _ = _unwrap(member)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        if isinstance(discriminator, str):
            field = field_by_key(model, discriminator)
            if field is not None and get_origin(field.annotation) is Literal and label in get_args(field.annotation):
                return member
        elif model.__name__ == label:
            return member
    return None


def _tag_of(member: Any) -> str | None:
    if get_origin(member) is Annotated:
        for item in get_args(member)[1:]:
            if isinstance(item, Tag):
                return item.tag
    return None

"""The card registry: the six built-in cards and the ones plug-ins add through the `reelforge.cards` entry points.

A document names a card only by its registered name; the code that draws it is whatever this registry maps the
name to (built-ins or installed plug-ins), never anything the document says. Importing this module does not
import manim: built-in scenes are referred to as "module:Class" and loaded in the render worker.
"""

from __future__ import annotations

import importlib
import re
import typing
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Annotated, Union

from pydantic import BaseModel, Field, TypeAdapter

from reelforge.cards.errors import CardError, CardPluginWarning

ENTRY_POINT_GROUP = "reelforge.cards"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class CardSpec:
    """A card kind: its name in documents, the pydantic model of its fields, and the manim scene that draws it.

    `model` must have a field `card: Literal[name]` (it is the discriminator in the document's schema).
    `scene` is a manim `Scene` subclass (ideally a `reelforge.cards.scene.CardScene`), or "module:Class" to load
    it lazily. `version` is part of the render cache key: change it when the drawing changes.
    """

    name: str
    model: type[BaseModel]
    scene: type | str
    version: str = ""
    source: str = "builtin"

    def load_scene(self) -> type:
        """The scene class (imports it when given as "module:Class")."""
        if not isinstance(self.scene, str):
            return self.scene
        module_name, _, attribute = self.scene.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            raise CardError(f"card {self.name!r}: cannot load its scene {self.scene!r}: {error}", kind=self.name) from error


def builtin_specs() -> tuple[CardSpec, ...]:
    """The six built-in cards. Their models are imported here, not at module level: the registry loads without the
    document model, and the model asks the registry only when it validates a card."""
    from reelforge.model.cards import EndCard, ListItemCard, QuizCard, QuoteCard, StatCard, TitleCard

    return (
        CardSpec("title", TitleCard, "reelforge.cards.builtin:TitleScene"),
        CardSpec("list_item", ListItemCard, "reelforge.cards.builtin:ListItemScene"),
        CardSpec("quiz", QuizCard, "reelforge.cards.builtin:QuizScene"),
        CardSpec("stat", StatCard, "reelforge.cards.builtin:StatScene"),
        CardSpec("quote", QuoteCard, "reelforge.cards.builtin:QuoteScene"),
        CardSpec("end", EndCard, "reelforge.cards.builtin:EndScene"),
    )


def _literal_name(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("card")
    if field is None or typing.get_origin(field.annotation) is not typing.Literal:
        return None
    values = typing.get_args(field.annotation)
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None


def check_spec(spec: object, taken: set[str]) -> CardSpec:
    """The spec if it is a usable card; ValueError saying why not."""
    if not isinstance(spec, CardSpec):
        raise ValueError(f"expected a reelforge.cards.CardSpec (or a callable returning one), got {type(spec).__name__}")
    if not NAME_PATTERN.match(spec.name):
        raise ValueError(f"card name {spec.name!r} must match {NAME_PATTERN.pattern}")
    if spec.name in taken:
        raise ValueError(f"card name {spec.name!r} is already registered")
    if not (isinstance(spec.model, type) and issubclass(spec.model, BaseModel)):
        raise ValueError("model must be a pydantic BaseModel subclass")
    if _literal_name(spec.model) != spec.name:
        raise ValueError(f"model {spec.model.__name__} needs a field `card: Literal[{spec.name!r}]`")
    scene = spec.scene
    if isinstance(scene, str):
        if not re.match(r"^[\w.]+:\w+$", scene):
            raise ValueError(f"scene {scene!r} must be a class or 'module:Class'")
    elif not (isinstance(scene, type) and callable(getattr(scene, "construct", None))):
        raise ValueError("scene must be a manim Scene subclass")
    return spec


def _load_entry_point(entry: EntryPoint, taken: set[str]) -> CardSpec:
    loaded = entry.load()
    spec = loaded if isinstance(loaded, CardSpec) else loaded() if callable(loaded) else loaded
    spec = check_spec(spec, taken)
    dist = getattr(entry, "dist", None)
    source = f"{dist.name} {dist.version}" if dist is not None else entry.value
    return CardSpec(spec.name, spec.model, spec.scene, f"{source}:{spec.version}", source)


@lru_cache(maxsize=1)
def _registry() -> dict[str, CardSpec]:
    specs = {spec.name: spec for spec in builtin_specs()}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        try:
            spec = _load_entry_point(entry, set(specs))
        except Exception as error:  # a broken plug-in must never stop reelforge: skip it and say why
            warnings.warn(f"{ENTRY_POINT_GROUP} plug-in {entry.name!r} ({entry.value}) skipped: "
                          f"{type(error).__name__}: {error}", CardPluginWarning, stacklevel=2)
            continue
        specs[spec.name] = spec
    return specs


def card_specs() -> list[CardSpec]:
    """Every registered card: the built-ins first, then plug-ins by name."""
    return list(_registry().values())


def card_names() -> list[str]:
    return list(_registry())


def get_spec(name: str) -> CardSpec:
    """The card registered as `name`, or a CardError listing the known names."""
    spec = _registry().get(name)
    if spec is None:
        raise CardError(f"unknown card {name!r}: known cards are {', '.join(card_names())}", kind=name)
    return spec


def spec_for(card: BaseModel) -> CardSpec:
    """The registered spec for a card model instance (looked up by its `card` name)."""
    name = getattr(card, "card", None)
    if not isinstance(name, str):
        raise CardError(f"{type(card).__name__} is not a card: it has no `card` name")
    return get_spec(name)


def card_models() -> tuple[type[BaseModel], ...]:
    """The models of every registered card, built-ins first."""
    return tuple(spec.model for spec in _registry().values())


def card_union() -> object:
    """The type of a card field now: the registered cards' models, told apart by their `card` name."""
    models = card_models()
    return models[0] if len(models) == 1 else Annotated[Union[models], Field(discriminator="card")]


@lru_cache(maxsize=1)
def card_union_adapter() -> TypeAdapter:
    """Validation (and the JSON Schema) of a card field."""
    return TypeAdapter(card_union())


def refresh() -> None:
    """Discover plug-ins again (after installing one, and in tests): documents accept exactly what is listed next."""
    _registry.cache_clear()
    card_union_adapter.cache_clear()

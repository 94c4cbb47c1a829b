"""Edit operations on a document: each a pure, validated step from one document to the next, applied by a Project."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pydantic import BaseModel

from reelforge.document.checks import check_document
from reelforge.document.estimate import speech_seconds
from reelforge.document.loader import validate_data
from reelforge.errors import DocumentError, EditError, Problem
from reelforge.model import Captions, Document, Music, Output, Scene, Voice
from reelforge.model.base import StrictModel
from reelforge.model.scene import SCENE_ID_PATTERN

Wire = dict[str, Any]
"""A document or part of one in its JSON form: camelCase keys, defaults left out."""

# A sentence ends at . ! ? or … (closing quotes and brackets go with it), followed by white space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_SCENE_ID = re.compile(SCENE_ID_PATTERN)
_MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class Edit:
    """One edit: a label for messages and undo menus, and the change from a document to the next one's wire form.

    `change` reads the current document and returns the new document's wire form; it raises EditError when the
    edit makes no sense for that document (an unknown scene id, say). `apply` validates the result.
    """

    label: str
    change: Callable[[Document], Wire]

    def apply(self, document: Document) -> Document:
        """The edited document, validated by the model and the document checks; EditError when it is invalid."""
        return build_document(self.change(document), self.label)


def build_document(data: Wire, label: str) -> Document:
    """Validate `data` as the loader validates a file, run the checks; raise EditError naming every error."""
    try:
        document = validate_data(data)
    except DocumentError as exc:
        raise _refused(label, exc.problems) from None
    errors = [problem for problem in check_document(document) if problem.severity == "error"]
    if errors:
        raise _refused(label, errors)
    return document


def _refused(label: str, problems: list[Problem]) -> EditError:
    return EditError(f"cannot {label}: " + "; ".join(str(problem) for problem in problems))


def replace_document(document: Document | Mapping[str, Any], label: str = "replace the document") -> Edit:
    """The whole document replaced (e.g. by a recovered autosave), as one undoable edit."""
    wire = to_wire(document)
    return Edit(label, lambda _current: wire)


# --- scenes -------------------------------------------------------------------------------------------------


def add_scene(scene: Scene | Mapping[str, Any], index: int | None = None) -> Edit:
    """Insert `scene` (a Scene or its wire form) before position `index`, or at the end."""
    wire_scene = to_wire(scene)
    label = f"add scene {wire_scene.get('id')!r}" if isinstance(wire_scene, dict) else "add a scene"

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        scenes = data.setdefault("scenes", [])
        at = len(scenes) if index is None else _checked_position(label, index, len(scenes) + 1)
        scenes.insert(at, to_wire(wire_scene))
        return data

    return Edit(label, change)


def update_scene(scene_id: str, changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Edit:
    """Change some of a scene's fields: wire-form `changes` (camelCase keys), snake_case `fields`, or both.

    Each value replaces the field's whole value; None removes the field, so it goes back to its default.
    """
    label = f"edit scene {scene_id!r}"
    updates = wire_changes(Scene, changes, fields, label)

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        position = _scene_position(label, data, scene_id)
        data["scenes"][position] = merged(data["scenes"][position], to_wire(updates))
        return data

    return Edit(label, change)


def remove_scene(scene_id: str) -> Edit:
    label = f"remove scene {scene_id!r}"

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        position = _scene_position(label, data, scene_id)
        del data["scenes"][position]
        return data

    return Edit(label, change)


def move_scene(scene_id: str, to_index: int) -> Edit:
    """Move a scene so that it ends up at position `to_index` (0 is first)."""
    label = f"move scene {scene_id!r}"

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        position = _scene_position(label, data, scene_id)
        scenes = data["scenes"]
        target = _checked_position(label, to_index, len(scenes))
        scenes.insert(target, scenes.pop(position))
        return data

    return Edit(label, change)


def duplicate_scene(scene_id: str) -> Edit:
    """Insert a copy of a scene right after it, with a new id such as `intro-2`."""
    label = f"duplicate scene {scene_id!r}"

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        position = _scene_position(label, data, scene_id)
        copy = to_wire(document.scenes[position])
        copy["id"] = new_scene_id(document, scene_id)
        data["scenes"].insert(position + 1, copy)
        return data

    return Edit(label, change)


def split_scene(scene_id: str, at_char: int) -> Edit:
    """Split a scene in two at the sentence boundary of its narration text nearest character `at_char`.

    Both parts keep the visual. The first keeps the id, the overlays and a cut into the second; the second
    gets a new id and the scene's transition into what follows. A fixed duration is shared in proportion
    to each part's estimated speech.
    """
    label = f"split scene {scene_id!r}"

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        position = _scene_position(label, data, scene_id)
        scene = document.scenes[position]
        text = _narration_text(label, scene)
        if not 0 <= at_char <= len(text):
            raise EditError(f"cannot {label}: character {at_char} is outside its narration (0 to {len(text)})")
        boundaries = sentence_boundaries(text)
        if not boundaries:
            raise EditError(f"cannot {label}: its narration is a single sentence, so there is nowhere to split it")
        cut = min(boundaries, key=lambda boundary: (abs(boundary - at_char), boundary))
        first_text, second_text = text[:cut].rstrip(), text[cut:].strip()

        first = data["scenes"][position]
        second = to_wire(scene)
        first["narration"] = {"text": first_text}
        second["narration"] = {"text": second_text}
        second["id"] = new_scene_id(document, scene_id)
        second.pop("overlays", None)
        first.pop("transition", None)
        if scene.duration != "auto":
            first["duration"], second["duration"] = _shared_duration(
                float(scene.duration), speech_seconds(first_text), speech_seconds(second_text)
            )
        data["scenes"].insert(position + 1, second)
        return data

    return Edit(label, change)


def set_visual(scene_id: str, visual: BaseModel | Mapping[str, Any]) -> Edit:
    """Replace what a scene shows with `visual` (a visual model or its wire form)."""
    label = f"change the visual of scene {scene_id!r}"
    wire_visual = to_wire(visual)

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        position = _scene_position(label, data, scene_id)
        data["scenes"][position]["visual"] = to_wire(wire_visual)
        return data

    return Edit(label, change)


def sync_durations() -> Edit:
    """Every narrated scene with a fixed duration goes back to 'auto': as long as its narration plus padding."""
    label = "sync durations"

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        for scene in data.get("scenes", []):
            if scene.get("narration") is not None:
                scene.pop("duration", None)
        return data

    return Edit(label, change)


# --- document-wide settings -----------------------------------------------------------------------------------


def set_music(music: Music | Mapping[str, Any] | None) -> Edit:
    """Set the background music, or remove it with None."""
    label = "remove the music" if music is None else "set the music"
    wire_music = None if music is None else to_wire(music)

    def change(document: Document) -> Wire:
        return merged(document.to_json_dict(), {"music": to_wire(wire_music)})

    return Edit(label, change)


def set_captions(changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Edit:
    """Change caption settings (style, position, enabled, words_per_line); None resets one to its default."""
    return _set_section("captions", Captions, "change the captions", changes, fields)


def set_voice(changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Edit:
    """Change the voice settings (engine, voice_id, speed); None resets one to its default."""
    return _set_section("voice", Voice, "change the voice", changes, fields)


def set_output(changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Edit:
    """Change the output settings (aspect_ratio, resolution, quality, fps); None resets one to its default."""
    return _set_section("output", Output, "change the output", changes, fields)


def combined(label: str, edits: "list[Edit] | tuple[Edit, ...]") -> Edit:
    """Several edits made as one (one undo step): each applies to the document the one before it made, and the
    whole is refused (EditError) when any of them is."""
    steps = tuple(edits)

    def change(document: Document) -> Wire:
        current = document
        for step in steps[:-1]:
            current = step.apply(current)
        return steps[-1].change(current) if steps else document.to_json_dict()

    return Edit(label, change)


def _set_section(
    key: str, model: type[StrictModel], label: str, changes: Mapping[str, Any] | None, fields: dict[str, Any]
) -> Edit:
    updates = wire_changes(model, changes, fields, label)

    def change(document: Document) -> Wire:
        data = document.to_json_dict()
        section = merged(data.get(key) or {}, to_wire(updates))
        return merged(data, {key: section or None})

    return Edit(label, change)


# --- helpers ------------------------------------------------------------------------------------------------


def new_scene_id(document: Document, base: str) -> str:
    """A scene id not used in `document`: `base` itself when free, else `base-2`, `base-3`...

    `base` is made into a valid id first ('My scene!' → 'My-scene'). A copy of `fact-2` is `fact-2-2`,
    not `fact-3`, which would read as the next item of a numbered series.
    """
    taken = {scene.id for scene in document.scenes}
    root = _id_slug(base)
    if root not in taken:
        return root
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = root[: _MAX_ID_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def _id_slug(base: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", base).strip("-_")[:_MAX_ID_LENGTH].rstrip("-_")
    return slug if slug and _SCENE_ID.match(slug) else "scene"


def sentence_boundaries(text: str) -> list[int]:
    """Positions where `text` can be split between two sentences (each part keeps some words)."""
    stripped_end = len(text.rstrip())
    return [match.end() for match in _SENTENCE_END.finditer(text) if match.end() < stripped_end]


def to_wire(value: Any) -> Any:
    """`value` in wire form: models as their JSON dicts, containers copied, everything else as is."""
    if isinstance(value, StrictModel):
        return value.to_json_dict()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(item) for item in value]
    return value


def wire_changes(
    model: type[StrictModel], changes: Mapping[str, Any] | None, fields: Mapping[str, Any], label: str
) -> Wire:
    """Field changes keyed by wire name: `changes` may use wire or Python names, `fields` use Python names."""
    names = {name: info.alias or name for name, info in model.model_fields.items()}
    wire_names = set(names.values())
    updates: Wire = {}
    for key, value in [*(changes or {}).items(), *fields.items()]:
        if key in wire_names:
            updates[key] = to_wire(value)
        elif key in names:
            updates[names[key]] = to_wire(value)
        else:
            known = ", ".join(sorted(wire_names))
            raise EditError(f"cannot {label}: {model.__name__} has no field {key!r} (fields: {known})")
    return updates


def merged(data: Wire, updates: Mapping[str, Any]) -> Wire:
    """`data` with `updates` applied: a None value removes its key."""
    result = dict(data)
    for key, value in updates.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _scene_position(label: str, data: Wire, scene_id: str) -> int:
    scenes = data.get("scenes", [])
    for position, scene in enumerate(scenes):
        if scene.get("id") == scene_id:
            return position
    known = ", ".join(str(scene.get("id")) for scene in scenes) or "none"
    raise EditError(f"cannot {label}: there is no scene {scene_id!r} (scenes: {known})")


def _checked_position(label: str, index: int, count: int) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise EditError(f"cannot {label}: position {index!r} is out of range (0 to {count - 1})")
    return index


def _narration_text(label: str, scene: Scene) -> str:
    if scene.narration is None:
        raise EditError(f"cannot {label}: it has no narration to split")
    if scene.narration.text is None:
        raise EditError(f"cannot {label}: its narration is a recording; only narration text can be split")
    return scene.narration.text


def _shared_duration(total: float, first_speech: float, second_speech: float) -> tuple[float, float]:
    """`total` seconds shared in proportion to the two parts' speech, rounded to milliseconds."""
    speech = first_speech + second_speech
    share = first_speech / speech if speech > 0 else 0.5
    first = round(total * share, 3)
    return first, round(total - first, 3)

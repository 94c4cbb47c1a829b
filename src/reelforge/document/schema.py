"""The published JSON Schema of the document format, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from reelforge.document.loader import document_adapter
from reelforge.model.document import CURRENT_VERSION

SCHEMA_ID = f"https://reelforge.dev/schema/template.v{CURRENT_VERSION}.schema.json"
SCHEMA_FILE = f"template.v{CURRENT_VERSION}.schema.json"
REGENERATE_COMMAND = "reelforge schema --write"


# Text that holds a lone surrogate (JSON's "\ud800" escape) is not Unicode: the loader refuses it, and so does the
# schema. Written with regex escapes, so the schema file itself stays valid UTF-8.
NO_SURROGATES = r"(?![\s\S]*[\ud800-\udfff])"

# What each choice of an enumeration means, for editors that show it (VS Code reads `enumDescriptions`), keyed by
# the choices themselves (the same choices mean the same wherever they appear).
ENUM_DESCRIPTIONS: dict[frozenset, dict[str, str]] = {
    frozenset({"cover", "contain"}): {
        "cover": "Fill the frame; what does not fit is cropped (centred).",
        "contain": "Show all of it, over a blurred, dimmed copy of itself that fills the rest of the frame.",
    },
    frozenset({"none", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"}): {
        "none": "Hold still.", "zoom_in": "Slowly move closer.", "zoom_out": "Slowly move back.",
        "pan_left": "Slowly move to the left.", "pan_right": "Slowly move to the right.",
        "pan_up": "Slowly move up.", "pan_down": "Slowly move down.",
    },
    frozenset({"bold_pop", "minimal_white", "karaoke_neon"}): {
        "bold_pop": "Heavy white words on a dark outline; each line pops in.",
        "minimal_white": "Plain white words with a soft shadow.",
        "karaoke_neon": "The word being spoken lights up in neon green.",
    },
    frozenset({"draft", "web", "studio"}): {
        "draft": "Half the size and fast encoder settings: to check a cut.",
        "web": "Full size, good quality at a small file size: to publish.",
        "studio": "Full size, the highest quality: to edit further or archive.",
    },
    frozenset({"upbeat", "calm", "dramatic", "none"}): {
        "upbeat": "120 BPM, D major: drums, bass, marimba.", "calm": "75 BPM, F major: pads and electric piano.",
        "dramatic": "90 BPM, C minor: strings and timpani.", "none": "No music.",
    },
    frozenset({"cut", "crossfade", "fade_black", "slide_left", "slide_right", "slide_up", "slide_down",
               "wipe_left", "wipe_right", "wipe_up", "wipe_down"}): {
        "cut": "No transition: the next scene starts at once.",
        "crossfade": "The scenes blend into each other.", "fade_black": "Through black.",
        "slide_left": "The next scene slides in from the right.", "slide_right": "The next scene slides in from the left.",
        "slide_up": "The next scene slides in from below.", "slide_down": "The next scene slides in from above.",
        "wipe_left": "A line sweeps right to left.", "wipe_right": "A line sweeps left to right.",
        "wipe_up": "A line sweeps bottom to top.", "wipe_down": "A line sweeps top to bottom.",
    },
}


class _DocumentSchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, shaped for generic Draft 2020-12 validators: patterns that end where the models' end,
    no lone surrogates, tagged unions as `if`/`then` on their tag (so a validator reports the fault inside the
    member the tag names, at its real path, not "valid under none of oneOf"), described enumerations."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        pattern = json_schema.get("pattern")
        if isinstance(pattern, str) and pattern.endswith("$") and not pattern.endswith("\\$"):
            # The models match with Rust's regex, where `$` is the end of the text. In Python's `re` (used by the
            # `jsonschema` package) `$` also matches before a final newline, so "intro\n" would pass as a scene id.
            # `(?!\n)` closes that gap and changes nothing for ECMA-262 regexes, where `$` is already the end.
            pattern = pattern + "(?!\\n)"
        if isinstance(pattern, str):
            json_schema["pattern"] = "^" + NO_SURROGATES + pattern.removeprefix("^")
        else:
            json_schema["pattern"] = "^" + NO_SURROGATES
        return json_schema

    def literal_schema(self, schema: core_schema.LiteralSchema) -> JsonSchemaValue:
        json_schema = super().literal_schema(schema)
        choices = json_schema.get("enum")
        described = ENUM_DESCRIPTIONS.get(frozenset(choices)) if isinstance(choices, list) else None
        if described:
            json_schema["enumDescriptions"] = [described[choice] for choice in choices]
        return json_schema

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        """`X | None` without an `anyOf` (whose validators report "not valid under any" at the field instead of the
        fault inside X): a model as if-object-then-X-else-null, a scalar as a type list with null in it."""
        inner = self.generate_inner(schema["schema"])
        if set(inner) == {"$ref"}:
            return {"if": {"type": "object"}, "then": inner, "else": {"type": "null"}}
        kind = inner.get("type")
        if isinstance(kind, str) and not {"anyOf", "oneOf", "allOf", "$ref", "const"} & set(inner):
            widened = {**inner, "type": [kind, "null"]}
            if "enum" in inner:
                widened["enum"] = [*inner["enum"], None]
                if "enumDescriptions" in inner:
                    widened["enumDescriptions"] = [*inner["enumDescriptions"], "Unset."]
            return widened
        return super().nullable_schema(schema)

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        json_schema = super().tagged_union_schema(schema)
        discriminator = json_schema.get("discriminator")
        if not isinstance(discriminator, dict) or "mapping" not in discriminator:
            return json_schema
        key, mapping = discriminator["propertyName"], discriminator["mapping"]
        return {
            "type": "object",
            "required": [key],
            "properties": {key: {"enum": list(mapping)}},
            "allOf": [{"if": {"properties": {key: {"const": tag}}, "required": [key]}, "then": {"$ref": ref}}
                      for tag, ref in mapping.items()],
        }


def document_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a document file: a document or an AVS request body."""
    schema = document_adapter().json_schema(
        by_alias=True, mode="validation", schema_generator=_DocumentSchemaGenerator
    )
    documents, requests = (member["$ref"] for member in schema.pop("oneOf"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "reelforge document",
        "description": "A narrated short video as scenes and/or timed blocks (AVS Template JSON v1 compatible).",
        **schema,
        # A file is an AVS request body when it wraps a `template` (and has no version of its own), else a document.
        "if": {"required": ["template"], "not": {"required": ["version"]}},
        "then": {"$ref": requests},
        "else": {"$ref": documents},
    }


def schema_text() -> str:
    return json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"


def default_schema_path() -> Path:
    """schema/ at the repository root (the source tree this module lives in)."""
    return Path(__file__).resolve().parents[3] / "schema" / SCHEMA_FILE

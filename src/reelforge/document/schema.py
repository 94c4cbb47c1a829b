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


class _DocumentSchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, with patterns that end where the models' patterns end."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        pattern = json_schema.get("pattern")
        if isinstance(pattern, str) and pattern.endswith("$") and not pattern.endswith("\\$"):
            # The models match with Rust's regex, where `$` is the end of the text. In Python's `re` (used by the
            # `jsonschema` package) `$` also matches before a final newline, so "intro\n" would pass as a scene id.
            # `(?!\n)` closes that gap and changes nothing for ECMA-262 regexes, where `$` is already the end.
            json_schema["pattern"] = pattern + "(?!\\n)"
        return json_schema


def document_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a document file: a document or an AVS request body."""
    schema = document_adapter().json_schema(
        by_alias=True, mode="validation", schema_generator=_DocumentSchemaGenerator
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "reelforge document",
        "description": "A narrated short video as scenes and/or timed blocks (AVS Template JSON v1 compatible).",
        **schema,
    }


def schema_text() -> str:
    return json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"


def default_schema_path() -> Path:
    """schema/ at the repository root (the source tree this module lives in)."""
    return Path(__file__).resolve().parents[3] / "schema" / SCHEMA_FILE

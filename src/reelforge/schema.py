"""The published JSON Schema of the document format, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

from reelforge.loader import document_adapter
from reelforge.model.document import CURRENT_VERSION

SCHEMA_ID = f"https://reelforge.dev/schema/template.v{CURRENT_VERSION}.schema.json"
SCHEMA_FILE = f"template.v{CURRENT_VERSION}.schema.json"
REGENERATE_COMMAND = "reelforge schema --write"


def document_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a document file: a document or an AVS request body."""
    schema = document_adapter().json_schema(by_alias=True, mode="validation")
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
    return Path(__file__).resolve().parents[2] / "schema" / SCHEMA_FILE

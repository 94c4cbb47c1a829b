"""Reading a document: bytes → JSON → upgraded dict → validated model, every fault as a located Problem."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reelforge.checks import check_document
from reelforge.errors import DocumentError, Problem
from reelforge.jsonpath import data_path, format_path
from reelforge.model.document import Document, DocumentFile, RenderRequest
from reelforge.upgrade import upgrade

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


@lru_cache(maxsize=1)
def document_adapter() -> TypeAdapter:
    """The one entry point for validation and the JSON Schema."""
    return TypeAdapter(DocumentFile)


@dataclass
class LoadedDocument:
    """A valid document with where it came from and the warnings found while checking it."""

    document: Document
    path: Path | None = None
    warnings: list[Problem] = field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()


def read_json_file(path: Path) -> Any:
    """Parse a JSON file, turning every way it can fail into a DocumentError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError([Problem("", f"file not found: {path}")]) from None
    except IsADirectoryError:
        raise DocumentError([Problem("", f"is a folder, not a JSON file: {path}")]) from None
    except OSError as exc:
        raise DocumentError([Problem("", f"cannot read {path}: {exc.strerror}")]) from None
    return parse_json(raw)


def parse_json(raw: bytes | str) -> Any:
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError([Problem("", f"document is {size / 1e6:.1f} MB; the limit is {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")])
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError([Problem("", f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")]) from None
    if not raw.strip():
        raise DocumentError([Problem("", "the file is empty: a document is a JSON object")])
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DocumentError([Problem("", f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
    except _DuplicateKey as exc:
        raise DocumentError([Problem("", f"duplicate key {exc.key!r} in a JSON object")]) from None
    except RecursionError:
        raise DocumentError([Problem("", "JSON nested too deeply")]) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def validate_data(data: Any) -> Document:
    """Upgrade and validate parsed JSON; raise DocumentError listing every problem."""
    if not isinstance(data, dict):
        raise DocumentError([Problem("", f"a document is a JSON object, got {_json_type(data)}")])
    data = upgrade(data)
    try:
        parsed = document_adapter().validate_python(data)
    except ValidationError as exc:
        raise DocumentError(problems_from_validation(exc, data)) from None
    except RecursionError:
        raise DocumentError([Problem("", "JSON nested too deeply")]) from None
    return parsed.to_document() if isinstance(parsed, RenderRequest) else parsed


def load_document(source: str | Path | dict | Document, *, assets: Path | None = None) -> LoadedDocument:
    """Load, upgrade, validate and check a document from a path, a parsed dict or a model."""
    path: Path | None = None
    if isinstance(source, Document):
        document = source
    elif isinstance(source, dict):
        document = validate_data(source)
    else:
        path = Path(source)
        document = validate_data(read_json_file(path))
    loaded = LoadedDocument(document, path)
    problems = check_document(document, base_dir=loaded.base_dir if path else None, assets=assets)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DocumentError(problems)
    loaded.warnings = problems
    return loaded


def problems_from_validation(exc: ValidationError, data: Any) -> list[Problem]:
    """One Problem per located fault; alternatives of one union at one path are joined with 'or'."""
    by_path: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = format_path(data_path(data, error["loc"]))
        message = _message(error)
        messages = by_path.setdefault(path, [])
        if message not in messages:
            messages.append(message)
    return [Problem(path, " or ".join(messages)) for path, messages in by_path.items()]


_PATTERN_MESSAGES = {
    "uploadName": "must be a bare file name from the assets folder: no '/', '\\' or leading '.'",
    "url": "must be an http:// or https:// URL",
    "id": "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit",
    "voiceId": "must be a voice name such as 'en_US-joe-medium'",
    "language": "must be a language tag such as 'en' or 'en-US'",
}


def _message(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    loc = error["loc"]
    last = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        return f"unknown key {last!r}"
    if kind == "missing":
        return "required but missing"
    if kind == "union_tag_invalid":
        return f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))} {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'kind').strip(chr(39))!r} key"
    if kind == "string_pattern_mismatch":
        if isinstance(last, str) and last in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[last]
        if str(ctx.get("pattern", "")).startswith("^#"):
            return "must be a color such as '#ffffff' or '#00000080'"
        return "has characters that are not allowed here"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a JSON object, got {_json_type(error.get('input'))}"
    if kind == "list_type":
        return f"must be a JSON array, got {_json_type(error.get('input'))}"
    msg = str(error["msg"])
    return msg[0].lower() + msg[1:] if msg else kind


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

"""Reading a document: bytes → JSON → upgraded dict → validated model, every fault as a located Problem."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reelforge.document.checks import check_document
from reelforge.document.problems import json_kind, problems_from_validation, show_value
from reelforge.document.upgrade import upgrade
from reelforge.errors import DocumentError, Problem
from reelforge.model.document import Document, DocumentFile, RenderRequest

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
    folder: Path | None = None  # where relative paths resolve for a document that has no file

    @property
    def base_dir(self) -> Path:
        if self.path is not None:
            return self.path.parent
        return self.folder if self.folder is not None else Path.cwd()


def read_json_file(path: Path) -> Any:
    """Parse a JSON file, turning every way it can fail into a DocumentError."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)  # enough to know it is too big, even for /dev/zero
    except FileNotFoundError:
        raise DocumentError([Problem("", f"file not found: {path}")]) from None
    except IsADirectoryError:
        raise DocumentError([Problem("", f"is a folder, not a JSON file: {path}")]) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DocumentError([Problem("", f"cannot read {path}: {reason}")]) from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise DocumentError([Problem("", _too_big_message(path))]) from None
    return parse_json(raw)


def _too_big_message(path: Path | None = None, size: int | None = None) -> str:
    if size is None and path is not None:
        try:
            size = path.stat().st_size
        except OSError:
            size = None
    limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
    if not size or size <= MAX_DOCUMENT_BYTES:  # a pipe or device reports no useful size
        return f"document is larger than the {limit} MB limit"
    return f"document is {size / (1024 * 1024):.1f} MB; the limit is {limit} MB"


def parse_json(raw: bytes | str) -> Any:
    """Parse a document's text; raise DocumentError (with line and column for malformed JSON)."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError([Problem("", _too_big_message(size=size))])
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError([Problem("", f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")]) from None
    raw = raw.removeprefix("\ufeff")
    if not raw.strip():
        raise DocumentError([Problem("", "the file is empty: a document is a JSON object")])
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise DocumentError([Problem("", f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
    except _DuplicateKey as exc:
        raise DocumentError([Problem("", f"duplicate key {show_value(exc.key)} in a JSON object")]) from None
    except _NotANumber as exc:
        line, column = _position_outside_strings(raw, _CONSTANT)
        raise DocumentError([Problem(
            "", f"malformed JSON at line {line}, column {column}: {exc.name} is not a JSON number"
        )]) from None
    except RecursionError:
        raise DocumentError([Problem("", "JSON nested too deeply")]) from None
    except ValueError:  # an integer with more digits than Python converts (sys.get_int_max_str_digits())
        line, column = _position_outside_strings(raw, _LONG_INTEGER)
        raise DocumentError([Problem(
            "", f"malformed JSON at line {line}, column {column}: a number with thousands of digits"
        )]) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


class _NotANumber(ValueError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _NotANumber(name)


_CONSTANT = r"-?Infinity|NaN"
_LONG_INTEGER = r"-?[0-9]{1000,}"


def _position_outside_strings(text: str, token: str) -> tuple[int, int]:
    """Line and column of the first `token` outside a JSON string (for faults the parser reports without one)."""
    for match in re.finditer(rf'"(?:[^"\\]|\\.)*"|({token})', text):
        if match.group(1):
            before = text[: match.start(1)]
            return before.count("\n") + 1, match.start(1) - (before.rfind("\n") + 1) + 1
    return 1, 1


def validate_data(data: Any) -> Document:
    """Upgrade and validate parsed JSON; raise DocumentError listing every problem."""
    if not isinstance(data, dict):
        raise DocumentError([Problem("", f"a document is a JSON object, got {json_kind(data)}")])
    data = upgrade(data)
    try:
        # camelCase keys only, as in the schema; Python code may still build models by field name.
        parsed = document_adapter().validate_python(data, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise DocumentError(problems_from_validation(exc, data)) from None
    except RecursionError:
        raise DocumentError([Problem("", "JSON nested too deeply")]) from None
    return parsed.to_document() if isinstance(parsed, RenderRequest) else parsed


def load_document(source: str | Path | dict | Document, *, assets: Path | None = None,
                  base_dir: Path | None = None) -> LoadedDocument:
    """Load, upgrade, validate and check a document from a path, a parsed dict or a model.

    `base_dir` says where a dict or model's relative paths (`path` sources, `assetsDir`) resolve; a file's
    own folder otherwise (the current folder when neither is known)."""
    path: Path | None = None
    if isinstance(source, Document):
        document = source
    elif isinstance(source, dict):
        document = validate_data(source)
    else:
        path = Path(source)
        document = validate_data(read_json_file(path))
    loaded = LoadedDocument(document, path, folder=base_dir)
    known_folder = path is not None or base_dir is not None
    problems = check_document(document, base_dir=loaded.base_dir if known_folder else None, assets=assets)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DocumentError(problems)
    loaded.warnings = problems
    return loaded

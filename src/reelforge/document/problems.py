"""Pydantic validation errors turned into located, one-line Problems a person can act on."""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from reelforge.document.jsonpath import Location, format_path, locate, wire_keys
from reelforge.errors import Problem
from reelforge.model.base import StrictModel
from reelforge.model.document import DocumentFile

MAX_PROBLEMS = 50
"""Paths reported for one document; a file of a million unknown keys gets a readable answer."""

_MAX_SHOWN = 40
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")

# Errors that mean "this value has the wrong kind": alternatives of a union are joined ("a number or 'auto'").
_EXPECTATIONS = {
    "string_type": "a string",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "an array",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
}

_PATTERN_MESSAGES = {
    "uploadName": "must be a bare file name from the assets folder: no '/', '\\', leading '.' or control characters",
    "url": "must be an http:// or https:// URL without spaces",
    "path": "must be a file path without control characters",
    "assetsDir": "must be a folder path without control characters",
    "id": "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit",
    "voiceId": "must be a voice name such as 'en_US-joe-medium'",
    "language": "must be a language tag such as 'en' or 'en-US'",
}


def problems_from_validation(exc: ValidationError, data: Any = None, root: Any = None) -> list[Problem]:
    """One Problem per located fault; alternatives of one union at one path become one message.

    `root` is the type that was validated; by default the model named in the error (for `Model.model_validate`)
    or the document file (for the loader). `data` is accepted for callers that pass it; the types locate errors.
    """
    root = root if root is not None else _root_of(exc)
    by_path: dict[str, list[tuple[dict, Location]]] = {}
    left_out = 0
    for error in exc.errors(include_url=False):
        location = locate(root, error["loc"])
        parts = location.parts
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # The fault is the tag's value (or its absence): name the tag key itself, as a JSON Schema validator does.
            parts = (*parts, str((error.get("ctx") or {}).get("discriminator", "type")).strip("'"))
        path = format_path(parts)
        if path not in by_path and len(by_path) >= MAX_PROBLEMS:
            left_out += 1
            continue
        by_path.setdefault(path, []).append((error, location))
    problems = [Problem(path, _one_line(_joined(entries))) for path, entries in by_path.items()]
    if left_out:
        problems.append(Problem("", f"{left_out} more errors not shown: fix the ones above first"))
    return problems


def _root_of(exc: ValidationError) -> Any:
    return _models_by_name().get(exc.title, DocumentFile)


def _models_by_name() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    pending = [StrictModel]
    while pending:
        model = pending.pop()
        for sub in model.__subclasses__():
            found.setdefault(sub.__name__, sub)
            pending.append(sub)
    return found


def _joined(entries: list[tuple[dict, Location]]) -> str:
    """One message for the errors at one path: a union's members each report their own error."""
    mismatches = [error for error, _ in entries if _expectation(error) is not None]
    others = [(error, location) for error, location in entries if _expectation(error) is None]
    if others:  # the value had the right kind for some member: its complaint is the one that helps
        return "; ".join(dict.fromkeys(_message(error, location) for error, location in others))
    expected = " or ".join(dict.fromkeys(_expectation(error) or "" for error in mismatches))
    first = mismatches[0]
    message = f"must be {expected}, got {show_value(first['input'])}"
    suggestion = _suggest(first["input"], _literal_options(mismatches))
    return message + suggestion


def _expectation(error: dict) -> str | None:
    kind = error["type"]
    if kind == "literal_error":
        options = _QUOTED.findall(str(error.get("ctx", {}).get("expected", "")))
        if len(options) == 1:
            return repr(options[0])
        return "one of " + ", ".join(repr(option) for option in options) if options else None
    if kind == "float_type" and isinstance(error.get("input"), int) and not isinstance(error.get("input"), bool):
        return None  # an int a float cannot hold: not a wrong kind, a wrong size
    return _EXPECTATIONS.get(kind)


def _literal_options(errors: list[dict]) -> list[str]:
    options: list[str] = []
    for error in errors:
        if error["type"] == "literal_error":
            options += _QUOTED.findall(str(error.get("ctx", {}).get("expected", "")))
    return options


def _message(error: dict, location: Location) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    key = location.parts[-1] if location.parts else ""
    if kind == "extra_forbidden":
        return _unknown_key(str(key), location.owner)
    if kind == "missing":
        return "required but missing"
    if kind == "union_tag_invalid":
        name = str(ctx.get("discriminator", "kind")).strip("'")
        options = _QUOTED.findall(str(ctx.get("expected_tags", "")))
        tag = value.get(name) if isinstance(value, dict) else ctx.get("tag")
        if not isinstance(tag, str):  # pydantic quotes the tag as text; say what it really is
            return f"{name!r} must be one of {_listed(options)}, got {show_value(tag)}"
        match = closest(ctx.get("tag"), options)
        hint = f" (did you mean {match!r}?)" if match else ""
        return f"unknown {name} {show_value(ctx.get('tag'))}{hint}; expected one of {_listed(options)}"
    if kind == "union_tag_not_found":
        options = location.tags()
        listed = f": one of {_listed(options)}" if options else ""
        return f"required but missing{listed}"
    if kind == "string_pattern_mismatch":
        return f"{_pattern_message(str(key), str(ctx.get('pattern', '')))}, got {show_value(value)}"
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must have at least {minimum} characters, got {show_value(value)}"
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "too many"
        return f"is {length} characters long; the limit is {ctx.get('max_length')}"
    if kind == "too_short":
        actual = ctx.get("actual_length")
        return f"needs at least {_items(ctx.get('min_length'))}, got {actual if actual is not None else 'fewer'}"
    if kind == "too_long":
        actual = ctx.get("actual_length")
        has = f"has {actual} items" if actual is not None else "has too many items"
        return f"{has}; the limit is {ctx.get('max_length')}"
    if kind == "greater_than_equal":
        return f"must be at least {_number(ctx.get('ge'))}, got {show_value(value)}"
    if kind == "greater_than":
        return f"must be more than {_number(ctx.get('gt'))}, got {show_value(value)}"
    if kind == "less_than_equal":
        return f"must be at most {_number(ctx.get('le'))}, got {show_value(value)}"
    if kind == "less_than":
        return f"must be less than {_number(ctx.get('lt'))}, got {show_value(value)}"
    if kind == "finite_number":
        return f"must be a finite number, got {show_value(value)}"
    if kind == "float_type":
        return f"must be a number of a usable size, got {show_value(value)}"
    if kind == "string_unicode":
        return "is not valid Unicode text (it holds a lone surrogate such as \\ud800)"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    message = str(error.get("msg") or kind)
    return message[0].lower() + message[1:]


def _unknown_key(key: str, owner: type[BaseModel] | None) -> str:
    message = f"unknown key {show_value(key)}"
    if owner is None:
        return message
    keys = [wire for wire in wire_keys(owner) if wire != "$schema"]  # an editor's key, not one to suggest
    suggestion = _suggest(key, keys)
    return message + (suggestion or f"; allowed keys: {', '.join(keys)}")


def _suggest(given: Any, options: list[str]) -> str:
    """"; did you mean 'duration'?" when `given` is close to one of `options` (by spelling, or by case and '_')."""
    match = closest(given, options)
    return f"; did you mean {match!r}?" if match is not None else ""


def closest(given: Any, options: list[str]) -> str | None:
    """The option `given` was probably meant to be, if any."""
    if not isinstance(given, str) or not options or not any(char.isalpha() for char in given):
        return None  # '21:9' is not a misspelt '16:9'
    folded = {_fold(option): option for option in options}
    match = folded.get(_fold(given))
    if match is None:
        close = difflib.get_close_matches(given, options, n=1, cutoff=0.6)
        match = close[0] if close else None
    return match if match != given else None


def _fold(text: str) -> str:
    return text.replace("_", "").replace("-", "").lower()


def _pattern_message(key: str, pattern: str) -> str:
    if key in _PATTERN_MESSAGES:
        return _PATTERN_MESSAGES[key]
    if pattern.startswith("^#"):
        return "must be a color such as '#ffffff' or '#00000080'"
    return "has characters that are not allowed here"


def _listed(options: list[str]) -> str:
    return ", ".join(repr(option) for option in options)


def _items(count: Any) -> str:
    return "1 item" if count == 1 else f"{count} items"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def show_value(value: Any) -> str:
    """A short one-line rendering of a JSON value for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = str(abs(value)) if abs(value) < 10**40 else ""
        return str(value) if digits else "a number of more than 40 digits"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        shown = repr(value[:_MAX_SHOWN])
        return shown + "…" if len(value) > _MAX_SHOWN else shown
    return json_kind(value)


def json_kind(value: Any) -> str:
    """The JSON kind of a value, as a message says it: 'a string', 'an array'."""
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


def _one_line(message: str) -> str:
    return " ".join(message.splitlines())

"""Upgrades old documents to the current version by a chain of small dict-to-dict functions."""

from __future__ import annotations

from typing import Callable

from reelforge.document.problems import show_value
from reelforge.errors import DocumentError, Problem
from reelforge.model.document import CURRENT_VERSION

Upgrader = Callable[[dict], dict]

# from-version -> (to-version, function). Version "1" is the first published format, so the chain is
# empty today; a version-2 format adds {"1": ("2", upgrade_1_to_2)} and moves CURRENT_VERSION.
UPGRADES: dict[str, tuple[str, Upgrader]] = {}


def document_version(data: dict) -> tuple[str | None, object]:
    """The JSON path of the version field and its value (inside `template` for a request body).

    The path is None for a request body whose `template` is not an object: validation reports that.
    """
    if "version" not in data and "template" in data:
        template = data["template"]
        return ("template.version", template.get("version")) if isinstance(template, dict) else (None, None)
    return "version", data.get("version")


def upgrade(data: dict, upgrades: dict[str, tuple[str, Upgrader]] | None = None, current: str = CURRENT_VERSION) -> dict:
    """Return `data` upgraded to `current`; raise DocumentError for a missing or unknown version."""
    chain = UPGRADES if upgrades is None else upgrades
    path, version = document_version(data)
    if path is None:
        return data
    if version is None:
        present = "version" in (data["template"] if path == "template.version" else data)
        message = f'must be a string such as "{current}", got null' if present else f'missing: add "version": "{current}"'
        raise DocumentError([Problem(path, message)])
    if not isinstance(version, str):
        raise DocumentError([Problem(path, f'must be a string such as "{current}", got {show_value(version)}')])
    seen = set()
    while version != current:
        if version not in chain:
            known = sorted({current, *chain})
            if _is_number(version) and _is_number(current) and int(version) > int(current):
                message = f"version {version} is newer than this reelforge understands (up to {current}): upgrade reelforge"
            else:
                message = f"unknown version {show_value(version)}; known versions: {', '.join(known)}"
            raise DocumentError([Problem(path, message)])
        if version in seen:
            raise DocumentError([Problem(path, f"upgrade chain loops at version {version}")])
        seen.add(version)
        target, step = chain[version]
        data = _with_version(step(data), path, target)
        version = target
    return data


def _is_number(version: str) -> bool:
    """Whether a version is a plain number of ASCII digits ("12"; not "²" or "①", which str.isdigit accepts)."""
    return version.isascii() and version.isdigit()


def _with_version(data: dict, path: str, version: str) -> dict:
    if path == "template.version":
        return {**data, "template": {**data["template"], "version": version}}
    return {**data, "version": version}

"""JSON paths such as `blocks[0].source.uploadName`, built from pydantic error locations."""

from __future__ import annotations

from typing import Any, Iterable

DISCRIMINATOR_KEYS = ("type", "card")


def format_path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def data_path(data: Any, loc: tuple) -> list[str | int]:
    """The part of a pydantic `loc` that names places in `data`, without union tags and member labels."""
    parts: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, list) and isinstance(part, int):
            parts.append(part)
            node = node[part] if 0 <= part < len(node) else None
        elif isinstance(node, dict):
            if _is_tag(node, part, index):
                continue  # a discriminated union's tag: {"type": "text", "text": ...} errors at (.., "text", "text")
            if part in node:
                parts.append(part)
                node = node[part]
            else:
                parts.append(part)  # a missing or unknown key: the end of the road
                break
        else:
            break  # a scalar: what follows labels union members ("float", "literal['auto']")
    return parts


def _is_tag(node: dict, part: Any, index: int) -> bool:
    if index == 0 and part in ("document", "request"):
        return True
    return any(node.get(key) == part for key in DISCRIMINATOR_KEYS)

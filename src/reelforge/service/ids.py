"""Object ids with a readable prefix (`rnd_…` a render, `evt_…` an event, `key_…` a key): prefix, then 20
characters of which the first eight grow with time (ids sort roughly by creation), the rest random."""

from __future__ import annotations

import secrets
import string
import time

_ALPHABET = string.digits + string.ascii_lowercase


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def new_id(prefix: str) -> str:
    stamp = _base36(int(time.time() * 1000), 9)
    return f"{prefix}_{stamp}{''.join(secrets.choice(_ALPHABET) for _ in range(13))}"


def looks_like(value: str, prefix: str) -> bool:
    body = value.removeprefix(prefix + "_")
    return value.startswith(prefix + "_") and len(body) == 22 and all(c in _ALPHABET for c in body)

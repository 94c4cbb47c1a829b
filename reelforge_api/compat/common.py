"""What the compatibility routers share: the server's own base URL for absolute links, the script writer called
off the event loop with its errors as service errors, JSON bodies, rate-limit headers in other spellings."""

from __future__ import annotations

import datetime as _dt
import math
import time
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from reelforge.service import Engine
from reelforge.service.errors import Invalid, Unavailable, UpstreamFailed
from reelforge_api.bodies import media_type, read_json, unsupported


def base_url(request: Request, engine: Engine) -> str:
    """The address links are made on: the operator's public URL, else the one this request came to."""
    return (engine.settings.public_url or str(request.base_url)).rstrip("/")


def iso(stamp: float | None) -> str | None:
    """Seconds since the epoch as ISO 8601 UTC without fractions (`2026-06-16T14:22:01Z`)."""
    if stamp is None:
        return None
    return _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def json_body(request: Request, engine: Engine) -> tuple[Any, str]:
    kind = media_type(request)
    if kind != "application/json" and not kind.endswith("+json"):
        raise unsupported(kind, "application/json")
    return await read_json(request, engine.settings.max_json_bytes)


def field_error(path: str, message: str, code: str = "invalid_request") -> Invalid:
    return Invalid(f"{path}: {message}", code=code, details={"errors": [{"path": path, "message": message}]})


async def write_script(engine: Engine, prompt: str, brief):
    """The operator's script writer's script for `prompt`: Invalid for a prompt it cannot use, Unavailable when
    its endpoint is down or slow, UpstreamFailed when it answers something that is not a script."""
    from reelforge.editing.script_writer import ScriptWriterError, WriterUnavailable

    writer = engine.settings.script_writer()
    try:
        return await run_in_threadpool(writer.write, prompt, brief)
    except WriterUnavailable as error:
        raise Unavailable(str(error), code="script_writer_unavailable") from None
    except ScriptWriterError as error:
        if writer.name != "outline" and not str(error).startswith("the prompt"):  # the model's answer is at fault
            raise UpstreamFailed(str(error), code="script_writer_failed") from None
        raise Invalid(str(error), code="invalid_prompt", details={"errors": [{"path": "prompt",
                                                                              "message": str(error)}]}) from None


def x_ratelimit_headers(request: Request) -> None:
    """Add `X-RateLimit-Limit/Remaining/Reset` (the reset as a Unix time) beside the `RateLimit-*` ones the key's
    limit set (TikVod's spelling)."""
    headers = request.scope["reelforge"]["headers"]
    if "RateLimit-Limit" in headers:
        headers["X-RateLimit-Limit"] = headers["RateLimit-Limit"]
        headers["X-RateLimit-Remaining"] = headers["RateLimit-Remaining"]
        headers["X-RateLimit-Reset"] = str(math.ceil(time.time()) + int(headers["RateLimit-Reset"]))

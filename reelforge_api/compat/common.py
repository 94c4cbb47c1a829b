"""What the compatibility routers share: the server's own base URL for absolute links, the script writer called
off the event loop with its errors as service errors, JSON bodies checked against their models, rate-limit
headers in other spellings."""

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


def first_error(path: str, error) -> dict[str, Any]:
    """An error's details as most of the APIs give them: the first problem, its path and message."""
    return {"errors": [{"path": path, "message": error.errors()[0].get("msg")}]}


def checked(model, data: Any, *, code: str = "invalid_request", details=first_error):
    """`data` as `model` (a pydantic model), or Invalid naming the first problem's path; `details(path, error)`
    gives the envelope's details in the API's own shape."""
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object", code="invalid_request")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first.get("loc", ())) or "(body)"
        raise Invalid(f"{path}: {first.get('msg')}", code=code, details=details(path, error)) from None


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

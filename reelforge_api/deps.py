"""Dependencies every route shares: the engine, the caller's key (Bearer or X-API-Key), the rate limits."""

from __future__ import annotations

from fastapi import Depends, Request

from reelforge.service import Engine
from reelforge.service.errors import Unauthorized
from reelforge.service.keys import ApiKey


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def presented_secret(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    value = request.headers.get("x-api-key")
    return value.strip() if value and value.strip() else None


def _authenticate(request: Request, engine: Engine) -> ApiKey:
    secret = presented_secret(request)
    if secret is None:
        raise Unauthorized("an API key is needed: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
                           code="missing_api_key")
    key = engine.keys.authenticate(secret)
    if key is None:
        raise Unauthorized("this API key is not valid (or was revoked)", code="invalid_api_key")
    decision = engine.admit(key)
    request.scope["reelforge"]["headers"].update(decision.headers())
    return key


async def api_key(request: Request, engine: Engine = Depends(get_engine)) -> ApiKey:
    """The caller's key, counted against its requests per minute. (A lookup by an indexed hash: done on the
    event loop, without a trip through the thread pool, which costs more than the query under load.)"""
    return _authenticate(request, engine)


async def optional_api_key(request: Request, engine: Engine = Depends(get_engine)) -> ApiKey | None:
    """The caller's key when one is sent (a signed download link needs none)."""
    if presented_secret(request) is None:
        return None
    return _authenticate(request, engine)


async def submitting_key(request: Request, key: ApiKey = Depends(api_key), engine: Engine = Depends(get_engine)) -> ApiKey:
    """The caller's key, also counted against its submissions per minute (whose headers the answer carries)."""
    decision = engine.admit(key, "submission")
    request.scope["reelforge"]["headers"].update(decision.headers())
    return key

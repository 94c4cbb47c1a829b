"""The FastAPI app: the engine started and stopped with it, the routers, the error envelope, request ids,
offline docs, and `GET /health` (no key needed)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPBearer

from reelforge import __version__
from reelforge.service import Engine, ServiceSettings
from reelforge_api import docs, errors, v1
from reelforge_api.middleware import RequestContext

DESCRIPTION = """Render narrated short videos from reelforge documents.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>` (make a key with `reelforge keys create`).
Errors answer `{"error": {"code", "message", "requestId", "details"}}`. Every answer carries `X-Request-Id` and,
for authenticated calls, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.

Webhooks: `render.queued`, `render.started`, `render.completed`, `render.failed`, `render.cancelled`, POSTed as
JSON `{id, type, createdAt, timestamp, attempt, data: {render}}` with `X-Reelforge-Signature: sha256=<hex>` (the
HMAC-SHA256 of the raw body with the job's webhook secret), `X-Reelforge-Timestamp` (also in the body) and
`X-Reelforge-Event`. Answer 2xx within 10 s; otherwise the event is sent again with exponential backoff. The
same event id may arrive more than once: de-duplicate by it.
"""


def create_app(settings: ServiceSettings, *, engine: Engine | None = None, port_file: Path | None = None,
               start_engine: bool = True) -> FastAPI:
    """The app over an engine (made from `settings` when not given), started when the app starts (unless the
    caller started it) and stopped when it stops."""
    engine = engine or Engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_engine:
            engine.start()
        for hook in getattr(app.state, "on_start", []):  # what a compatibility router resumes after a restart
            hook(app)
        if port_file is not None:
            from reelforge.fileio import write_atomic

            write_atomic(port_file, f"{engine.base_url.rsplit(':', 1)[-1]}\n")
        try:
            yield
        finally:
            engine.stop()

    app = FastAPI(title="reelforge", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  dependencies=[], swagger_ui_oauth2_redirect_url=None)
    app.state.engine = engine
    app.state.settings = settings
    app.add_middleware(RequestContext)
    errors.install(app)
    docs.install(app)
    app.include_router(v1.router, tags=["renders"])
    # The share page and the hosted services' contracts (issue 15): one router module each, all on this engine.
    from reelforge_api import share
    from reelforge_api.compat import install_all

    share.install(app)
    install_all(app)

    @app.get("/health", tags=["service"], summary="Health (no key needed)")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    _security_schemes(app)
    return app


def _security_schemes(app: FastAPI) -> None:
    """Both ways of sending a key, in the OpenAPI document (so the docs page's Authorize button offers them)."""
    original = app.openapi
    bearer, header = HTTPBearer(auto_error=False), APIKeyHeader(name="X-API-Key", auto_error=False)

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        components["securitySchemes"] = {"bearer": bearer.model.model_dump(mode="json", by_alias=True, exclude_none=True),
                                         "apiKey": header.model.model_dump(mode="json", by_alias=True, exclude_none=True)}
        for path, operations in schema.get("paths", {}).items():
            if path.startswith("/v1/") or path.startswith("/compat/"):
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

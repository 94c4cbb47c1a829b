"""One error envelope everywhere: `{"error": {"code", "message", "requestId", "details"}}` with the right status,
never a traceback or a server path."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelforge.service import errors as service_errors

_LOG = logging.getLogger("reelforge.api")

STATUS_OF: list[tuple[type[service_errors.ServiceError], int]] = [
    (service_errors.Unauthorized, 401),
    (service_errors.NotFound, 404),
    (service_errors.Conflict, 409),
    (service_errors.TooLarge, 413),
    (service_errors.UnsupportedMedia, 415),
    (service_errors.Invalid, 422),
    (service_errors.RateLimited, 429),
    (service_errors.Unavailable, 503),
    (service_errors.PaymentRequired, 402),
    (service_errors.UpstreamFailed, 502),
]
CODE_OF_STATUS = {400: "bad_request", 401: "unauthorized", 402: "payment_required", 404: "not_found",
                  405: "method_not_allowed", 409: "conflict", 410: "gone", 502: "upstream_failed",
                  503: "unavailable",
                  413: "too_large", 415: "unsupported_media_type", 422: "invalid_request", 429: "rate_limited",
                  500: "internal_error"}


class BadRequest(service_errors.ServiceError):
    """A body that is not what the route reads (malformed JSON, a broken multipart stream)."""

    code = "bad_request"


def status_of(error: service_errors.ServiceError) -> int:
    if isinstance(error, BadRequest):
        return 400
    for kind, status in STATUS_OF:
        if isinstance(error, kind):
            return status
    return 400


def request_id(request: Request) -> str | None:
    context = request.scope.get("reelforge")
    return context.get("request_id") if context else None


class EnvelopeMaker(Protocol):
    def __call__(self, request: Request, status: int, code: str, message: str, details: dict[str, Any],
                 headers: dict[str, str] | None) -> JSONResponse:
        ...


ENVELOPES: list[tuple[str, EnvelopeMaker]] = []  # (path prefix, maker): each compatibility API's own error shape


def register_envelope(prefix: str, maker: EnvelopeMaker) -> None:
    """Errors of requests under `prefix` (e.g. /compat/tikvod/) are answered by `maker` in that API's shape."""
    ENVELOPES[:] = [(p, m) for p, m in ENVELOPES if p != prefix] + [(prefix, maker)]
    ENVELOPES.sort(key=lambda item: -len(item[0]))


def envelope(request: Request, status: int, code: str, message: str, details: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    path = request.url.path
    for prefix, maker in ENVELOPES:
        if path.startswith(prefix):
            return maker(request, status, code, message, details or {}, headers)
    body = {"error": {"code": code, "message": message, "requestId": request_id(request), "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def service_error_response(request: Request, error: service_errors.ServiceError) -> JSONResponse:
    headers = {}
    if isinstance(error, service_errors.RateLimited):
        headers.update(error.headers)
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, service_errors.Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    engine = getattr(request.app.state, "engine", None)
    message = engine.public_text(error.message) if engine is not None else error.message
    return envelope(request, status_of(error), error.code, message, error.details, headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(service_errors.ServiceError)
    async def on_service_error(request: Request, error: service_errors.ServiceError) -> JSONResponse:
        return service_error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = CODE_OF_STATUS.get(error.status_code, "error")
        message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        if error.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        return envelope(request, error.status_code, code, message, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = []
        for item in error.errors():
            location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path", "header")]
            errors.append({"path": ".".join(location), "message": str(item.get("msg", "invalid"))})
        first = errors[0] if errors else {"path": "", "message": "invalid request"}
        return envelope(request, 422, "invalid_request", f"{first['path']}: {first['message']}".lstrip(": "),
                        {"errors": errors})

    @app.exception_handler(Exception)
    async def on_internal_error(request: Request, error: Exception) -> JSONResponse:
        _LOG.error("internal error on %s %s", request.method, request.url.path, exc_info=error)
        return envelope(request, 500, "internal_error", "internal error: the server could not answer this request")

"""What the engine refuses, as exceptions with a stable `code`; an HTTP layer maps each kind to its status."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request the engine refuses: `code` for programs, the message for people, `details` for both."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class Unauthorized(ServiceError):
    code = "unauthorized"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class Invalid(ServiceError):
    """A document or request that cannot be accepted; `details["errors"]` lists `{path, message}`."""

    code = "invalid_request"


class TooLarge(ServiceError):
    code = "too_large"


class UnsupportedMedia(ServiceError):
    code = "unsupported_media_type"


class RateLimited(ServiceError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.headers: dict[str, str] = {}
        self.details = {**self.details, "retryAfterSeconds": retry_after}


class Unavailable(ServiceError):
    code = "unavailable"


class PaymentRequired(ServiceError):
    """A key's quota (TikVod credits) is used up."""

    code = "insufficient_credits"


class UpstreamFailed(ServiceError):
    """A service the server relies on (the llm script writer) answered something unusable."""

    code = "upstream_failed"

"""Request ids and rate-limit headers on every answer (a plain ASGI middleware: it does not buffer bodies)."""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class RequestContext:
    """Gives each request an id (`X-Request-Id`, the client's own when it sends a sane one) and a context dict at
    `scope["reelforge"]` where dependencies leave headers (the rate limit's) for the answer."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        context = {"request_id": given if _CLIENT_ID.match(given) else "req_" + secrets.token_hex(10), "headers": {}}
        scope["reelforge"] = context

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = context["request_id"]
                for name, value in context["headers"].items():
                    if name not in headers:  # an error's own rate-limit headers win over the request's
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

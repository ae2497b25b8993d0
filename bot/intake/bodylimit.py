"""The most a request body may weigh, enforced by the app itself rather than only by a proxy.

A pure ASGI middleware around ``receive``: nothing happens until a route asks for the body, so
a route that refuses a sender from the headers (401) never reads it, whatever it declares.
When a route does ask, a declared ``Content-Length`` over the cap is refused before one byte is
read, and a chunked body is counted as it streams and refused as soon as it passes the cap, so
at most the cap and one chunk are ever held in memory.

Not Starlette's ``max_body_size``: it answers 413 in plain text, and it turns every answer to a
request that declares a large body into that 413, the 401 of a sender we never listened to
included. Here the refusal is an ``HTTPException``, so it is the app's usual JSON error.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.intake import limits

# Helpdesk webhooks are tens of kilobytes (a Jira issue with its comments a few hundred); a
# megabyte leaves room for all of them and is what deploy/nginx.conf lets through.
DEFAULT_MAX_BODY_BYTES = limits.BODY_BYTES
SETTING = "NPSBOT_HTTP_MAX_BODY_BYTES"


def too_large(limit: int) -> HTTPException:
    """The 413 for a body over ``limit`` bytes."""
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"the request body is larger than {limit} bytes, the most this server reads "
        f"({SETTING}); nothing was stored",
    )


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, reading no more than that."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared > self.max_bytes:
                raise too_large(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        await self.app(scope, limited, send)

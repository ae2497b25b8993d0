"""Who may post to the intake: a bearer token, or an HMAC signature over the raw body.

Both are checked in constant time and declared in the OpenAPI document. The signature is for
senders that can sign but not keep a bearer token secret in their UI: ``X-Npsbot-Signature:
sha256=<hex HMAC-SHA256(NPSBOT_GENERIC_WEBHOOK_SECRET, "<X-Npsbot-Timestamp>.<body>")>``, with
the timestamp in Unix seconds and no older than the allowed skew, so it cannot be replayed.

The guard runs before the body is read (``guarded_route``): FastAPI parses a route's JSON body
before it solves the route's dependencies, so a guard given as a dependency let anyone make the
server read and parse megabytes before their 401. Now a sender with neither a valid token nor
fresh signature headers is refused from the headers alone; only a signature check reads the
body, and then through the size cap (``bot.intake.bodylimit``).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, Final

from fastapi import FastAPI, HTTPException, Request, Response, status
from fastapi.routing import APIRoute

from bot.core.clock import Clock
from bot.intake.adapters import signatures
from bot.intake.adapters.base import SignatureError

SIGNATURE = "X-Npsbot-Signature"
TIMESTAMP = "X-Npsbot-Timestamp"

# Declared in the OpenAPI document by hand: the guard reads both headers itself, as one
# dependency rather than three (FastAPI's security classes cost about a tenth of the intake's
# time per request, docs/benchmarks.md).
SECURITY_SCHEMES: Final[dict[str, dict[str, str]]] = {
    "HTTPBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The value of NPSBOT_API_TOKEN",
    },
    "NpsbotSignature": {
        "type": "apiKey",
        "in": "header",
        "name": SIGNATURE,
        "description": (
            "sha256=<hex HMAC-SHA256(NPSBOT_GENERIC_WEBHOOK_SECRET, "
            "'<X-Npsbot-Timestamp>.<body>')>, with X-Npsbot-Timestamp in Unix seconds"
        ),
    },
}
# Either one will do.
SECURITY: Final[list[dict[str, list[str]]]] = [{name: []} for name in SECURITY_SCHEMES]
Guard = Callable[[Request], Awaitable[None]]


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme in any case), or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def document_security(app: FastAPI) -> None:
    """Add the intake's security schemes to ``app``'s OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes.update(SECURITY_SCHEMES)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def signature_headers(request: Request, *, clock: Clock, max_skew: timedelta) -> tuple[str, str]:
    """The signature and its timestamp, once both are present and the timestamp is fresh.

    Everything about a signed request that needs no body, so a stale or unsigned one is
    refused before its body is read. Raises ``SignatureError``.
    """
    given = signatures.require_header(request.headers, SIGNATURE)
    stamp = signatures.require_header(request.headers, TIMESTAMP)
    if not stamp.isascii() or not stamp.isdigit():
        raise SignatureError(f"{TIMESTAMP} must be Unix seconds")
    sent_at = signatures.parse_timestamp(stamp, what=TIMESTAMP)
    signatures.check_fresh(sent_at, now=clock(), max_skew=max_skew, what=TIMESTAMP)
    return given, stamp


def check_signed_body(given: str, stamp: str, body: bytes, *, secret: bytes) -> None:
    """Raise ``SignatureError`` unless ``given`` signs this timestamp and body."""
    signatures.check_hex(
        given,
        secret=secret,
        message=stamp.encode() + b"." + body,
        algorithm="sha256",
        what=SIGNATURE,
    )


def intake_guard(
    api_token: str | None,
    *,
    signing_secret: str | None = None,
    clock: Clock,
    max_skew: timedelta = timedelta(minutes=5),
) -> Guard:
    """A guard that lets a request through with the bearer token or a valid signature.

    503 when neither is configured: the operator must set NPSBOT_API_TOKEN (or
    NPSBOT_GENERIC_WEBHOOK_SECRET) before the intake accepts anything, and should see that
    rather than a puzzling 401.
    """

    expected = api_token.encode() if api_token else None

    async def guard(request: Request) -> None:
        if not api_token and not signing_secret:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "intake is disabled: NPSBOT_API_TOKEN is not set",
            )
        token = bearer_token(request)
        if (
            token is not None
            and expected is not None
            and hmac.compare_digest(token.encode("utf-8", "replace"), expected)
        ):
            return
        if request.headers.get(SIGNATURE) and signing_secret:
            try:
                given, stamp = signature_headers(request, clock=clock, max_skew=max_skew)
                # Only now, from a sender whose headers hold up, is the body read.
                body = await request.body()
                check_signed_body(given, stamp, body, secret=signing_secret.encode())
            except SignatureError as error:
                raise _unauthorized(str(error)) from error
            return
        raise _unauthorized("missing or wrong bearer token")

    return guard


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def guarded_route(guard: Guard) -> type[APIRoute]:
    """A route class that runs ``guard`` before FastAPI reads and parses the body.

    The documented way to wrap FastAPI's request handling (a custom ``APIRoute``): the
    handler that reads the body only runs once the guard has let the request through. The
    guard's ``request.body()`` is cached on the same request, so a signed body is read once.
    """

    class GuardedRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handle = super().get_route_handler()

            async def checked(request: Request) -> Response:
                await guard(request)
                return await handle(request)

            return checked

    return GuardedRoute

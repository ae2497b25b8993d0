"""Who may post to the intake: a bearer token, or an HMAC signature over the raw body.

Both are checked in constant time and declared in the OpenAPI document. The signature is for
senders that can sign but not keep a bearer token secret in their UI: ``X-Npsbot-Signature:
sha256=<hex HMAC-SHA256(NPSBOT_GENERIC_WEBHOOK_SECRET, "<X-Npsbot-Timestamp>.<body>")>``, with
the timestamp in Unix seconds and no older than the allowed skew, so it cannot be replayed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Final

from fastapi import FastAPI, HTTPException, Request, status

from bot.intake.adapters import signatures
from bot.intake.adapters.base import Clock, SignatureError

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


def verify_signed_body(
    request: Request, body: bytes, *, secret: bytes, clock: Clock, max_skew: timedelta
) -> None:
    """Raise ``SignatureError`` unless the body carries a fresh, valid generic signature."""
    given = signatures.require_header(request.headers, SIGNATURE)
    stamp = signatures.require_header(request.headers, TIMESTAMP)
    if not stamp.isascii() or not stamp.isdigit():
        raise SignatureError(f"{TIMESTAMP} must be Unix seconds")
    signatures.check_hex(
        given,
        secret=secret,
        message=stamp.encode() + b"." + body,
        algorithm="sha256",
        what=SIGNATURE,
    )
    sent_at = signatures.parse_timestamp(stamp, what=TIMESTAMP)
    signatures.check_fresh(sent_at, now=clock(), max_skew=max_skew, what=TIMESTAMP)


def intake_guard(
    api_token: str | None,
    *,
    signing_secret: str | None = None,
    clock: Clock,
    max_skew: timedelta = timedelta(minutes=5),
) -> Guard:
    """A dependency that lets a request through with the bearer token or a valid signature.

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
                verify_signed_body(
                    request,
                    await request.body(),
                    secret=signing_secret.encode(),
                    clock=clock,
                    max_skew=max_skew,
                )
            except SignatureError as error:
                raise _unauthorized(str(error)) from error
            return
        raise _unauthorized("missing or wrong bearer token")

    return guard

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
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from bot.intake.adapters import signatures
from bot.intake.adapters.base import Clock, SignatureError

SIGNATURE = "X-Npsbot-Signature"
TIMESTAMP = "X-Npsbot-Timestamp"

_bearer = HTTPBearer(auto_error=False, description="The value of NPSBOT_API_TOKEN")
_signature = APIKeyHeader(
    name=SIGNATURE,
    auto_error=False,
    scheme_name="NpsbotSignature",
    description=(
        "sha256=<hex HMAC-SHA256(NPSBOT_GENERIC_WEBHOOK_SECRET, '<X-Npsbot-Timestamp>.<body>')>"
        ", with X-Npsbot-Timestamp in Unix seconds"
    ),
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Signature = Annotated[str | None, Depends(_signature)]
Guard = Callable[[Request, Credentials, Signature], Awaitable[None]]


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

    async def guard(request: Request, credentials: Credentials, signature: Signature) -> None:
        if not api_token and not signing_secret:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "intake is disabled: NPSBOT_API_TOKEN is not set",
            )
        if credentials is not None and api_token:
            given = credentials.credentials.encode("utf-8", "replace")
            if hmac.compare_digest(given, api_token.encode()):
                return
        if signature and signing_secret:
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

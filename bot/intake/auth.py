"""Bearer-token check for the intake, in constant time, declared in the OpenAPI document."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="The value of NPSBOT_API_TOKEN")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def bearer_guard(expected: str | None) -> Callable[[Credentials], Awaitable[None]]:
    """A dependency that lets a request through only with the configured token.

    503 when no token is configured: the operator must set NPSBOT_API_TOKEN before the intake
    accepts anything, and should see that rather than a puzzling 401.
    """

    async def guard(credentials: Credentials) -> None:
        if not expected:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "intake is disabled: NPSBOT_API_TOKEN is not set",
            )
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or wrong bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return guard

"""A database outage at the intake: 503 with ``Retry-After``, never a 500.

Helpdesks retry a webhook that fails with 503, and every intake is idempotent (same ticket, same
closing time, same survey), so asking for a retry loses nothing. A request fails before its
transaction commits, so nothing is half-written. The engine's ``pool_pre_ping`` replaces dead
connections, so the intake recovers by itself once the database is back.

Only the exception's type is logged: a driver's message may quote SQL parameters.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot import resilience
from bot.intake.schemas import ErrorOut

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
MESSAGE = "the database is unavailable: retry later (a retry of this request is safe)"
RETRY_AFTER_HEADER: dict[str, object] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    }
}


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached, rather than a bug: the same
    judgement the update handlers use (``bot.resilience.is_outage``)."""
    return resilience.is_outage(error)


def unavailable() -> JSONResponse:
    """The 503 answer a helpdesk will retry."""
    return JSONResponse(
        ErrorOut(error=MESSAGE).model_dump(exclude_defaults=True),
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    if not is_outage(error):
        raise error  # a genuine bug: let it be the 500 it is, with its traceback
    logger.warning(
        "database unavailable (%s) at %s: answered 503", type(error).__name__, request.url.path
    )
    return unavailable()


def answer_outages_with_503(app: FastAPI) -> None:
    """Register the handler for every exception an unreachable database raises."""
    for kind in (DBAPIError, PoolTimeoutError, OSError):
        app.add_exception_handler(kind, _database_error)

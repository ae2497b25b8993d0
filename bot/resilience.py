"""Riding out a database outage in update handlers and scheduled jobs.

In polling mode Telegram considers an update delivered once the next ``getUpdates`` asks past
it, so a handler that fails on a dead database would drop the client's answer. The wrapper
retries the handler with backoff until the database is back (up to ``patience``). In webhook
mode patience is short and a failure is reported, so the route answers 503 and Telegram
delivers the update again later.

A scheduled job is not retried here: a sweep runs again seconds later and does the same work.
What it needs is a quiet log (``JobOutage``): each failed run was an ERROR with a traceback,
several a second, which buried everything else for as long as the database was away.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger(__name__)

# Errors that mean "the database is not there right now", not "this update is bad".
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)

UpdateT = TypeVar("UpdateT")
ContextT = TypeVar("ContextT")
ResultT = TypeVar("ResultT")


@dataclass(slots=True)
class UpdateOutcome:
    """Set by the webhook route before handling; the wrapper marks an update it gave up on."""

    gave_up: bool = False


current_outcome: contextvars.ContextVar[UpdateOutcome | None] = contextvars.ContextVar(
    "current_outcome", default=None
)


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database is unreachable (as opposed to a bug or bad data).

    Besides lost connections: any ``OSError`` from the driver (a failed DNS lookup of the
    database host is a ``socket.gaierror``), a full connection pool, and a ``DBAPIError`` raised
    while connecting, before any statement (e.g. "the database system is starting up").
    """
    if isinstance(error, DBAPIError) and (error.connection_invalidated or error.statement is None):
        return True
    if isinstance(error, (*OUTAGE_ERRORS, PoolTimeoutError, OSError)):
        return True
    return isinstance(error.__cause__, (*OUTAGE_ERRORS, OSError))


@dataclass(frozen=True, slots=True)
class OutagePolicy:
    """How long a handler waits for the database, and how often it tries again."""

    patience: timedelta = timedelta(minutes=15)
    first_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def wrap(
        self, callback: Callable[[UpdateT, ContextT], Coroutine[Any, Any, ResultT]]
    ) -> Callable[[UpdateT, ContextT], Coroutine[Any, Any, ResultT]]:
        """The handler callback, retried while the database is out."""

        async def patient(update: UpdateT, context: ContextT) -> ResultT:
            delay, waited = self.first_delay, 0.0
            while True:
                try:
                    return await callback(update, context)
                except Exception as error:
                    if not is_outage(error):
                        raise
                    if waited >= self.patience.total_seconds():
                        outcome = current_outcome.get()
                        if outcome is not None:
                            outcome.gave_up = True
                        logger.error(  # noqa: TRY400  (no traceback: SQL errors quote data)
                            "database unavailable; gave up on an update after %.0fs", waited
                        )
                        raise
                    logger.warning(
                        "database unavailable (%s); retrying the update in %.1fs",
                        type(error).__name__,
                        delay,
                    )
                    await self.sleep(delay)
                    waited += delay
                    delay = min(delay * 2, self.max_delay)

        return patient


@dataclass(slots=True)
class JobOutage:
    """One scheduled job's account of an outage: a WARNING as it starts, an INFO as it ends.

    ``run`` swallows only a recognised outage; any other error is raised, for the scheduler's
    error handler to log as an ERROR with its traceback.
    """

    name: str
    failed_runs: int = 0  # runs lost to the outage under way; 0 while the database is there

    async def run(self, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` once, logging only the first and the last run of an outage."""
        try:
            await job()
        except Exception as error:
            if not is_outage(error):
                raise
            if not self.failed_runs:
                logger.warning(
                    "%s: the database is unavailable (%s); the job runs again on schedule, "
                    "and says when the database is back",
                    self.name,
                    type(error).__name__,
                )
            self.failed_runs += 1
            return
        if self.failed_runs:
            logger.info(
                "%s: the database is back after %d failed runs", self.name, self.failed_runs
            )
            self.failed_runs = 0

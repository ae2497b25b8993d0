"""Recording what became of each claimed call: sent, to retry, or given up.

Results that come in together share one transaction (``GroupCommit``), so a dispatcher with many
calls in flight does not pay a commit per message. A result is recorded no matter how long the
database is away: the message is out, and a row left ``sending`` would be handed back and sent
again. Only a stopping process gives up waiting (its claims are handed back at the next start,
the documented crash window).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.batching import GroupCommit
from bot.core.clock import Clock
from bot.delivery.policy import Decision
from bot.resilience import is_outage
from storage import outbox
from storage.db import SessionFactory
from storage.outbox import ClaimedCall

logger = logging.getLogger(__name__)

DeliveredHook = Callable[[AsyncSession, ClaimedCall, int | None, datetime], Awaitable[None]]
# The same for a batch of ``(call, message id)``, where one statement does for all of them.
DeliveredManyHook = Callable[
    [AsyncSession, Sequence[tuple[ClaimedCall, int | None]], datetime], Awaitable[None]
]
FailedHook = Callable[[AsyncSession, ClaimedCall, Decision, datetime], Awaitable[None]]
# Told the results of each committed batch (the metrics): once per result, never for a rollback.
ResultObserver = Callable[[Sequence["Result"]], None]


@dataclass(frozen=True, slots=True)
class PurposeHooks:
    """What the rest of the app wants to hear about calls of one purpose (e.g. "survey")."""

    delivered: DeliveredHook | None = None
    failed: FailedHook | None = None
    delivered_many: DeliveredManyHook | None = None  # preferred over ``delivered`` when set


class Fate(enum.Enum):
    """What happened to a call."""

    SENT = "sent"
    LATER = "later"  # back to the queue until a time
    FAILED = "failed"  # never again


@dataclass(frozen=True, slots=True)
class Result:
    """One call's outcome, as the dispatcher saw it."""

    call: ClaimedCall
    fate: Fate
    message_id: int | None = None
    retry_in: float = 0.0
    reason: str = ""
    counts: bool = False  # a retry that uses up an attempt (a flood wait does not)
    decision: Decision | None = None

    @classmethod
    def sent(cls, call: ClaimedCall, message_id: int | None) -> Result:
        """Telegram has it."""
        return cls(call, Fate.SENT, message_id=message_id)

    @classmethod
    def later(cls, call: ClaimedCall, seconds: float, reason: str, *, counts: bool) -> Result:
        """Try again in ``seconds``."""
        return cls(call, Fate.LATER, retry_in=seconds, reason=reason, counts=counts)

    @classmethod
    def failed(cls, call: ClaimedCall, decision: Decision) -> Result:
        """Given up for good."""
        return cls(call, Fate.FAILED, reason=decision.reason, decision=decision)


@dataclass(slots=True)
class Recorder:
    """Writes results, several per transaction, and retries through a database outage."""

    session_factory: SessionFactory
    clock: Clock
    hooks: Mapping[str, PurposeHooks] = field(default_factory=dict)
    patience_when_stopping: timedelta = timedelta(seconds=10)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    stopping: bool = False
    observer: ResultObserver | None = None
    _commit: GroupCommit[Result, None] = field(init=False)

    def __post_init__(self) -> None:
        self._commit = GroupCommit(self._write, writers=2)

    async def record(self, result: Result) -> bool:
        """Record ``result``; False only if it could not be written (the row stays claimed)."""
        delay, waited = 0.5, 0.0
        while not self.stopping or waited < self.patience_when_stopping.total_seconds():
            try:
                await self._commit.submit(result)
            except Exception as error:
                if not is_outage(error):
                    logger.exception("recording outbox %d failed", result.call.id)
                    return False
                logger.warning(
                    "the database is unavailable (%s); recording outbox %d again in %.1fs",
                    type(error).__name__,
                    result.call.id,
                    delay,
                )
                await self.sleep(delay)
                waited += delay
                delay = min(delay * 2, 30.0)
            else:
                return True
        logger.error(
            "outbox %d: the database is still away at shutdown; the call may be made again "
            "after the restart",
            result.call.id,
        )
        return False

    async def _write(self, results: Sequence[Result]) -> list[None]:
        now = self.clock()
        async with self.session_factory() as session:
            sent = [result for result in results if result.fate is Fate.SENT]
            await outbox.mark_sent_many(
                session, delivered=[(r.call.id, r.message_id) for r in sent], now=now
            )
            await self._delivered(session, sent, now)
            for result in results:
                if result.fate is not Fate.SENT:
                    await self._apply(session, result, now)
            await session.commit()
        if self.observer is not None:
            try:
                self.observer(results)
            except Exception:  # counting must never make a recorded result look unrecorded
                logger.exception("counting %d outbox results failed", len(results))
        return [None] * len(results)

    async def _delivered(self, session: AsyncSession, sent: list[Result], now: datetime) -> None:
        """Tell each purpose what Telegram took: a batch at once where the purpose can."""
        by_purpose: dict[str, list[Result]] = {}
        for result in sent:
            by_purpose.setdefault(result.call.purpose, []).append(result)
        for purpose, group in by_purpose.items():
            hooks = self.hooks.get(purpose)
            if hooks is None:
                continue
            if hooks.delivered_many is not None:
                await hooks.delivered_many(session, [(r.call, r.message_id) for r in group], now)
            elif hooks.delivered is not None:
                for result in group:
                    await hooks.delivered(session, result.call, result.message_id, now)

    async def _apply(self, session: AsyncSession, result: Result, now: datetime) -> None:
        """A retry or a give-up (rare next to deliveries, so one call at a time)."""
        call, hooks = result.call, self.hooks.get(result.call.purpose)
        if result.fate is Fate.LATER:
            await outbox.mark_retry(
                session,
                outbox_id=call.id,
                not_before=now + timedelta(seconds=result.retry_in),
                error=result.reason,
                count=result.counts,
            )
        else:
            assert result.decision is not None  # noqa: S101  (Result.failed sets it)
            await outbox.mark_failed(session, outbox_id=call.id, error=result.reason)
            if hooks and hooks.failed:
                await hooks.failed(session, call, result.decision, now)

    async def aclose(self) -> None:
        """Let the writes in flight finish."""
        await self._commit.aclose()

"""The outbox dispatcher: claims stored calls, paces them under flood limits, records results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.ratelimit import FloodGate
from bot.delivery.policy import Cause, Decision, Verdict, judge
from bot.delivery.telegram import Sender
from storage import outbox
from storage.db import SessionFactory
from storage.outbox import ClaimedCall

logger = logging.getLogger(__name__)

DeliveredHook = Callable[[AsyncSession, ClaimedCall, int | None, datetime], Awaitable[None]]
FailedHook = Callable[[AsyncSession, ClaimedCall, Decision, datetime], Awaitable[None]]
Clock = Callable[[], datetime]

# A claimed call older than this belongs to a process that died. Batches are small enough
# (batch_size calls, each bounded by PTB's timeouts) to finish well within it.
STALE_CLAIM = timedelta(minutes=10)
HOUSEKEEPING_EVERY = 60.0  # seconds between releases of stale claims and flood-window cleanup


def utc_now() -> datetime:
    """The wall clock, aware and in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PurposeHooks:
    """What the rest of the app wants to hear about calls of one purpose (e.g. "survey")."""

    delivered: DeliveredHook | None = None
    failed: FailedHook | None = None


@dataclass(slots=True)
class Dispatcher:
    """Drains the outbox: one loop per process, woken at once when something is enqueued."""

    session_factory: SessionFactory
    sender: Sender
    gate: FloodGate = field(default_factory=FloodGate)
    hooks: Mapping[str, PurposeHooks] = field(default_factory=dict)
    max_age: timedelta = timedelta(hours=24)
    batch_size: int = 20
    # Calls in flight at once. 1 keeps the crash window to a single message; paid broadcasts
    # (up to 1,000 msg/s) need more, and then up to this many may go twice after a crash.
    concurrency: int = 1
    poll_interval: float = 1.0
    clock: Clock = utc_now
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _next_housekeeping: float = 0.0

    def wake(self) -> None:
        """Tell the loop there is new work (called after a commit that enqueued calls)."""
        self._wakeup.set()

    async def run(self) -> None:
        """Loop until ``stop``; a failing round is logged and retried, never fatal."""
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self._housekeeping()
                handled = await self.drain_once()
            except Exception:
                logger.exception("outbox round failed; retrying")
                handled = 0
            if handled == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_interval)

    def stop(self) -> None:
        """Finish the call in flight and leave the loop."""
        self._stopping = True
        self._wakeup.set()

    async def _housekeeping(self) -> None:
        """Hand back calls a dead process claimed; forget flood windows of quiet chats."""
        monotonic = time.monotonic()
        if monotonic < self._next_housekeeping:
            return
        self._next_housekeeping = monotonic + HOUSEKEEPING_EVERY
        self.gate.forget_idle(monotonic)
        async with self.session_factory() as session:
            released = await outbox.release_stale(session, now=self.clock(), older_than=STALE_CLAIM)
        if released:
            logger.warning("re-queued %d outbox calls left claimed by a stopped process", released)

    async def drain_once(self, *, only_ids: Collection[int] | None = None) -> int:
        """Claim one batch and make its calls in order; return how many were attempted."""
        async with self.session_factory() as session:
            batch = await outbox.claim_batch(
                session, now=self.clock(), limit=self.batch_size, only_ids=only_ids
            )
        waiting = list(batch)  # one call per chat: calls of a batch never share a chat

        async def worker() -> None:
            while waiting and not self._stopping:
                await self._attempt(waiting.pop(0))

        workers = max(1, min(self.concurrency, len(waiting)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        if waiting:  # stopping: hand back what was not started
            await self._release(waiting)
        return len(batch)

    async def deliver(self, outbox_ids: Collection[int], *, within: float) -> int:
        """Deliver just these calls, for one-shot commands that run beside the bot.

        Returns how many are still undelivered after ``within`` seconds (a running bot will
        deliver those; the claim makes sure only one of the two sends each).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            await self.drain_once(only_ids=outbox_ids)
            async with self.session_factory() as session:
                left = await outbox.pending_count(session, only_ids=outbox_ids)
            if left == 0 or loop.time() >= deadline:
                return left
            await asyncio.sleep(min(self.poll_interval, 0.2))

    async def _release(self, calls: list[ClaimedCall]) -> None:
        async with self.session_factory() as session:
            for call in calls:
                await outbox.mark_retry(
                    session,
                    outbox_id=call.id,
                    not_before=self.clock(),
                    error="shutdown",
                    count=False,
                )
            await session.commit()

    async def _attempt(self, call: ClaimedCall) -> None:
        chat_wait = self.gate.chat_wait(call.chat_id, time.monotonic())
        if chat_wait > 0:
            await self._postpone(call, chat_wait, "chat flood limit", count=False)
            return
        while (global_wait := self.gate.global_wait(time.monotonic())) > 0:  # noqa: ASYNC110  (pacing, not waiting for an event)
            await asyncio.sleep(global_wait)
        self.gate.book(call.chat_id, time.monotonic())
        try:
            message_id = await self.sender(call)
        except Exception as error:
            age = self.clock() - call.created_at
            decision = judge(error, attempts=call.attempts, age=age, max_age=self.max_age)
            await self._settle_failure(call, decision)
            return
        await self._settle_success(call, message_id)

    async def _postpone(self, call: ClaimedCall, delay: float, reason: str, *, count: bool) -> None:
        async with self.session_factory() as session:
            await outbox.mark_retry(
                session,
                outbox_id=call.id,
                not_before=self.clock() + timedelta(seconds=delay),
                error=reason,
                count=count,
            )
            await session.commit()

    async def _settle_success(self, call: ClaimedCall, message_id: int | None) -> None:
        now = self.clock()
        async with self.session_factory() as session:
            await outbox.mark_sent(session, outbox_id=call.id, message_id=message_id, now=now)
            hooks = self.hooks.get(call.purpose)
            if hooks and hooks.delivered:
                await hooks.delivered(session, call, message_id, now)
            await session.commit()
        logger.debug("outbox %d delivered (%s %s)", call.id, call.purpose, call.method)

    async def _settle_failure(self, call: ClaimedCall, decision: Decision) -> None:
        if decision.verdict is Verdict.DELIVERED:
            await self._settle_success(call, call.message_id)
            return
        if decision.verdict is Verdict.FLOOD:
            self.gate.pause(call.chat_id, time.monotonic() + decision.delay)
            await self._postpone(call, decision.delay, decision.reason, count=False)
            logger.info("outbox %d hit a flood limit; waiting %.1fs", call.id, decision.delay)
            return
        if decision.verdict is Verdict.RETRY:
            await self._postpone(call, decision.delay, decision.reason, count=True)
            logger.warning(
                "outbox %d failed (%s); retry in %.1fs", call.id, decision.reason, decision.delay
            )
            return
        now = self.clock()
        async with self.session_factory() as session:
            await outbox.mark_failed(session, outbox_id=call.id, error=decision.reason)
            hooks = self.hooks.get(call.purpose)
            if hooks and hooks.failed:
                await hooks.failed(session, call, decision, now)
            await session.commit()
        # A client who has not started the bot yet is a normal state, not an operator's problem.
        level = logging.INFO if decision.cause is Cause.NO_CHAT else logging.WARNING
        logger.log(level, "outbox %d (%s) given up: %s", call.id, call.purpose, decision.reason)

"""The outbox dispatcher: claims stored calls, paces them under flood limits, records results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.clock import Clock, utc_now
from bot.core.ratelimit import FloodGate
from bot.delivery.policy import Cause, Decision, Verdict, judge
from bot.delivery.results import PurposeHooks, Recorder, Result, ResultObserver
from bot.delivery.telegram import Sender
from bot.resilience import JobOutage
from storage import outbox
from storage.db import SessionFactory
from storage.outbox import ClaimedCall, Priority

logger = logging.getLogger(__name__)

__all__ = ["Dispatcher", "PurposeHooks"]

# A claimed call older than this belongs to a process that died. Batches are small enough
# (batch_size calls, each bounded by PTB's timeouts) to finish well within it.
STALE_CLAIM = timedelta(minutes=10)
HOUSEKEEPING_EVERY = 60.0  # seconds between releases of stale claims and flood-window cleanup
ROUND_CLAIMS = 50  # batches per round before housekeeping gets its turn
# While a round is busy with a backlog, a reply queued meanwhile is claimed on its own at once
# (``wake``), but not more often than this: each such claim is one more query.
QUICK_CLAIM_EVERY = 0.05


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
    observer: ResultObserver | None = None  # hears every recorded result (the metrics)
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _next_housekeeping: float = 0.0
    # Claimed by this process and not yet recorded: never "stale", however long that takes.
    _in_flight: set[int] = field(default_factory=set)
    _recorder: Recorder = field(init=False)
    _outage: JobOutage = field(default_factory=lambda: JobOutage("outbox"))
    # Interactive calls waiting for a slot of the global budget: bulk calls let them go first.
    _replies_pacing: int = 0
    _next_quick_claim: float = 0.0

    def __post_init__(self) -> None:
        self._recorder = Recorder(
            self.session_factory, self.clock, self.hooks, observer=self.observer
        )

    def set_hooks(self, hooks: Mapping[str, PurposeHooks]) -> None:
        """What each purpose wants to hear (wired after the services that provide them)."""
        self.hooks = hooks
        self._recorder.hooks = hooks

    def wake(self) -> None:
        """Tell the loop there is new work (called after a commit that enqueued calls)."""
        self._wakeup.set()

    async def run(self) -> None:
        """Loop until ``stop``; a failing round is logged and retried, never fatal."""
        handled = 0

        async def one_round() -> None:
            nonlocal handled
            await self._housekeeping()
            handled = await self.drain_once(batches=ROUND_CLAIMS)

        while not self._stopping:
            self._wakeup.clear()
            handled = 0
            try:  # an outage is one WARNING as it starts and one INFO as it ends
                await self._outage.run(one_round)
            except Exception:
                logger.exception("outbox round failed; retrying")
            if handled == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_interval)
        await self._recorder.aclose()

    def stop(self) -> None:
        """Finish the calls in flight, record them, and leave the loop."""
        self._stopping = True
        self._recorder.stopping = True
        self._wakeup.set()

    async def _housekeeping(self) -> None:
        """Hand back calls a dead process claimed; forget flood windows of quiet chats."""
        monotonic = time.monotonic()
        if monotonic < self._next_housekeeping:
            return
        self._next_housekeeping = monotonic + HOUSEKEEPING_EVERY
        self.gate.forget_idle(monotonic)
        async with self.session_factory() as session:
            released = await outbox.release_stale(
                session, now=self.clock(), older_than=STALE_CLAIM, keep=self._in_flight
            )
        if released:
            logger.warning("re-queued %d outbox calls left claimed by a stopped process", released)

    async def _claim(
        self, only_ids: Collection[int] | None, *, interactive_only: bool = False
    ) -> list[ClaimedCall]:
        limit = max(self.batch_size, 4 * self.concurrency)
        monotonic = time.monotonic()
        async with self.session_factory() as session:
            batch = await outbox.claim_batch(
                session,
                now=self.clock(),
                limit=limit,
                only_ids=only_ids,
                skip_chats=self.gate.held(monotonic),
                edits_held=self.gate.edits_held(monotonic),
                interactive_only=interactive_only,
            )
        self._in_flight.update(call.id for call in batch)
        return batch

    async def drain_once(self, *, only_ids: Collection[int] | None = None, batches: int = 1) -> int:
        """Make due calls, up to ``batches`` claims of them; return how many were tried.

        ``concurrency`` workers take calls interactive first, then oldest first. With more
        than one batch, the next is claimed while the last calls of the one before are still
        being made, so the workers never wait for a claim; a claim never takes a chat with a
        call in flight, so each chat's order holds, and calls of different chats may be taken
        in any order. A reply queued while the round works through a backlog (``wake``) is
        claimed on its own at once and goes before the bulk calls already claimed.
        """
        self._wakeup.clear()  # this claim takes everything committed so far
        first = await self._claim(only_ids)
        replies, bulk = _by_priority(first)  # popped from the end: replies first, oldest first
        tried, claims = 0, 1
        more = bool(first) and batches > 1
        refill: asyncio.Task[None] | None = None

        async def claim_more(*, interactive_only: bool) -> None:
            nonlocal more, claims
            self._wakeup.clear()
            if not interactive_only:
                claims += 1
            try:
                batch = await self._claim(only_ids, interactive_only=interactive_only)
            except Exception as error:  # the round ends; run() tries again
                logger.warning("claiming outbox calls failed (%s)", error_name(error))
                batch = []
            if not interactive_only and (not batch or claims >= batches):
                more = False
            new_replies, new_bulk = _by_priority(batch)
            replies[:0] = new_replies  # newer than anything still waiting of their kind
            bulk[:0] = new_bulk

        def next_claim() -> asyncio.Task[None] | None:
            waiting = len(replies) + len(bulk)
            if more and waiting <= self.concurrency:
                return asyncio.create_task(claim_more(interactive_only=False))
            monotonic = time.monotonic()
            if waiting and self._wakeup.is_set() and monotonic >= self._next_quick_claim:
                self._next_quick_claim = monotonic + QUICK_CLAIM_EVERY
                return asyncio.create_task(claim_more(interactive_only=True))
            return None

        async def worker() -> None:
            nonlocal tried, refill
            while not self._stopping:
                if refill is None or refill.done():
                    refill = next_claim() or refill
                if not replies and not bulk:
                    if refill is None or refill.done():
                        return
                    await asyncio.shield(refill)
                    continue
                tried += 1
                await self._attempt(replies.pop() if replies else bulk.pop())

        workers = max(1, min(self.concurrency, len(first)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        if refill is not None:
            await refill
        if replies or bulk:  # stopping: hand back what was not started
            await self._release(replies + bulk)
        return tried

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
        self._in_flight.difference_update(call.id for call in calls)

    async def _attempt(self, call: ClaimedCall) -> None:
        try:
            result = await self._make(call)
            await self._recorder.record(result)
        finally:
            self._in_flight.discard(call.id)

    async def _make(self, call: ClaimedCall) -> Result:
        """Make the call under the flood limits; say what became of it."""
        edit = call.method in outbox.EDIT_METHODS
        chat_wait = self.gate.chat_wait(call.chat_id, time.monotonic(), edit=edit)
        if chat_wait > 0:
            return Result.later(call, chat_wait, "chat flood limit", counts=False)
        await self._global_turn(call)
        self.gate.book(call.chat_id, time.monotonic())
        try:
            message_id = await self.sender(call)
        except Exception as error:
            age = self.clock() - call.created_at
            return self._judged(
                call, judge(error, attempts=call.attempts, age=age, max_age=self.max_age)
            )
        logger.debug("outbox %d delivered (%s %s)", call.id, call.purpose, call.method)
        return Result.sent(call, message_id)

    async def _global_turn(self, call: ClaimedCall) -> None:
        """Wait for a slot of the global budget; a bulk call leaves it to a waiting reply.

        With several calls in flight, calls already waiting for the next slot would otherwise
        take it before a reply claimed after them; this way the reply gets the next one.
        """
        reply = call.priority == Priority.INTERACTIVE
        if reply:
            self._replies_pacing += 1
        try:
            while True:
                wait = self.gate.global_wait(time.monotonic())
                if wait <= 0 and (reply or self._replies_pacing == 0):
                    return
                # A slot is free but a reply wants it: look again once it had its turn.
                await asyncio.sleep(wait if wait > 0 else self.gate.interval / 4)
        finally:
            if reply:
                self._replies_pacing -= 1

    def _judged(self, call: ClaimedCall, decision: Decision) -> Result:
        if decision.verdict is Verdict.DELIVERED:
            return Result.sent(call, call.message_id)
        if decision.verdict is Verdict.FLOOD:
            self.gate.pause(call.chat_id, time.monotonic() + decision.delay)
            logger.info("outbox %d hit a flood limit; waiting %.1fs", call.id, decision.delay)
            return Result.later(call, decision.delay, decision.reason, counts=False)
        if decision.verdict is Verdict.RETRY:
            logger.warning(
                "outbox %d failed (%s); retry in %.1fs", call.id, decision.reason, decision.delay
            )
            return Result.later(call, decision.delay, decision.reason, counts=True)
        # A client who has not started the bot yet is a normal state, not an operator's problem.
        level = logging.INFO if decision.cause is Cause.NO_CHAT else logging.WARNING
        logger.log(level, "outbox %d (%s) given up: %s", call.id, call.purpose, decision.reason)
        return Result.failed(call, decision)


def _by_priority(batch: list[ClaimedCall]) -> tuple[list[ClaimedCall], list[ClaimedCall]]:
    """A claimed batch as replies and bulk calls, each newest first (workers pop the oldest)."""
    replies: list[ClaimedCall] = []
    bulk: list[ClaimedCall] = []
    for call in reversed(batch):
        (replies if call.priority == Priority.INTERACTIVE else bulk).append(call)
    return replies, bulk


def error_name(error: BaseException) -> str:
    """An error's type, for logs: its message may quote a statement's parameters."""
    return type(error).__name__

"""Dispatcher policy against a scripted sender: what is retried, waited out, or given up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.core.ratelimit import FloodGate, Limits
from bot.delivery.dispatcher import Dispatcher, PurposeHooks
from bot.delivery.policy import Cause, Decision
from bot.delivery.purposes import Purpose
from storage import outbox
from storage.db import SessionFactory
from storage.models import OutboxMessage
from storage.outbox import ClaimedCall, Priority


class ScriptedSender:
    """Answers each call with the next scripted outcome: an exception or a message id."""

    def __init__(self, outcomes: list[Exception | int]) -> None:
        self.outcomes: Iterator[Exception | int] = iter(outcomes)
        self.calls: list[ClaimedCall] = []

    async def __call__(self, call: ClaimedCall) -> int | None:
        self.calls.append(call)
        outcome = next(self.outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def queue(sessions: SessionFactory, clock: Clock, chat_id: int = 5) -> int:
    async with sessions() as session:
        row_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload={"text": "hi"},
            purpose="test",
            now=clock(),
        )
        await session.commit()
    return row_id


async def row(sessions: SessionFactory, row_id: int) -> OutboxMessage:
    async with sessions() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def test_transient_error_is_retried_later_then_delivered(sessions: SessionFactory) -> None:
    clock = Clock()
    sender = ScriptedSender([NetworkError("boom"), 42])
    dispatcher = Dispatcher(session_factory=sessions, sender=sender, clock=clock)
    row_id = await queue(sessions, clock)
    assert await dispatcher.drain_once() == 1
    stored = await row(sessions, row_id)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.not_before > clock.now
    assert await dispatcher.drain_once() == 0  # not due yet
    clock.now += timedelta(minutes=10)
    dispatcher.gate.forget_idle(float("inf"))
    assert await dispatcher.drain_once() == 1
    stored = await row(sessions, row_id)
    assert (stored.status, stored.message_id) == ("sent", 42)


async def test_flood_wait_is_honoured_and_not_counted(sessions: SessionFactory) -> None:
    clock = Clock()
    sender = ScriptedSender([RetryAfter(timedelta(seconds=7))])
    dispatcher = Dispatcher(session_factory=sessions, sender=sender, clock=clock)
    row_id = await queue(sessions, clock)
    await dispatcher.drain_once()
    stored = await row(sessions, row_id)
    assert stored.attempts == 0
    assert stored.not_before == clock.now + timedelta(seconds=7)


async def test_blocked_chat_is_given_up_and_reported(sessions: SessionFactory) -> None:
    clock = Clock()
    failures: list[Decision] = []

    async def failed(
        _session: object, _call: ClaimedCall, decision: Decision, _now: datetime
    ) -> None:
        failures.append(decision)

    dispatcher = Dispatcher(
        session_factory=sessions,
        sender=ScriptedSender([Forbidden("Forbidden: bot was blocked by the user")]),
        clock=clock,
        hooks={"test": PurposeHooks(failed=failed)},  # type: ignore[arg-type]
    )
    row_id = await queue(sessions, clock)
    await dispatcher.drain_once()
    assert (await row(sessions, row_id)).status == "failed"
    assert [d.cause for d in failures] == [Cause.BLOCKED]


async def test_not_modified_counts_as_delivered(sessions: SessionFactory) -> None:
    clock = Clock()
    dispatcher = Dispatcher(
        session_factory=sessions,
        sender=ScriptedSender(
            [BadRequest("Message is not modified: specified new message content")]
        ),
        clock=clock,
    )
    row_id = await queue(sessions, clock)
    await dispatcher.drain_once()
    assert (await row(sessions, row_id)).status == "sent"


async def test_outage_is_retried_until_the_call_is_too_old(sessions: SessionFactory) -> None:
    clock = Clock()
    failures: list[Decision] = []

    async def failed(
        _session: object, _call: ClaimedCall, decision: Decision, _now: datetime
    ) -> None:
        failures.append(decision)

    dispatcher = Dispatcher(
        session_factory=sessions,
        sender=ScriptedSender([NetworkError("down")] * 30),
        clock=clock,
        max_age=timedelta(hours=2),
        hooks={"test": PurposeHooks(failed=failed)},  # type: ignore[arg-type]
    )
    row_id = await queue(sessions, clock)
    for _ in range(20):  # twenty failures inside the two hours: still waiting, not lost
        await dispatcher.drain_once()
        clock.now += timedelta(minutes=5)
        dispatcher.gate.forget_idle(float("inf"))
    stored = await row(sessions, row_id)
    assert (stored.status, stored.attempts) == ("pending", 20)
    clock.now += timedelta(hours=1)
    await dispatcher.drain_once()
    assert (await row(sessions, row_id)).status == "failed"
    assert [d.cause for d in failures] == [Cause.EXPIRED]


async def test_second_message_to_a_private_chat_waits_a_second(sessions: SessionFactory) -> None:
    clock = Clock()
    sender = ScriptedSender([1, 2])
    dispatcher = Dispatcher(session_factory=sessions, sender=sender, clock=clock)
    await queue(sessions, clock)
    second = await queue(sessions, clock)
    await dispatcher.drain_once()  # the first message; the second waits behind it
    await dispatcher.drain_once()  # the second is due, but the chat had one this second
    assert len(sender.calls) == 1
    stored = await row(sessions, second)
    assert stored.status == "pending" and stored.attempts == 0
    assert stored.claimed_at is None  # left in the queue, not claimed only to be put back


class SlowSender:
    """Takes a while per call and records how many calls were in flight at once."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.sent: list[int] = []

    async def __call__(self, call: ClaimedCall) -> int | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        self.sent.append(call.id)
        return call.id


async def test_concurrent_calls_go_to_different_chats_and_keep_each_chats_order(
    sessions: SessionFactory,
) -> None:
    clock = Clock()
    sender = SlowSender()
    dispatcher = Dispatcher(session_factory=sessions, sender=sender, clock=clock, concurrency=4)
    dispatcher.gate = FloodGate(Limits(global_per_second=10_000))
    first = [await queue(sessions, clock, chat_id=chat) for chat in range(1, 9)]
    second = [await queue(sessions, clock, chat_id=chat) for chat in range(1, 9)]
    assert await dispatcher.drain_once() == 8  # one call per chat: the heads
    assert sorted(sender.sent) == first
    assert sender.most_in_flight == 4
    dispatcher.gate.forget_idle(float("inf"))  # past each private chat's 1 msg/s
    assert await dispatcher.drain_once() == 8
    assert sorted(sender.sent[8:]) == second
    for row_id in first + second:
        assert (await row(sessions, row_id)).status == "sent"


class FloodedChatSender:
    """Telegram answers 429 with ``retry_after`` to every call for one chat; others go through."""

    def __init__(self, flooded: int, retry_after: timedelta) -> None:
        self.flooded = flooded
        self.retry_after = retry_after
        self.calls: list[ClaimedCall] = []

    async def __call__(self, call: ClaimedCall) -> int | None:
        self.calls.append(call)
        if call.chat_id == self.flooded:
            raise RetryAfter(self.retry_after)
        return call.id

    def sent_to(self, chat_id: int) -> list[int]:
        return [call.id for call in self.calls if call.chat_id == chat_id]


async def drain(dispatcher: Dispatcher) -> int:
    """One round, which must not wait for any chat's flood limit (it fails rather than hang)."""
    return await asyncio.wait_for(dispatcher.drain_once(), timeout=10)


async def test_a_429_holds_back_only_its_chat(sessions: SessionFactory) -> None:
    clock = Clock()
    sender = FloodedChatSender(flooded=5, retry_after=timedelta(hours=1))
    dispatcher = Dispatcher(session_factory=sessions, sender=sender, clock=clock)
    dispatcher.gate = FloodGate(Limits(global_per_second=10_000, private_per_second=1_000))
    # The flooded chat's calls are the oldest, so its 429 comes before anyone else's call.
    flooded = [await queue(sessions, clock, chat_id=5) for _ in range(2)]
    others = {
        chat: [await queue(sessions, clock, chat_id=chat) for _ in range(3)]
        for chat in (6, 7, -100)
    }

    assert await drain(dispatcher) == 4  # every chat's head; chat 5's answers 429
    assert sender.sent_to(5) == flooded[:1]
    assert {chat: sender.sent_to(chat) for chat in others} == {
        chat: rows[:1] for chat, rows in others.items()
    }
    held = await row(sessions, flooded[0])
    assert (held.status, held.attempts) == ("pending", 0)  # a flood wait is not a failure
    assert held.not_before == clock.now + timedelta(hours=1)

    # Right after the 429 the other chats' next calls go out; chat 5 is not even claimed.
    assert await drain(dispatcher) == 3
    assert sender.sent_to(5) == flooded[:1]
    assert {chat: sender.sent_to(chat) for chat in others} == {
        chat: rows[:2] for chat, rows in others.items()
    }

    # Even if its row comes due (a clock moved on, a row released), the gate still holds the
    # chat for the rest of retry_after, and only that chat.
    clock.now += timedelta(hours=2)
    assert await drain(dispatcher) == 3  # chat 5 is not even claimed
    assert sender.sent_to(5) == flooded[:1]
    assert {chat: sender.sent_to(chat) for chat in others} == others
    for rows in others.values():
        for row_id in rows:
            assert (await row(sessions, row_id)).status == "sent"
    held = await row(sessions, flooded[0])
    assert (held.status, held.attempts, held.claimed_at) == ("pending", 0, None)  # left alone
    waiting = await row(sessions, flooded[1])  # behind its chat's head: still in order
    assert (waiting.status, waiting.attempts) == ("pending", 0)


async def test_a_round_claims_the_next_batch_while_the_last_calls_are_made(
    sessions: SessionFactory,
) -> None:
    clock = Clock()
    sender = SlowSender()
    dispatcher = Dispatcher(
        session_factory=sessions, sender=sender, clock=clock, concurrency=2, batch_size=5
    )
    dispatcher.gate = FloodGate(Limits(global_per_second=10_000))
    rows = [await queue(sessions, clock, chat_id=chat) for chat in range(1, 31)]

    assert await dispatcher.drain_once() == 8  # one batch: max(batch_size, 4 x concurrency)
    assert await dispatcher.drain_once(batches=10) == 22  # the rest, claimed as it went
    assert sorted(sender.sent) == rows  # each once
    assert sender.most_in_flight == 2
    assert await dispatcher.drain_once(batches=10) == 0


async def queue_as(sessions: SessionFactory, clock: Clock, chat_id: int, purpose: str) -> int:
    async with sessions() as session:
        row_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload={"text": "hi"},
            purpose=purpose,
            now=clock(),
        )
        await session.commit()
    return row_id


class ReplyingSender:
    """Sends; on its ``at``-th call a client's reply is queued and the dispatcher woken, as the
    answer path does while a broadcast is being sent."""

    def __init__(self, sessions: SessionFactory, clock: Clock, at: int) -> None:
        self.sessions, self.clock, self.at = sessions, clock, at
        self.sent: list[int] = []
        self.reply: int | None = None
        self.dispatcher: Dispatcher | None = None

    async def __call__(self, call: ClaimedCall) -> int | None:
        self.sent.append(call.id)
        if len(self.sent) == self.at:
            self.reply = await queue_as(self.sessions, self.clock, 999, Purpose.CLIENT)
            assert self.dispatcher is not None
            self.dispatcher.wake()
        await asyncio.sleep(0.001)
        return call.id


async def test_a_reply_queued_during_a_broadcast_goes_before_the_calls_already_claimed(
    sessions: SessionFactory,
) -> None:
    clock = Clock()
    sender = ReplyingSender(sessions, clock, at=2)
    dispatcher = Dispatcher(session_factory=sessions, sender=sender, clock=clock, batch_size=20)
    sender.dispatcher = dispatcher
    dispatcher.gate = FloodGate(Limits(global_per_second=10_000))
    surveys = [await queue_as(sessions, clock, chat, Purpose.SURVEY) for chat in range(1, 21)]

    assert await dispatcher.drain_once() == 21  # the one batch, and the reply claimed on its own
    assert sender.reply is not None
    # Without the quick claim the reply would wait for the next claim, after all twenty.
    assert sender.sent.index(sender.reply) <= 3
    assert sorted(set(sender.sent) - {sender.reply}) == surveys
    assert (await row(sessions, sender.reply)).status == "sent"


async def test_a_claim_with_replies_and_bulk_calls_makes_the_replies_first(
    sessions: SessionFactory,
) -> None:
    clock = Clock()
    sender = SlowSender()
    dispatcher = Dispatcher(session_factory=sessions, sender=sender, clock=clock)
    dispatcher.gate = FloodGate(Limits(global_per_second=10_000))
    surveys = [await queue_as(sessions, clock, chat, Purpose.SURVEY) for chat in range(1, 6)]
    replies = [await queue_as(sessions, clock, chat, Purpose.COMMAND) for chat in (-7, 8)]
    assert await dispatcher.drain_once() == 7
    assert sender.sent == [*replies, *surveys]


async def test_a_reply_takes_the_next_global_slot_before_bulk_calls_waiting_for_it() -> None:
    """With calls in flight at once, bulk calls already waiting for the global budget let a
    reply that arrives after them have the next slot."""
    order: list[int] = []

    async def sender(call: ClaimedCall) -> int | None:
        order.append(call.id)
        return call.id

    dispatcher = Dispatcher(
        session_factory=None,  # type: ignore[arg-type]  (_make touches no database)
        sender=sender,
        concurrency=4,
        gate=FloodGate(Limits(global_per_second=20)),
    )

    def call(row_id: int, priority: int) -> ClaimedCall:
        return ClaimedCall(
            id=row_id,
            method="sendMessage",
            chat_id=row_id,
            message_id=None,
            payload={},
            purpose="test",
            survey_id=None,
            attempts=0,
            created_at=datetime(2026, 11, 20, tzinfo=UTC),
            priority=priority,
        )

    await dispatcher._make(call(1, Priority.BULK))  # books the global slot: the next is later
    bulk = [asyncio.create_task(dispatcher._make(call(n, Priority.BULK))) for n in (2, 3)]
    await asyncio.sleep(0.005)  # both are waiting for the next slot
    reply = asyncio.create_task(dispatcher._make(call(4, Priority.INTERACTIVE)))
    await asyncio.gather(*bulk, reply)
    assert order[:2] == [1, 4]

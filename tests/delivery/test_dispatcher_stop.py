"""A dispatcher stopped in the middle of a batch hands back the calls it had not started.

They were claimed ("sending"), so without the hand-back they would wait for the stale-claim
timeout before the next process sent them; handed back, they are due at once and the attempt
that never happened is not counted against them. The e2e tests used to reach this only when a
restart happened to fall inside a batch.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.core.ratelimit import FloodGate, Limits
from bot.delivery.dispatcher import Dispatcher
from storage import outbox
from storage.db import SessionFactory
from storage.models import OutboxMessage
from storage.outbox import ClaimedCall

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHATS = (11, 12, 13)  # one call per chat: a claim takes the oldest call of each chat
NO_LIMITS = Limits(global_per_second=1e6, private_per_second=1e6, group_per_minute=1e6)


class StopsAtFirstCall:
    """Delivers the first call and asks its dispatcher to stop while doing so."""

    def __init__(self) -> None:
        self.dispatcher: Dispatcher | None = None
        self.calls: list[int] = []

    async def __call__(self, call: ClaimedCall) -> int | None:
        self.calls.append(call.id)
        assert self.dispatcher is not None
        self.dispatcher.stop()  # as NpsBot.stop does, from another task
        return 500 + call.id


async def test_calls_not_started_when_the_dispatcher_stops_are_due_again_uncounted(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        ids = [
            await outbox.enqueue(
                session,
                method="sendMessage",
                chat_id=chat_id,
                payload={"text": "hi"},
                purpose="test",
                now=NOW,
            )
            for chat_id in CHATS
        ]
        await session.commit()
    sender = StopsAtFirstCall()
    dispatcher = Dispatcher(
        session_factory=sessions, sender=sender, clock=lambda: NOW, gate=FloodGate(NO_LIMITS)
    )
    sender.dispatcher = dispatcher

    assert await dispatcher.drain_once() == 1  # the one in flight is finished and recorded

    async with sessions() as session:
        rows = {row.id: row for row in (await session.exec(select(OutboxMessage))).all()}
    (started,) = sender.calls
    assert rows[started].status == "sent"
    assert set(rows) == set(ids)
    handed_back = [row for row_id, row in rows.items() if row_id != started]
    assert len(handed_back) == 2
    for row in handed_back:
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, "shutdown")
        assert row.claimed_at is None and row.not_before == NOW
    async with sessions() as session:
        assert await outbox.pending_count(session, due_by=NOW) == 2  # due now, not after a timeout

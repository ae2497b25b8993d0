"""A message Telegram took is recorded as sent however long the database is away.

Before, a failed write left the row ``sending``; ten minutes later housekeeping handed it back
and the message went out a second time, with no crash at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.dispatcher import STALE_CLAIM, Dispatcher, PurposeHooks
from storage import outbox
from storage.db import SessionFactory
from storage.models import OutboxMessage
from storage.outbox import ClaimedCall

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Outage:
    """Sessions that fail to commit while ``down`` (as a dropped connection does)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.down = False
        self.failed_commits = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            if self.down:
                self.failed_commits += 1
                raise OperationalError("COMMIT", {}, ConnectionResetError())
            yield session


class OneShotSender:
    def __init__(self, on_send: object = None) -> None:
        self.sent: list[int] = []
        self.on_send = on_send

    async def __call__(self, call: ClaimedCall) -> int | None:
        self.sent.append(call.id)
        if callable(self.on_send):
            self.on_send()
        return 700 + len(self.sent)


async def queued(sessions: SessionFactory) -> int:
    async with sessions() as session:
        row_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=9,
            payload={"text": "hi"},
            purpose="survey",
            now=NOW,
        )
        await session.commit()
    return row_id


async def stored(sessions: SessionFactory, row_id: int) -> OutboxMessage:
    async with sessions() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None
        return row


async def test_a_sent_message_is_recorded_once_the_database_is_back(
    sessions: SessionFactory,
) -> None:
    outage = Outage(sessions)
    clock = {"now": NOW}
    delivered: list[int] = []

    async def hook(
        _session: AsyncSession, call: ClaimedCall, message_id: int | None, _now: datetime
    ) -> None:
        delivered.append(call.id)

    sender = OneShotSender(on_send=lambda: setattr(outage, "down", True))
    dispatcher = Dispatcher(
        session_factory=outage,  # type: ignore[arg-type]
        sender=sender,
        clock=lambda: clock["now"],
        hooks={"survey": PurposeHooks(delivered=hook)},
    )
    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 4:  # the database is back after a few tries
            outage.down = False
        clock["now"] += STALE_CLAIM  # housekeeping would call this claim stale by now

    dispatcher._recorder.sleep = nap
    row_id = await queued(sessions)

    assert await dispatcher.drain_once() == 1

    row = await stored(sessions, row_id)
    assert (row.status, row.message_id) == ("sent", 701)
    assert delivered == [row_id]
    assert outage.failed_commits == 4
    assert naps == [0.5, 1.0, 2.0, 4.0]  # backing off while it waits
    assert sender.sent == [row_id]  # once


async def test_housekeeping_keeps_the_calls_this_process_still_holds(
    sessions: SessionFactory,
) -> None:
    mine, theirs = await queued(sessions), await queued(sessions)
    async with sessions() as session:
        for row_id in (mine, theirs):
            row = await session.get(OutboxMessage, row_id)
            assert row is not None
            row.status, row.claimed_at = "sending", NOW
            session.add(row)
        await session.commit()
    later = NOW + STALE_CLAIM + timedelta(seconds=1)
    async with sessions() as session:
        released = await outbox.release_stale(
            session, now=later, older_than=STALE_CLAIM, keep={mine}
        )
    assert released == 1
    assert (await stored(sessions, mine)).status == "sending"
    assert (await stored(sessions, theirs)).status == "pending"


async def test_a_stopping_dispatcher_gives_up_waiting_and_says_so(
    sessions: SessionFactory,
) -> None:
    outage = Outage(sessions)
    sender = OneShotSender(on_send=lambda: setattr(outage, "down", True))
    dispatcher = Dispatcher(session_factory=outage, sender=sender, clock=lambda: NOW)  # type: ignore[arg-type]

    async def nap(_seconds: float) -> None:
        dispatcher.stop()  # asked to stop while the database is away

    dispatcher._recorder.sleep = nap
    row_id = await queued(sessions)
    await dispatcher.drain_once()
    assert (await stored(sessions, row_id)).status == "sending"  # handed back at the next start

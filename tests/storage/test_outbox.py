"""The outbox claim: order per chat, edits behind their target, one claimant per row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.core.tickets import CustomerInfo, TicketClosed
from storage import outbox, tickets
from storage.db import SessionFactory
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def add(sessions: SessionFactory, chat_id: int, text: str, **extra: object) -> int:
    async with sessions() as session:
        row_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload={"text": text},
            purpose="test",
            now=NOW,
            **extra,  # type: ignore[arg-type]
        )
        await session.commit()
    return row_id


async def test_claims_in_order_and_only_once(sessions: SessionFactory) -> None:
    first = await add(sessions, 1, "a")
    second = await add(sessions, 2, "b")
    async with sessions() as session:
        claimed = await outbox.claim_batch(session, now=NOW, limit=10)
    async with sessions() as session:
        again = await outbox.claim_batch(session, now=NOW, limit=10)
    assert [call.id for call in claimed] == [first, second]
    assert again == []


async def test_a_chat_waiting_out_a_retry_is_not_overtaken(sessions: SessionFactory) -> None:
    first = await add(sessions, 1, "first")
    await add(sessions, 1, "second")
    other = await add(sessions, 2, "other chat")
    async with sessions() as session:
        await outbox.mark_retry(
            session, outbox_id=first, not_before=NOW + timedelta(seconds=30), error="429"
        )
        await session.commit()
    async with sessions() as session:
        claimed = await outbox.claim_batch(session, now=NOW, limit=10)
    assert [call.id for call in claimed] == [other]


async def test_edit_waits_for_its_target_then_takes_its_message_id(
    sessions: SessionFactory,
) -> None:
    target = await add(sessions, -100, "alert")
    async with sessions() as session:
        edit = await outbox.enqueue(
            session,
            method="editMessageText",
            chat_id=-100,
            payload={"text": "alert + comment"},
            purpose="test",
            now=NOW,
            target_outbox_id=target,
        )
        await session.commit()
    async with sessions() as session:
        claimed = await outbox.claim_batch(session, now=NOW, limit=10)
    assert [call.id for call in claimed] == [target]
    async with sessions() as session:
        await outbox.mark_sent(session, outbox_id=target, message_id=77, now=NOW)
        await session.commit()
    async with sessions() as session:
        claimed = await outbox.claim_batch(session, now=NOW, limit=10)
    assert [(call.id, call.message_id) for call in claimed] == [(edit, 77)]


async def test_edit_of_a_failed_message_fails_too(sessions: SessionFactory) -> None:
    target = await add(sessions, -100, "alert")
    async with sessions() as session:
        edit = await outbox.enqueue(
            session,
            method="editMessageText",
            chat_id=-100,
            payload={"text": "x"},
            purpose="test",
            now=NOW,
            target_outbox_id=target,
        )
        await outbox.mark_failed(session, outbox_id=target, error="forbidden")
        await session.commit()
    async with sessions() as session:
        assert await outbox.claim_batch(session, now=NOW, limit=10) == []
        row = await session.get(OutboxMessage, edit)
        assert row is not None and row.status == outbox.OutboxStatus.FAILED


async def test_stale_claims_are_released_after_a_crash(sessions: SessionFactory) -> None:
    row_id = await add(sessions, 1, "a")
    async with sessions() as session:
        await outbox.claim_batch(session, now=NOW, limit=10)
    async with sessions() as session:
        assert (
            await outbox.release_stale(
                session, now=NOW + timedelta(seconds=5), older_than=timedelta(minutes=1)
            )
            == 0
        )
        assert (
            await outbox.release_stale(
                session, now=NOW + timedelta(minutes=2), older_than=timedelta(minutes=1)
            )
            == 1
        )
        assert await outbox.pending_count(session) == 1
    async with sessions() as session:
        assert [c.id for c in await outbox.claim_batch(session, now=NOW, limit=10)] == [row_id]


async def test_a_busy_chat_does_not_starve_the_others(sessions: SessionFactory) -> None:
    first = await add(sessions, -100, "alert 0")
    for number in range(1, 250):
        await add(sessions, -100, f"alert {number}")
    client = await add(sessions, 7, "survey question")
    async with sessions() as session:
        await outbox.mark_retry(
            session, outbox_id=first, not_before=NOW + timedelta(minutes=1), error="429"
        )
        await session.commit()
    async with sessions() as session:
        claimed = await outbox.claim_batch(session, now=NOW, limit=20)
    assert [call.id for call in claimed] == [client]


async def test_two_dispatchers_never_take_one_row_nor_break_a_chats_order(
    sessions: SessionFactory,
) -> None:
    rows = [await add(sessions, chat, f"m{n}") for n in range(3) for chat in (1, 2, 3)]

    async def claim() -> list[int]:
        async with sessions() as session:
            return [call.id for call in await outbox.claim_batch(session, now=NOW, limit=10)]

    first, second = await asyncio.gather(claim(), claim())
    taken = first + second
    assert len(taken) == len(set(taken)) == 3  # one head row per chat, each taken once
    assert set(taken) == set(rows[:3])
    assert await claim() == []  # the next rows wait until their chat's head is sent


async def test_a_call_withdrawn_while_in_flight_is_not_retried(sessions: SessionFactory) -> None:
    closing = TicketClosed("T-1", NOW, CustomerInfo(helpdesk_id="c-1", telegram_user_id=5))
    async with sessions() as session:
        record = await tickets.record_ticket_closed(session, event=closing, due_at=NOW, now=NOW)
    async with sessions() as session:
        row_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=5,
            payload={"text": "q"},
            purpose="survey",
            now=NOW,
            survey_id=record.survey_id,
        )
        await session.commit()
    async with sessions() as session:
        await outbox.claim_batch(session, now=NOW, limit=10)  # being sent now
    async with sessions() as session:  # the ticket is reopened meanwhile
        await outbox.withdraw(session, survey_ids=[record.survey_id], reason="ticket reopened")
        await outbox.mark_retry(  # then Telegram answers 429 for the in-flight call
            session, outbox_id=row_id, not_before=NOW, error="429", count=False
        )
        await session.commit()
    async with sessions() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None and row.status == "failed"
        assert await outbox.claim_batch(session, now=NOW + timedelta(minutes=1), limit=10) == []


async def test_a_claim_skips_rows_another_claim_holds_locked(sessions: SessionFactory) -> None:
    """PostgreSQL: while one dispatcher is between reading its rows and committing its claim,
    a second one takes the other chats' rows at once instead of waiting for its locks."""
    async with sessions() as probe:
        if probe.bind is None or probe.bind.dialect.name != "postgresql":
            pytest.skip("row locks are PostgreSQL's; SQLite writers take turns on the file")
    held = [await add(sessions, chat, "held") for chat in (1, 2)]
    free = [await add(sessions, chat, "free") for chat in (3, 4)]
    async with sessions() as first:  # the first claim, mid-way: rows locked and taken
        locked = await first.exec(
            select(OutboxMessage).where(col(OutboxMessage.id).in_(held)).with_for_update()
        )
        assert sorted(row.id for row in locked.all()) == held
        await first.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(held))
            .values(status="sending", claimed_at=NOW)
        )

        async def second_claim() -> list[int]:
            async with sessions() as second:
                claimed = await outbox.claim_batch(second, now=NOW, limit=10)
            return [call.id for call in claimed]

        # Without SKIP LOCKED the second claim would queue behind the first one's locks.
        assert await asyncio.wait_for(second_claim(), timeout=5) == free
        await first.rollback()  # the first claim fails after all: its rows are free again
    async with sessions() as session:
        again = await outbox.claim_batch(session, now=NOW, limit=10)
    assert [call.id for call in again] == held

"""The outbox claim: order per chat, edits behind their target, one claimant per row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.core.tickets import CustomerInfo, TicketClosed
from bot.delivery.purposes import Purpose
from storage import outbox, tickets
from storage.db import SessionFactory
from storage.models import OutboxMessage
from storage.outbox import Priority

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def add_as(
    sessions: SessionFactory,
    chat_id: int,
    text: str,
    purpose: str,
    method: str = "sendMessage",
    **extra: object,
) -> int:
    async with sessions() as session:
        row_id = await outbox.enqueue(
            session,
            method=method,
            chat_id=chat_id,
            payload={"text": text},
            purpose=purpose,
            now=NOW,
            **extra,  # type: ignore[arg-type]
        )
        await session.commit()
    return row_id


async def add(
    sessions: SessionFactory,
    chat_id: int,
    text: str,
    method: str = "sendMessage",
    **extra: object,
) -> int:
    return await add_as(sessions, chat_id, text, "test", method, **extra)


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


async def edit_of(sessions: SessionFactory, chat_id: int, text: str, **target: int) -> int:
    return await add(sessions, chat_id, text, "editMessageText", **target)


async def claim(sessions: SessionFactory) -> list[outbox.ClaimedCall]:
    async with sessions() as session:
        return await outbox.claim_batch(session, now=NOW, limit=10)


async def delivered(sessions: SessionFactory, calls: list[outbox.ClaimedCall]) -> None:
    async with sessions() as session:
        for call in calls:
            await outbox.mark_sent(session, outbox_id=call.id, message_id=100 + call.id, now=NOW)
        await session.commit()


async def test_a_waiting_edit_of_one_message_takes_the_latest_text(
    sessions: SessionFactory,
) -> None:
    alert = await add(sessions, -100, "3/10")
    first = await edit_of(sessions, -100, "4/10", target_outbox_id=alert)
    again = await edit_of(sessions, -100, "5/10", target_outbox_id=alert)
    assert again == first  # replaced, not queued behind it
    await delivered(sessions, await claim(sessions))  # the alert
    taken = await claim(sessions)
    assert [(call.id, call.payload["text"]) for call in taken] == [(first, "5/10")]
    # An edit being made is not changed: the next one queues behind it, for the same message.
    after = await edit_of(sessions, -100, "6/10", target_outbox_id=alert)
    assert after != first
    assert await claim(sessions) == []
    await delivered(sessions, taken)
    assert [call.payload["text"] for call in await claim(sessions)] == ["6/10"]


async def test_edits_of_a_message_by_its_id_are_coalesced_too_and_others_are_not(
    sessions: SessionFactory,
) -> None:
    first = await edit_of(sessions, 7, "a", message_id=55)
    assert await edit_of(sessions, 7, "b", message_id=55) == first
    other_message = await edit_of(sessions, 7, "c", message_id=56)
    other_chat = await edit_of(sessions, 8, "d", message_id=55)
    assert len({first, other_message, other_chat}) == 3
    async with sessions() as session:
        row = await session.get(OutboxMessage, first)
        assert row is not None and row.payload == {"text": "b"}


async def test_in_a_group_a_new_message_goes_before_edits_queued_earlier(
    sessions: SessionFactory,
) -> None:
    old_alert = await add(sessions, -100, "old alert")
    await delivered(sessions, await claim(sessions))
    edit = await edit_of(sessions, -100, "old alert, changed", target_outbox_id=old_alert)
    new_alert = await add(sessions, -100, "new alert")
    private_edit = await edit_of(sessions, 7, "edited", message_id=5)
    private_send = await add(sessions, 7, "follow-up")
    taken = await claim(sessions)
    # The group's new alert first; in a private chat the order stays as queued.
    assert [call.id for call in taken] == [new_alert, private_edit]
    await delivered(sessions, taken)
    assert [call.id for call in await claim(sessions)] == [edit, private_send]


async def test_edits_are_not_claimed_in_groups_whose_slots_are_kept_for_new_messages(
    sessions: SessionFactory,
) -> None:
    alert = await add(sessions, -100, "alert")
    await delivered(sessions, await claim(sessions))
    await edit_of(sessions, -100, "changed", target_outbox_id=alert)
    async with sessions() as session:
        assert await outbox.claim_batch(session, now=NOW, limit=10, edits_held={-100}) == []
    new_alert = await add(sessions, -100, "new alert")
    async with sessions() as session:
        taken = await outbox.claim_batch(session, now=NOW, limit=10, edits_held={-100})
    assert [call.id for call in taken] == [new_alert]


# Priority: a reply to someone's own action goes before bulk sends of other chats.


async def test_a_reply_queued_after_a_broadcast_is_claimed_before_it(
    sessions: SessionFactory,
) -> None:
    surveys = [await add_as(sessions, chat, "question", Purpose.SURVEY) for chat in range(1, 41)]
    reply = await add_as(sessions, 500, "your score: 9", Purpose.CLIENT, "editMessageText")
    async with sessions() as session:
        taken = await outbox.claim_batch(session, now=NOW, limit=5)
    assert [call.id for call in taken] == [reply, *surveys[:4]]
    assert [call.priority for call in taken] == [Priority.INTERACTIVE] + [Priority.BULK] * 4
    async with sessions() as session:  # then the broadcast goes on in its own order
        assert [c.id for c in await outbox.claim_batch(session, now=NOW, limit=5)] == surveys[4:9]


async def test_a_reply_keeps_its_place_in_its_own_chat(sessions: SessionFactory) -> None:
    """Priority orders the chats' next calls, never the calls of one chat."""
    question = await add_as(sessions, 1, "next survey", Purpose.SURVEY)
    reply = await add_as(sessions, 1, "thanks", Purpose.CLIENT)
    other = await add_as(sessions, 2, "question", Purpose.SURVEY)
    taken = await claim(sessions)
    assert [call.id for call in taken] == [question, other]  # the reply waits for its chat
    await delivered(sessions, taken)
    assert [call.id for call in await claim(sessions)] == [reply]


async def test_an_edit_that_is_a_reply_still_waits_for_the_message_it_edits(
    sessions: SessionFactory,
) -> None:
    bulk = [await add_as(sessions, chat, "question", Purpose.SURVEY) for chat in range(1, 4)]
    alert = await add_as(sessions, -100, "alert", Purpose.SURVEY)  # bulk, then edited by a reply
    edit = await add_as(
        sessions, -100, "alert, taken", Purpose.ALERT, "editMessageText", target_outbox_id=alert
    )
    taken = await claim(sessions)
    assert [call.id for call in taken] == [*bulk, alert]
    await delivered(sessions, taken)
    again = await claim(sessions)
    assert [(call.id, call.message_id) for call in again] == [(edit, 100 + alert)]


async def test_in_a_group_new_messages_still_go_before_edits_whatever_their_priority(
    sessions: SessionFactory,
) -> None:
    old_alert = await add_as(sessions, -100, "old alert", Purpose.ALERT)
    await delivered(sessions, await claim(sessions))
    edit = await add_as(
        sessions, -100, "changed", Purpose.ALERT, "editMessageText", target_outbox_id=old_alert
    )
    bulk_new = await add_as(sessions, -100, "digest", Purpose.DIGEST)
    taken = await claim(sessions)
    assert [call.id for call in taken] == [bulk_new]  # the lane, as before
    await delivered(sessions, taken)
    assert [call.id for call in await claim(sessions)] == [edit]


async def test_interactive_only_leaves_the_bulk_calls_queued(sessions: SessionFactory) -> None:
    surveys = [await add_as(sessions, chat, "question", Purpose.SURVEY) for chat in range(1, 4)]
    replies = [await add_as(sessions, chat, "thanks", Purpose.CLIENT) for chat in (7, 8)]
    async with sessions() as session:
        taken = await outbox.claim_batch(session, now=NOW, limit=10, interactive_only=True)
    assert [call.id for call in taken] == replies
    assert [call.id for call in await claim(sessions)] == surveys


async def test_priority_is_the_purposes_own_unless_the_call_says_otherwise(
    sessions: SessionFactory,
) -> None:
    rows = {
        "survey": await add_as(sessions, 1, "q", Purpose.SURVEY),
        "client": await add_as(sessions, 2, "thanks", Purpose.CLIENT),
        "reminder": await add_as(sessions, 3, "r", Purpose.CLIENT, priority=Priority.BULK),
        "digest on request": await add_as(
            sessions, -5, "d", Purpose.DIGEST, priority=Priority.INTERACTIVE
        ),
        "a bare string": await add_as(sessions, 4, "t", "test"),
    }
    async with sessions() as session:
        stored = {
            name: (await session.get(OutboxMessage, row_id)).priority  # type: ignore[union-attr]
            for name, row_id in rows.items()
        }
    assert stored == {
        "survey": Priority.BULK,
        "client": Priority.INTERACTIVE,
        "reminder": Priority.BULK,
        "digest on request": Priority.INTERACTIVE,
        "a bare string": Priority.BULK,
    }


async def test_a_reply_that_replaces_a_waiting_bulk_edit_makes_it_a_reply(
    sessions: SessionFactory,
) -> None:
    surveys = [await add_as(sessions, chat, "question", Purpose.SURVEY) for chat in range(1, 4)]
    edit = await add_as(
        sessions, 9, "old", Purpose.CLIENT, "editMessageText", message_id=5, priority=Priority.BULK
    )
    again = await add_as(sessions, 9, "score: 10", Purpose.CLIENT, "editMessageText", message_id=5)
    assert again == edit
    taken = await claim(sessions)
    assert (taken[0].id, taken[0].payload["text"]) == (edit, "score: 10")
    assert [call.id for call in taken[1:]] == surveys
    # A bulk edit replacing a reply's payload does not demote it.
    first = await add_as(sessions, 10, "a", Purpose.CLIENT, "editMessageText", message_id=6)
    await add_as(
        sessions, 10, "b", Purpose.CLIENT, "editMessageText", message_id=6, priority=Priority.BULK
    )
    async with sessions() as session:
        row = await session.get(OutboxMessage, first)
        assert row is not None and (row.priority, row.payload) == (
            Priority.INTERACTIVE,
            {"text": "b"},
        )

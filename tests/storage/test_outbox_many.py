"""``enqueue_many``: several calls in one INSERT, ids in order, edits taken over as one by one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from storage import outbox
from storage.db import SessionFactory
from storage.models import OutboxMessage
from storage.outbox import NewCall

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def text(chat_id: int, words: str, **extra: object) -> NewCall:
    return NewCall(
        method=str(extra.pop("method", "sendMessage")),
        chat_id=chat_id,
        payload={"text": words},
        purpose="client",
        **extra,  # type: ignore[arg-type]
    )


async def test_new_rows_go_in_one_insert_and_their_ids_come_back_in_order(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with sessions() as session:
            ids = await outbox.enqueue_many(
                session, [text(1, "first"), text(2, "second"), text(1, "third")], now=NOW
            )
            await session.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    # SQLite, with no round trips to save, gets one INSERT per row from SQLAlchemy.
    assert len(inserts) == (1 if engine.dialect.name == "postgresql" else 3)
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    by_id = {row.id: (row.chat_id, row.payload["text"], row.status) for row in rows}
    assert [by_id[i] for i in ids] == [
        (1, "first", "pending"),
        (2, "second", "pending"),
        (1, "third", "pending"),
    ]


async def test_an_edit_with_one_waiting_takes_it_over_as_enqueue_does(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        waiting = await outbox.enqueue(
            session,
            method="editMessageText",
            chat_id=5,
            payload={"text": "old"},
            purpose="client",
            now=NOW,
            message_id=77,
        )
        await session.commit()
    async with sessions() as session:
        ids = await outbox.enqueue_many(
            session,
            [text(5, "new", method="editMessageText", message_id=77), text(5, "follow-up")],
            now=NOW,
        )
        await session.commit()
    assert ids[0] == waiting and ids[1] != waiting
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert [(row.method, row.payload["text"]) for row in rows] == [
        ("editMessageText", "new"),
        ("sendMessage", "follow-up"),
    ]

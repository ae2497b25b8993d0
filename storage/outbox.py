"""The durable outbox: every Telegram call is a row first, so nothing is lost in a crash.

Rows move pending -> sending -> sent | failed. ``sending`` marks a claimed row; a crash leaves it
there and ``release_stale`` hands it back, which is the one window where a message may go twice.

Each row has a ``priority``: a reply to someone's own action (the edit that shows a client
their score, a command's answer) is claimed before bulk sends of other chats (new surveys,
reminders, digests), so it is not queued behind a broadcast. Within a chat nothing changes:
its calls go in the order they were queued whatever their priority.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import bindparam, case, func, insert, literal_column, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage
from storage.tables import table_of

# Calls that change a message already sent: each carries the message's whole new state.
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})


def _lane(row: Any) -> Any:
    """0 for a new message, 1 for an edit in a group: in a group, new messages go first."""
    return case(
        ((col(row.chat_id) < 0) & col(row.method).in_(list(EDIT_METHODS)), 1),
        else_=0,
    )


class Priority(enum.IntEnum):
    """Which calls are claimed first; the lower value goes first (``ORDER BY priority, id``)."""

    INTERACTIVE = 0  # someone just did something and is looking at the chat for the answer
    BULK = 1  # the bot's own schedule: nobody waits for it to the second


@runtime_checkable
class Ranked(Protocol):
    """A purpose that declares its own priority (``bot.delivery.purposes.Purpose`` does)."""

    @property
    def priority(self) -> Priority:
        """How urgent the calls of this purpose are, unless a call says otherwise."""
        ...


def priority_of(purpose: str) -> Priority:
    """The priority a purpose declares; a bare string (tests, benchmarks) is bulk."""
    return purpose.priority if isinstance(purpose, Ranked) else Priority.BULK


class OutboxStatus(enum.StrEnum):
    """Where an outbound call is."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ClaimedCall:
    """A claimed row, detached from the session, with an edit's message id resolved."""

    id: int
    method: str
    chat_id: int
    message_id: int | None
    payload: dict[str, Any]
    purpose: str
    survey_id: int | None
    attempts: int
    created_at: datetime
    priority: int = Priority.BULK


async def enqueue(
    session: AsyncSession,
    *,
    method: str,
    chat_id: int,
    # The Bot API parameters of ``method``, kept as JSON (their types: bot.delivery.payloads).
    payload: Mapping[str, object],
    purpose: str,
    now: datetime,
    survey_id: int | None = None,
    target_outbox_id: int | None = None,
    message_id: int | None = None,
    priority: int | None = None,
) -> int:
    """Add a call to the outbox inside the caller's transaction and return its id.

    ``priority`` is the purpose's own (``priority_of``) unless given: a purpose that is mostly
    replies may still send something unasked, such as a reminder, which is bulk.

    An edit of a message that already has an edit of the same kind waiting is not queued
    again: the waiting one gets the new payload (each edit carries the message's whole new
    state, so only the latest matters). A client changing their score thirty times within the
    change window queued thirty edits of their alert, which used up the managers' group's
    budget (20 a minute) and held up every other alert there for a minute or more.

    A Core INSERT ... RETURNING rather than an ORM add and flush: answering one press queues
    several calls, and each flush walked the whole session (docs/benchmarks.md).
    """
    call = NewCall(
        method=method,
        chat_id=chat_id,
        payload=payload,
        purpose=purpose,
        survey_id=survey_id,
        target_outbox_id=target_outbox_id,
        message_id=message_id,
        priority=priority,
    )
    (outbox_id,) = await enqueue_many(session, [call], now=now)
    return outbox_id


@dataclass(frozen=True, slots=True)
class NewCall:
    """One call for ``enqueue_many``: ``enqueue``'s arguments but the session and the time."""

    method: str
    chat_id: int
    payload: Mapping[str, object]
    purpose: str
    survey_id: int | None = None
    target_outbox_id: int | None = None
    message_id: int | None = None
    priority: int | None = None  # the purpose's own unless given (``enqueue``)


async def enqueue_many(
    session: AsyncSession, calls: Sequence[NewCall], *, now: datetime
) -> list[int]:
    """``enqueue`` for several calls: their ids, in order, the new rows in one INSERT.

    An edit that a waiting edit of the same message takes over is not inserted, as with
    ``enqueue``. Answering a press queues the edit of the question and the follow-up at once:
    one multi-row statement where each was a round trip of its own.
    """
    connection = await session.connection()
    ids: list[int | None] = []
    rows: list[dict[str, object]] = []
    for call in calls:
        rank = priority_of(call.purpose) if call.priority is None else call.priority
        if call.method in EDIT_METHODS and (
            call.target_outbox_id is not None or call.message_id is not None
        ):
            replaced = await connection.execute(
                _REPLACE_EDIT_OF_ROW
                if call.target_outbox_id is not None
                else _REPLACE_EDIT_OF_MESSAGE,
                {
                    "b_method": call.method,
                    "b_chat_id": call.chat_id,
                    "b_purpose": call.purpose,
                    "b_target": call.target_outbox_id,
                    "b_message_id": call.message_id,
                    "b_payload": call.payload,
                    "b_priority": rank,
                },
            )
            waiting = replaced.scalars().first()
            if waiting is not None:
                ids.append(int(waiting))
                continue
        ids.append(None)
        rows.append(
            {
                "method": call.method,
                "chat_id": call.chat_id,
                "payload": call.payload,
                "purpose": call.purpose,
                "survey_id": call.survey_id,
                "target_outbox_id": call.target_outbox_id,
                "message_id": call.message_id,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "not_before": now,
                "created_at": now,
                "priority": rank,
            }
        )
    if not rows:
        return [int(i) for i in ids if i is not None]
    if len(rows) == 1:
        inserted = [int((await connection.execute(_ENQUEUE, rows[0])).scalar_one())]
    else:
        result = await connection.execute(_ENQUEUE_MANY, rows)
        inserted = [int(i) for i in result.scalars().all()]
    new = iter(inserted)
    return [next(new) if i is None else i for i in ids]


async def claim_batch(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    only_ids: Collection[int] | None = None,
    skip_chats: Collection[int] = (),
    edits_held: Collection[int] = (),
    interactive_only: bool = False,
) -> list[ClaimedCall]:
    """Claim the oldest waiting call of each chat whose time has come, interactive ones first.

    A call is taken only when no older call of its chat is pending or being sent, so a chat's
    messages go out in order even with several dispatchers, and a chat waiting out a retry
    holds back only itself. In a group a new message goes before edits queued earlier. Edits
    take the message id their target row recorded. Chats in ``skip_chats`` (held by the
    caller's flood limits) are not claimed at all, and edits are not claimed in ``edits_held``.

    Among the chats' next calls, replies to someone's own action (``Priority.INTERACTIVE``)
    are taken before older bulk calls of other chats, and returned first; ``interactive_only``
    takes only those (the dispatcher's quick claim when a reply is queued mid-broadcast).
    """
    other = _OTHER
    # The next call of a chat: none of its calls is being made, and no waiting one goes first.
    # Calls go in the order they were queued, except that in a group new messages go before
    # edits (``lane``): a new alert must not wait behind edits of older ones. An edit still
    # follows the message it edits, which is a new message of the same chat.
    goes_first = (col(other.status) == OutboxStatus.SENDING) | (
        (col(other.status) == OutboxStatus.PENDING)
        & (
            (_lane(other) < _lane(OutboxMessage))
            | ((_lane(other) == _lane(OutboxMessage)) & (col(other.id) < col(OutboxMessage.id)))
        )
    )
    has_older = (
        select(other.id)
        .where(other.chat_id == OutboxMessage.chat_id)
        .where(col(other.id) != col(OutboxMessage.id))
        .where(col(other.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        .where(goes_first)
        .exists()
    )
    # Core columns, not ORM objects, and no payload: the take below returns the payload as
    # taken, so reading it here too decoded every row's JSON twice (docs/benchmarks.md).
    query = (
        sa_select(*_CLAIM_COLUMNS)
        # A literal, not a parameter: the planner then knows the partial index holds the rows.
        .where(col(OutboxMessage.status) == literal_column(f"'{OutboxStatus.PENDING}'"))
        .where(col(OutboxMessage.not_before) <= now)
        .where(~has_older)
        .order_by(col(OutboxMessage.priority), col(OutboxMessage.id))
        .limit(limit)
    )
    if interactive_only:
        query = query.where(col(OutboxMessage.priority) == Priority.INTERACTIVE)
    if only_ids is not None:
        query = query.where(col(OutboxMessage.id).in_(list(only_ids)))
    if skip_chats:
        query = query.where(col(OutboxMessage.chat_id).not_in(list(skip_chats)))
    if edits_held:  # groups whose last free slots are kept for new messages
        query = query.where(
            col(OutboxMessage.chat_id).not_in(list(edits_held))
            | col(OutboxMessage.method).not_in(list(EDIT_METHODS))
        )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=_OUTBOX)
    rows = list((await (await session.connection()).execute(query)).all())
    targets = await _target_rows(session, rows)
    message_ids: dict[int, int | None] = {}  # what each row to take will edit or reply to
    for row in rows:
        message_ids[row.id] = row.message_id
        if row.target_outbox_id is not None:
            target = targets.get(row.target_outbox_id)
            if target is not None and target.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
                del message_ids[row.id]  # the message to edit is not out yet
                continue
            if target is None or target.status == OutboxStatus.FAILED or target.message_id is None:
                del message_ids[row.id]
                await mark_failed(
                    session, outbox_id=row.id, error="the message to edit was never delivered"
                )
                continue
            message_ids[row.id] = target.message_id
    taken = await _take_all(session, message_ids, now=now)  # id -> the payload taken
    claimed: list[ClaimedCall] = []
    for row in rows:
        if row.id not in taken:
            continue  # waiting for its target, or another process claimed it meanwhile
        message_id = message_ids[row.id]
        claimed.append(
            ClaimedCall(
                id=row.id,
                method=row.method,
                chat_id=row.chat_id,
                message_id=message_id,
                payload=taken[row.id],
                purpose=row.purpose,
                survey_id=row.survey_id,
                attempts=row.attempts,
                created_at=row.created_at,
                priority=row.priority,
            )
        )
    await session.commit()
    return claimed


async def _take_all(
    session: AsyncSession, message_ids: dict[int, int | None], *, now: datetime
) -> dict[int, dict[str, Any]]:
    """Compare-and-set pending -> sending, so two dispatchers never both send a row.

    One statement for the whole batch; returns the rows this call took, with the payload each
    had when it was taken. Edits then record the message id of the message they edit (its row
    is sent by now), in one more statement.
    """
    if not message_ids:
        return {}
    connection = await session.connection()
    result = await connection.execute(_TAKE, {"b_ids": list(message_ids), "b_now": now})
    taken = {row.id: row.payload for row in result}
    targets = [
        {"b_id": row_id, "b_message_id": message_ids[row_id]}
        for row_id in taken
        if message_ids[row_id] is not None
    ]
    if targets:
        await connection.execute(_SET_TARGET, targets)
    return taken


async def _target_rows(session: AsyncSession, rows: Sequence[Any]) -> dict[int, OutboxMessage]:
    ids = {row.target_outbox_id for row in rows if row.target_outbox_id is not None}
    if not ids:
        return {}
    found = await session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))
    return {row.id: row for row in found.all() if row.id is not None}


async def mark_sent(
    session: AsyncSession, *, outbox_id: int, message_id: int | None, now: datetime
) -> None:
    """Record a delivered call and the message id Telegram gave it."""
    values: dict[str, Any] = {"status": OutboxStatus.SENT, "sent_at": now, "last_error": None}
    if message_id is not None:
        values["message_id"] = message_id
    await session.exec(
        update(OutboxMessage).where(col(OutboxMessage.id) == outbox_id).values(**values)
    )


_OUTBOX = table_of(OutboxMessage)
# The claim's other rows of the same chat: one alias made once rather than one per claim (an
# idle bot claims every second; about 2 MiB less idle memory after 90 s, bench/startup.py).
_OTHER = aliased(OutboxMessage)
# What the claim reads of each candidate (everything a ClaimedCall needs but the payload).
_CLAIM_COLUMNS = (
    _OUTBOX.c.id,
    _OUTBOX.c.method,
    _OUTBOX.c.chat_id,
    _OUTBOX.c.message_id,
    _OUTBOX.c.target_outbox_id,
    _OUTBOX.c.purpose,
    _OUTBOX.c.survey_id,
    _OUTBOX.c.attempts,
    _OUTBOX.c.created_at,
    _OUTBOX.c.priority,
)
_ENQUEUE = insert(_OUTBOX).returning(_OUTBOX.c.id)
# One INSERT of several rows whose ids come back in the order of the rows given.
_ENQUEUE_MANY = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)
# An edit still waiting (not being made) of the same message, by the same purpose: it takes
# the new payload instead of a second edit being queued behind it.
_WAITING_EDIT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.status == OutboxStatus.PENDING)
    .where(_OUTBOX.c.chat_id == bindparam("b_chat_id"))
    .where(_OUTBOX.c.method == bindparam("b_method"))
    .where(_OUTBOX.c.purpose == bindparam("b_purpose"))
    # A reply replacing a bulk edit's payload is a reply: the row goes first from now on.
    .values(
        payload=bindparam("b_payload"),
        priority=case(
            (_OUTBOX.c.priority > bindparam("b_priority"), bindparam("b_priority")),
            else_=_OUTBOX.c.priority,
        ),
    )
    .returning(_OUTBOX.c.id)
)
_REPLACE_EDIT_OF_ROW = _WAITING_EDIT.where(_OUTBOX.c.target_outbox_id == bindparam("b_target"))
_REPLACE_EDIT_OF_MESSAGE = _WAITING_EDIT.where(_OUTBOX.c.target_outbox_id.is_(None)).where(
    _OUTBOX.c.message_id == bindparam("b_message_id")
)
_TAKE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("b_ids", expanding=True)))
    .where(_OUTBOX.c.status == OutboxStatus.PENDING)
    .values(status=OutboxStatus.SENDING, claimed_at=bindparam("b_now"))
    # The payload as taken: a waiting edit may have been given a newer one since it was read.
    .returning(_OUTBOX.c.id, _OUTBOX.c.payload)
)
_SET_TARGET = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(message_id=bindparam("b_message_id"))
)
# One statement for a whole batch of delivered calls (an executemany, compiled once).
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("b_now"),
        last_error=None,
        message_id=func.coalesce(bindparam("b_message_id"), _OUTBOX.c.message_id),
    )
)


async def mark_sent_many(
    session: AsyncSession, *, delivered: Sequence[tuple[int, int | None]], now: datetime
) -> None:
    """Record delivered calls ``(outbox id, message id)`` at once."""
    if not delivered:
        return
    connection = await session.connection()
    await connection.execute(
        _MARK_SENT,
        [
            {"b_id": row_id, "b_message_id": message_id, "b_now": now}
            for row_id, message_id in delivered
        ],
    )


async def mark_retry(
    session: AsyncSession, *, outbox_id: int, not_before: datetime, error: str, count: bool = True
) -> None:
    """Put a call back in the queue until ``not_before``; ``count`` is off for flood waits."""
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING,
        "not_before": not_before,
        "last_error": error[:500],
        "claimed_at": None,
    }
    if count:
        values["attempts"] = OutboxMessage.attempts + 1
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == outbox_id)
        # A call withdrawn while it was being made stays withdrawn: no retry brings it back.
        .where(col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        .values(**values)
    )


async def mark_failed(session: AsyncSession, *, outbox_id: int, error: str) -> None:
    """End a call that must not be retried (blocked bot, unknown chat, too many attempts)."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == outbox_id)
        .values(
            status=OutboxStatus.FAILED, last_error=error[:500], attempts=OutboxMessage.attempts + 1
        )
    )


async def release_stale(
    session: AsyncSession, *, now: datetime, older_than: timedelta, keep: Collection[int] = ()
) -> int:
    """Hand back rows a crashed process claimed but never finished.

    ``keep`` are the caller's own calls still in hand (say, waiting for the database to come
    back to record that Telegram has them): handing those back would send them twice.
    """
    query = (
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.SENDING)
        .where(col(OutboxMessage.claimed_at) < now - older_than)
    )
    if keep:
        query = query.where(col(OutboxMessage.id).not_in(list(keep)))
    result = await session.exec(query.values(status=OutboxStatus.PENDING, claimed_at=None))
    await session.commit()
    return int(result.rowcount or 0)


async def pending_count(
    session: AsyncSession,
    *,
    only_ids: Collection[int] | None = None,
    due_by: datetime | None = None,
) -> int:
    """How many calls still wait to be made (of ``only_ids``, when given); with ``due_by``, only
    those being made or due by then, not those held for later (a retry, a survey's delay)."""
    query = select(func.count()).where(
        col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
    )
    if due_by is not None:
        query = query.where(
            (col(OutboxMessage.status) == OutboxStatus.SENDING)
            | (col(OutboxMessage.not_before) <= due_by)
        )
    if only_ids is not None:
        query = query.where(col(OutboxMessage.id).in_(list(only_ids)))
    return (await session.exec(query)).one()


async def withdraw(
    session: AsyncSession,
    *,
    survey_ids: Collection[int],
    reason: str,
    purposes: Collection[str] | None = None,
) -> None:
    """Take back calls of these surveys that have not been made (of ``purposes``, if given).

    A call being made right now may still reach Telegram, but if it fails it is not retried.
    """
    query = (
        update(OutboxMessage)
        .where(col(OutboxMessage.survey_id).in_(list(survey_ids)))
        .where(col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    )
    if purposes is not None:
        query = query.where(col(OutboxMessage.purpose).in_(list(purposes)))
    await session.exec(query.values(status=OutboxStatus.FAILED, last_error=reason))

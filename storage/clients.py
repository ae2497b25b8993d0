"""A Telegram user's own choices: language, opting out, and erasing their personal data."""

from __future__ import annotations

import html
import uuid
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.survey import SurveyStatus
from storage import cases, outbox
from storage import enps_invitations as invitations
from storage.models import Customer, OutboxMessage, Survey, TelegramUser, Ticket
from storage.personal import Path, cleared_values
from storage.tables import table_of
from storage.tickets import NOT_YET_SENT

# What /forget clears in each table: the columns marked personal (storage.personal).
_SURVEY_ERASED = cleared_values(table_of(Survey), Path.FORGET)
_CUSTOMER_ERASED = cleared_values(table_of(Customer), Path.FORGET)
_OUTBOX_ERASED = cleared_values(table_of(OutboxMessage), Path.FORGET)


async def _client(session: AsyncSession, user_id: int, now: datetime) -> TelegramUser:
    client = await session.get(TelegramUser, user_id)
    if client is None:
        client = TelegramUser(id=user_id, created_at=now)
        session.add(client)
    return client


async def choose_language(
    session: AsyncSession, *, user_id: int, language: str, now: datetime
) -> None:
    """Remember the language the client picked with /language."""
    (await _client(session, user_id, now)).language = language
    await session.flush()


async def chosen_language(session: AsyncSession, *, user_id: int) -> str | None:
    """The language the client picked, if any."""
    client = await session.get(TelegramUser, user_id)
    return client.language if client else None


async def _their_survey_ids(session: AsyncSession, user_id: int) -> list[int]:
    found = await session.exec(
        select(Survey.id)
        .join(Customer, col(Customer.id) == Survey.customer_id)
        .where(Customer.telegram_user_id == user_id)
    )
    return [survey_id for survey_id in found.all() if survey_id is not None]


async def opt_out(
    session: AsyncSession, *, user_id: int, now: datetime, purposes: tuple[str, ...]
) -> int:
    """/stop confirmed: no more surveys; the ones not sent yet are skipped. Returns how many."""
    (await _client(session, user_id, now)).opted_out_at = now
    survey_ids = await _their_survey_ids(session, user_id)
    if not survey_ids:
        await session.flush()
        return 0
    result = await session.exec(
        update(Survey)
        .where(col(Survey.id).in_(survey_ids))
        .where(col(Survey.status).in_(NOT_YET_SENT))
        .values(status=SurveyStatus.SKIPPED, skip_reason="opted_out", completed_at=now)
    )
    # Only what would go to the client; the managers' alerts about past answers still go.
    await outbox.withdraw(
        session, survey_ids=survey_ids, reason="client opted out", purposes=purposes
    )
    return int(result.rowcount or 0)


async def opt_in(session: AsyncSession, *, user_id: int) -> bool:
    """/start after /stop: surveys resume. True when the client had opted out."""
    client = await session.get(TelegramUser, user_id)
    if client is None or client.opted_out_at is None:
        return False
    client.opted_out_at = None
    await session.flush()
    return True


async def forget(session: AsyncSession, *, user_id: int, now: datetime) -> int:
    """/forget confirmed: erase the chat link, name, phone, comments and identifiers.

    Scores stay as anonymous numbers. The helpdesk's customer and ticket ids are replaced
    too, since they point back to the person; stored outbound messages that quoted them
    (alerts, digests) are emptied; an opt-out is kept, bare, so a later ticket does not
    bring surveys back. Returns how many surveys stay as anonymous scores.
    """
    survey_ids = await _their_survey_ids(session, user_id)
    if survey_ids:
        said = await session.exec(
            select(Survey.comment)
            .where(col(Survey.id).in_(survey_ids))
            .where(col(Survey.comment).is_not(None))
        )
        comments = [comment for comment in said.all() if comment]
        await session.exec(
            update(Survey)
            .where(col(Survey.id).in_(survey_ids))
            .where(col(Survey.status).in_(NOT_YET_SENT))
            .values(status=SurveyStatus.SKIPPED, skip_reason="forgotten", completed_at=now)
        )
        await session.exec(
            update(Survey).where(col(Survey.id).in_(survey_ids)).values(**_SURVEY_ERASED)
        )
        await cases.forget_conversations(session, survey_ids=survey_ids)
        await outbox.withdraw(session, survey_ids=survey_ids, reason="erased")
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.survey_id).in_(survey_ids))
            .values(**_OUTBOX_ERASED)
        )
        await _erase_quotes(session, comments)
        tickets = select(Survey.ticket_id).where(col(Survey.id).in_(survey_ids))
        for ticket in (await session.exec(select(Ticket).where(col(Ticket.id).in_(tickets)))).all():
            ticket.external_id = _pseudonym()
    await invitations.forget_member(session, user_id=user_id)
    # Rows in their chat outside their surveys have no survey to unlink: only the payload goes.
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.chat_id) == user_id)
        .values(payload=_OUTBOX_ERASED["payload"])
    )
    customers = await session.exec(select(Customer).where(Customer.telegram_user_id == user_id))
    for customer in customers.all():
        customer.helpdesk_id = _pseudonym()
        for name, value in _CUSTOMER_ERASED.items():
            setattr(customer, name, value)
    client = await session.get(TelegramUser, user_id)
    if client is not None and client.opted_out_at is None:
        await session.delete(client)
    elif client is not None:
        client.language = None  # only the opt-out stays, so it keeps being respected
    await session.flush()
    return len(survey_ids)


QUOTED_START = 50  # characters of a comment that identify its quote in a stored digest


def _pseudonym() -> str:
    """A helpdesk key that names no one, unique as the column requires."""
    return f"forgotten:{uuid.uuid4().hex}"


def _as_quoted(comment: str) -> tuple[str, ...]:
    """How a digest may hold the start of a comment: stripped, and escaped for Telegram's HTML
    as the digest escapes it (``quote=False``: ' and " stay), or as typed in a plain one."""
    start = comment.strip()[:QUOTED_START]
    return (html.escape(start, quote=False), start) if start else ()


async def _erase_quotes(session: AsyncSession, comments: list[str]) -> None:
    """Digests quote comments in their stored text: empty the ones that quoted these."""
    if not comments:
        return
    digests = await session.exec(select(OutboxMessage).where(OutboxMessage.purpose == "digest"))
    for row in digests.all():
        text = str(row.payload.get("text", ""))
        if any(quoted in text for comment in comments for quoted in _as_quoted(comment)):
            row.payload = {}  # as the payload's mark says (storage.models)

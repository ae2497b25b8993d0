"""Queries the bot needs, in one place, each taking the caller's session (keyword-only)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from storage.models import Customer, Survey, Ticket


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """What the intake answers about a ticket's survey."""

    survey_id: int
    ticket_id: str
    status: SurveyStatus
    created: bool


@dataclass(frozen=True, slots=True)
class SurveyContext:
    """A survey with the ticket and customer facts its messages and alerts show."""

    survey: Survey
    ticket: Ticket
    customer: Customer


def _apply_customer_info(customer: Customer, info: CustomerInfo) -> None:
    """Newer helpdesk data wins, but a missing field never erases what we know."""
    for name in ("phone", "name", "language", "company"):
        value = getattr(info, name)
        if value is not None:
            setattr(customer, name, value)
    if info.telegram_user_id is not None and customer.telegram_user_id is None:
        customer.telegram_user_id = info.telegram_user_id
        customer.chat_id = info.telegram_user_id  # a private chat's id is the user's id


async def _upsert_customer(session: AsyncSession, info: CustomerInfo, now: datetime) -> Customer:
    """Find or create the customer; a concurrent first ticket of theirs may win the insert."""
    query = select(Customer).where(Customer.helpdesk_id == info.helpdesk_id)
    customer = (await session.exec(query)).first()
    if customer is None:
        try:
            async with session.begin_nested():
                customer = Customer(helpdesk_id=info.helpdesk_id, created_at=now)
                session.add(customer)
        except IntegrityError:
            customer = (await session.exec(query)).one()  # theirs, committed meanwhile
    _apply_customer_info(customer, info)
    await session.flush()
    return customer


async def find_ticket_survey(session: AsyncSession, *, ticket_id: str) -> SurveyRecord | None:
    """The survey already recorded for a helpdesk ticket id, if any."""
    found = await session.exec(
        select(Survey)
        .join(Ticket, col(Ticket.id) == Survey.ticket_id)
        .where(Ticket.external_id == ticket_id)
    )
    survey = found.first()
    if survey is None or survey.id is None:
        return None
    return SurveyRecord(survey.id, ticket_id, SurveyStatus(survey.status), created=False)


async def record_ticket_closed(
    session: AsyncSession, *, event: TicketClosed, due_at: datetime, now: datetime
) -> SurveyRecord:
    """Store a closed ticket and its pending survey once; a repeat returns the first survey.

    Helpdesks retry webhooks, sometimes concurrently: the unique ticket id decides the race and
    the loser reads the winner's survey.
    """
    existing = await find_ticket_survey(session, ticket_id=event.ticket_id)
    if existing is not None:
        return existing
    try:
        customer = await _upsert_customer(session, event.customer, now)
        assert customer.id is not None  # noqa: S101  (flushed)
        ticket = Ticket(
            external_id=event.ticket_id,
            customer_id=customer.id,
            closed_at=event.closed_at,
            agent=event.agent,
            team=event.team,
            channel=event.channel,
            created_at=now,
        )
        session.add(ticket)
        await session.flush()
        assert ticket.id is not None  # noqa: S101  (flushed)
        survey = Survey(
            ticket_id=ticket.id,
            customer_id=customer.id,
            status=SurveyStatus.PENDING,
            due_at=due_at,
            created_at=now,
        )
        session.add(survey)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        existing = await find_ticket_survey(session, ticket_id=event.ticket_id)
        if existing is None:
            raise
        return existing
    assert survey.id is not None  # noqa: S101  (committed)
    return SurveyRecord(survey.id, event.ticket_id, SurveyStatus.PENDING, created=True)


async def load_context(session: AsyncSession, *, survey_id: int) -> SurveyContext | None:
    """A survey with its ticket and customer, or None for an unknown id."""
    found = await session.exec(
        select(Survey, Ticket, Customer)
        .join(Ticket, col(Ticket.id) == Survey.ticket_id)
        .join(Customer, col(Customer.id) == Survey.customer_id)
        .where(Survey.id == survey_id)
    )
    row = found.first()
    return None if row is None else SurveyContext(*row)


async def due_survey_ids(
    session: AsyncSession, *, now: datetime, limit: int, customer_id: int | None = None
) -> list[int]:
    """Pending surveys whose time has come and whose client has a reachable chat."""
    query = (
        select(Survey.id)
        .join(Customer, col(Customer.id) == Survey.customer_id)
        .where(Survey.status == SurveyStatus.PENDING)
        .where(col(Survey.due_at) <= now)
        .where(col(Customer.chat_id).is_not(None))
        .where(col(Customer.unreachable).is_(False))
        .order_by(col(Survey.due_at))
        .limit(limit)
    )
    if customer_id is not None:
        query = query.where(Survey.customer_id == customer_id)
    return [survey_id for survey_id in (await session.exec(query)).all() if survey_id is not None]


async def change_status(
    session: AsyncSession,
    *,
    survey_id: int,
    expected: SurveyStatus | Collection[SurveyStatus],
    values: dict[str, object],
) -> bool:
    """Move a survey on only if it is still where the caller saw it (compare-and-set)."""
    allowed = [expected] if isinstance(expected, SurveyStatus) else list(expected)
    result = await session.exec(
        update(Survey)
        .where(col(Survey.id) == survey_id)
        .where(col(Survey.status).in_(allowed))
        .values(**values)
    )
    return bool(result.rowcount)


async def survey_awaiting_comment(session: AsyncSession, *, chat_id: int) -> int | None:
    """The newest survey in this chat that waits for a comment."""
    found = await session.exec(
        select(Survey.id)
        .where(Survey.chat_id == chat_id)
        .where(Survey.status == SurveyStatus.ANSWERED)
        .order_by(col(Survey.answered_at).desc())
        .limit(1)
    )
    return found.first()


async def link_customer_chat(
    session: AsyncSession, *, customer_id: int, user_id: int, chat_id: int, language: str | None
) -> bool:
    """Tie a customer to the Telegram user who opened their link; refuse another user's claim."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return False
    if customer.telegram_user_id not in (None, user_id):
        return False
    customer.telegram_user_id = user_id
    customer.chat_id = chat_id
    customer.unreachable = False
    if customer.language is None and language:
        customer.language = language
    await session.flush()
    return True


async def mark_customer_unreachable(session: AsyncSession, *, chat_id: int) -> None:
    """The client blocked the bot or the chat is gone: stop trying them."""
    await session.exec(
        update(Customer).where(col(Customer.chat_id) == chat_id).values(unreachable=True)
    )


async def forget_chat(session: AsyncSession, *, chat_id: int) -> None:
    """Telegram does not know the chat (the client never started the bot): wait for /start."""
    await session.exec(
        update(Customer).where(col(Customer.chat_id) == chat_id).values(chat_id=None)
    )


async def link_known_user(session: AsyncSession, *, user_id: int, chat_id: int) -> list[int]:
    """A /start from a Telegram user the helpdesk already named: their chat is open now."""
    found = await session.exec(select(Customer).where(Customer.telegram_user_id == user_id))
    customers = list(found.all())
    for customer in customers:
        customer.chat_id = chat_id
        customer.unreachable = False
    await session.flush()
    return [customer.id for customer in customers if customer.id is not None]


async def any_survey_before(session: AsyncSession, *, when: datetime) -> bool:
    """Whether any survey was created before ``when`` (i.e. this is not a fresh installation)."""
    found = await session.exec(select(Survey.id).where(col(Survey.created_at) < when).limit(1))
    return found.first() is not None

"""Recording closed and reopened tickets: once per closing, whatever the helpdesk retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from storage import outbox, repo
from storage.models import Customer, Survey, Ticket

# A survey in one of these states has not reached the client: a reopened ticket cancels it.
NOT_YET_SENT = (SurveyStatus.PENDING, SurveyStatus.QUEUED)


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    """What the intake answers about a ticket's survey."""

    survey_id: int
    ticket_id: str
    status: SurveyStatus
    created: bool
    skip_reason: str | None = None


def _apply_customer_info(customer: Customer, info: CustomerInfo, phone: str | None) -> None:
    """Newer helpdesk data wins, but a missing field never erases what we know."""
    for name, value in (
        ("phone", phone),
        ("name", info.name),
        ("language", info.language),
        ("company", info.company),
    ):
        if value is not None:
            setattr(customer, name, value)
    if info.telegram_user_id is not None and customer.telegram_user_id is None:
        customer.telegram_user_id = info.telegram_user_id
        customer.chat_id = info.telegram_user_id  # a private chat's id is the user's id


async def upsert_customer(
    session: AsyncSession, info: CustomerInfo, *, phone: str | None, now: datetime
) -> Customer:
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
    _apply_customer_info(customer, info, phone)
    await session.flush()
    return customer


async def _ticket(
    session: AsyncSession, external_id: str, customer_id: int, now: datetime
) -> Ticket:
    query = select(Ticket).where(Ticket.external_id == external_id)
    ticket = (await session.exec(query)).first()
    if ticket is None:
        try:
            async with session.begin_nested():
                ticket = Ticket(external_id=external_id, customer_id=customer_id, created_at=now)
                session.add(ticket)
        except IntegrityError:
            ticket = (await session.exec(query)).one()
    return ticket


def _record(survey: Survey, ticket_id: str, *, created: bool) -> SurveyRecord:
    assert survey.id is not None  # noqa: S101  (stored rows have ids)
    return SurveyRecord(
        survey.id, ticket_id, SurveyStatus(survey.status), created, survey.skip_reason
    )


async def _this_closing(
    session: AsyncSession, ticket: Ticket, closed_at: datetime
) -> Survey | None:
    """The survey this closing already has, if any.

    A retried webhook carries the same closing time. Otherwise the latest survey belongs to
    the current closing unless the ticket was reopened after it was made: a second event of one
    closing (Solved, then Closed) finds it, and only a closing after a reopening is new.
    """
    same = await session.exec(
        select(Survey).where(Survey.ticket_id == ticket.id).where(Survey.closed_at == closed_at)
    )
    if (retried := same.first()) is not None:
        return retried
    found = await session.exec(
        select(Survey).where(Survey.ticket_id == ticket.id).order_by(col(Survey.id).desc()).limit(1)
    )
    latest = found.first()
    if latest is None:
        return None
    if ticket.reopened_at is not None and ticket.reopened_at > latest.created_at:
        return None
    return latest


async def record_ticket_closed(
    session: AsyncSession,
    *,
    event: TicketClosed,
    due_at: datetime,
    now: datetime,
    phone: str | None = None,
    skip_reason: str | None = None,
) -> SurveyRecord:
    """Store a closing and its survey once; a retried webhook returns the first survey.

    The ticket row is locked (an UPDATE) before looking for the current closing's survey, so
    concurrent deliveries of one closing wait for each other instead of both creating one.
    ``skip_reason`` records a survey that a rule says must not be sent.
    """
    status = SurveyStatus.SKIPPED if skip_reason else SurveyStatus.PENDING
    try:
        customer = await upsert_customer(session, event.customer, phone=phone, now=now)
        assert customer.id is not None  # noqa: S101  (flushed)
        ticket = await _ticket(session, event.ticket_id, customer.id, now)
        await session.exec(
            update(Ticket).where(col(Ticket.id) == ticket.id).values(reopened_at=Ticket.reopened_at)
        )
        await session.refresh(ticket)
        existing = await _this_closing(session, ticket, event.closed_at)
        if existing is not None:
            await session.commit()
            return _record(existing, event.ticket_id, created=False)
        assert ticket.id is not None  # noqa: S101  (flushed)
        survey = Survey(
            ticket_id=ticket.id,
            customer_id=customer.id,
            status=status,
            skip_reason=skip_reason,
            closed_at=event.closed_at,
            agent=event.agent,
            team=event.team,
            channel=event.channel,
            company=event.customer.company or customer.company,
            tags=list(event.tags),
            due_at=due_at,
            completed_at=now if skip_reason else None,
            created_at=now,
        )
        session.add(survey)
        await session.commit()
    except IntegrityError:  # the same closing delivered twice at once: the other one won
        await session.rollback()
        found = await session.exec(select(Ticket).where(Ticket.external_id == event.ticket_id))
        ticket_row = found.first()
        existing = (
            None
            if ticket_row is None
            else await _this_closing(session, ticket_row, event.closed_at)
        )
        if existing is None:
            raise
        return _record(existing, event.ticket_id, created=False)
    return _record(survey, event.ticket_id, created=True)


async def cancel_unsent(session: AsyncSession, *, ticket_id: str, now: datetime) -> int:
    """The ticket was reopened: surveys that have not reached the client are cancelled."""
    await session.exec(
        update(Ticket).where(col(Ticket.external_id) == ticket_id).values(reopened_at=now)
    )
    unsent = await session.exec(
        select(Survey.id)
        .join(Ticket, col(Ticket.id) == Survey.ticket_id)
        .where(Ticket.external_id == ticket_id)
        .where(col(Survey.status).in_(NOT_YET_SENT))
    )
    survey_ids = [survey_id for survey_id in unsent.all() if survey_id is not None]
    if not survey_ids:
        await session.commit()
        return 0
    await session.exec(
        update(Survey)
        .where(col(Survey.id).in_(survey_ids))
        .where(col(Survey.status).in_(NOT_YET_SENT))
        .values(status=SurveyStatus.CANCELLED, skip_reason="reopened", completed_at=now)
    )
    await outbox.withdraw(session, survey_ids=survey_ids, reason="ticket reopened")
    customer_id = (
        await session.exec(select(Ticket.customer_id).where(Ticket.external_id == ticket_id))
    ).one()
    await repo.recount_last_surveyed(session, customer_id=customer_id)  # the slot is free again
    await session.commit()
    return len(survey_ids)

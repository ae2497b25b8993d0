"""Recording closed tickets: once per ticket, attribution frozen, times kept in UTC."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from storage import repo
from storage.db import SessionFactory
from storage.models import Customer, Survey, Ticket

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def event(ticket_id: str = "T-1", **customer: object) -> TicketClosed:
    return TicketClosed(
        ticket_id=ticket_id,
        closed_at=datetime(2026, 11, 20, 15, 0, tzinfo=timezone(timedelta(hours=3))),
        customer=CustomerInfo(helpdesk_id="c-1", **customer),  # type: ignore[arg-type]
        agent="Ivan",
        team="L2",
        channel="email",
    )


async def test_same_ticket_twice_gives_the_same_survey(sessions: SessionFactory) -> None:
    async with sessions() as session:
        first = await repo.record_ticket_closed(session, event=event(), due_at=NOW, now=NOW)
    async with sessions() as session:
        second = await repo.record_ticket_closed(session, event=event(), due_at=NOW, now=NOW)
    assert first.created and not second.created
    assert first.survey_id == second.survey_id
    assert second.status is SurveyStatus.PENDING


async def test_concurrent_duplicates_create_one_survey(sessions: SessionFactory) -> None:
    async def post() -> int:
        async with sessions() as session:
            record = await repo.record_ticket_closed(
                session, event=event("T-9"), due_at=NOW, now=NOW
            )
            return record.survey_id

    ids = await asyncio.gather(*(post() for _ in range(5)))
    assert len(set(ids)) == 1
    async with sessions() as session:
        surveys = (await session.exec(Survey.__table__.select())).all()  # type: ignore[attr-defined]
    assert len(surveys) == 1


async def test_concurrent_first_tickets_of_one_new_customer_both_land(
    sessions: SessionFactory,
) -> None:
    async def post(ticket_id: str) -> repo.SurveyRecord:
        async with sessions() as session:
            return await repo.record_ticket_closed(
                session, event=event(ticket_id, name="Anna"), due_at=NOW, now=NOW
            )

    records = await asyncio.gather(*(post(f"T-{n}") for n in range(6)))
    assert all(record.created for record in records)
    assert len({record.survey_id for record in records}) == 6
    async with sessions() as session:
        customers = (await session.exec(Customer.__table__.select())).all()  # type: ignore[attr-defined]
    assert len(customers) == 1


async def test_times_come_back_aware_utc_and_attribution_is_kept(sessions: SessionFactory) -> None:
    async with sessions() as session:
        record = await repo.record_ticket_closed(
            session, event=event(telegram_user_id=555, name="Anna"), due_at=NOW, now=NOW
        )
    async with sessions() as session:
        context = await repo.load_context(session, survey_id=record.survey_id)
    assert context is not None
    assert context.ticket.closed_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert context.ticket.closed_at.tzinfo is UTC
    assert (context.ticket.agent, context.ticket.team, context.ticket.channel) == (
        "Ivan",
        "L2",
        "email",
    )
    assert context.customer.chat_id == 555  # a private chat's id is the user's id
    assert context.survey.due_at == NOW


async def test_a_later_ticket_updates_the_customer_without_erasing(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        await repo.record_ticket_closed(
            session, event=event("T-1", name="Anna", phone="+7900"), due_at=NOW, now=NOW
        )
    async with sessions() as session:
        await repo.record_ticket_closed(
            session, event=event("T-2", company="ACME"), due_at=NOW, now=NOW
        )
    async with sessions() as session:
        customers = (await session.exec(Customer.__table__.select())).all()  # type: ignore[attr-defined]
        tickets = (await session.exec(Ticket.__table__.select())).all()  # type: ignore[attr-defined]
    assert len(customers) == 1 and len(tickets) == 2
    assert (customers[0].name, customers[0].phone, customers[0].company) == (
        "Anna",
        "+7900",
        "ACME",
    )


async def test_due_surveys_need_a_due_time_and_a_chat(sessions: SessionFactory) -> None:
    async with sessions() as session:
        linked = await repo.record_ticket_closed(
            session, event=event("T-1", telegram_user_id=7), due_at=NOW, now=NOW
        )
        later = await repo.record_ticket_closed(
            session, event=event("T-2"), due_at=NOW + timedelta(hours=1), now=NOW
        )
    async with sessions() as session:
        assert await repo.due_survey_ids(session, now=NOW, limit=10) == [linked.survey_id]
        assert await repo.due_survey_ids(session, now=NOW + timedelta(hours=2), limit=10) == [
            linked.survey_id,
            later.survey_id,
        ]


async def test_naive_datetimes_are_refused(sessions: SessionFactory) -> None:
    async with sessions() as session:
        with pytest.raises(Exception, match="naive datetime"):
            await repo.record_ticket_closed(
                session,
                event=event(),
                due_at=datetime(2026, 1, 1),  # noqa: DTZ001  (the point of the test)
                now=NOW,
            )

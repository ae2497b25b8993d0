"""Recording closed tickets: once per ticket, attribution frozen, times kept in UTC."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from storage import repo, tickets
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
        first = await tickets.record_ticket_closed(session, event=event(), due_at=NOW, now=NOW)
    async with sessions() as session:
        second = await tickets.record_ticket_closed(session, event=event(), due_at=NOW, now=NOW)
    assert first.created and not second.created
    assert first.survey_id == second.survey_id
    assert second.status is SurveyStatus.PENDING


async def test_concurrent_duplicates_create_one_survey(sessions: SessionFactory) -> None:
    async def post() -> int:
        async with sessions() as session:
            record = await tickets.record_ticket_closed(
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
    async def post(ticket_id: str) -> tickets.SurveyRecord:
        async with sessions() as session:
            return await tickets.record_ticket_closed(
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
        record = await tickets.record_ticket_closed(
            session, event=event(telegram_user_id=555, name="Anna"), due_at=NOW, now=NOW
        )
    async with sessions() as session:
        context = await repo.load_context(session, survey_id=record.survey_id)
    assert context is not None
    assert context.survey.closed_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert context.survey.closed_at.tzinfo is UTC
    assert (context.survey.agent, context.survey.team, context.survey.channel) == (
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
        await tickets.record_ticket_closed(
            session, event=event("T-1", name="Anna"), due_at=NOW, now=NOW, phone="+79001234567"
        )
    async with sessions() as session:
        await tickets.record_ticket_closed(
            session, event=event("T-2", company="ACME"), due_at=NOW, now=NOW
        )
    async with sessions() as session:
        customers = (await session.exec(Customer.__table__.select())).all()  # type: ignore[attr-defined]
        stored = (await session.exec(Ticket.__table__.select())).all()  # type: ignore[attr-defined]
    assert len(customers) == 1 and len(stored) == 2
    assert (customers[0].name, customers[0].phone, customers[0].company) == (
        "Anna",
        "+79001234567",
        "ACME",
    )


async def test_due_surveys_need_a_due_time_and_a_chat(sessions: SessionFactory) -> None:
    async with sessions() as session:
        linked = await tickets.record_ticket_closed(
            session, event=event("T-1", telegram_user_id=7), due_at=NOW, now=NOW
        )
        later = await tickets.record_ticket_closed(
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
            await tickets.record_ticket_closed(
                session,
                event=event(),
                due_at=datetime(2026, 1, 1),  # noqa: DTZ001  (the point of the test)
                now=NOW,
            )


async def test_reopened_ticket_cancels_the_unsent_survey_and_a_new_closing_makes_another(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session:
        first = await tickets.record_ticket_closed(session, event=event(), due_at=NOW, now=NOW)
    reopened, now = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    async with sessions() as session:
        assert await tickets.cancel_unsent(session, ticket_id="T-1", now=reopened) == 1
        assert await tickets.cancel_unsent(session, ticket_id="T-1", now=reopened) == 0
        assert await tickets.cancel_unsent(session, ticket_id="unknown", now=reopened) == 0
    later = replace(event(), closed_at=NOW + timedelta(days=1), agent="Olga")
    async with sessions() as session:
        retried = await tickets.record_ticket_closed(session, event=event(), due_at=now, now=now)
        second = await tickets.record_ticket_closed(session, event=later, due_at=now, now=now)
        again = await tickets.record_ticket_closed(session, event=later, due_at=now, now=now)
    assert retried.survey_id == first.survey_id  # the old closing, retried: nothing new
    assert retried.status is SurveyStatus.CANCELLED
    assert second.created and second.survey_id != first.survey_id
    assert not again.created and again.survey_id == second.survey_id
    async with sessions() as session:
        context = await repo.load_context(session, survey_id=second.survey_id)
    assert context is not None and context.survey.agent == "Olga"
    async with sessions() as session:
        original = await repo.load_context(session, survey_id=first.survey_id)
    assert original is not None and original.survey.agent == "Ivan"  # credit stays put


async def test_a_second_event_of_one_closing_with_another_time_is_not_a_new_survey(
    sessions: SessionFactory,
) -> None:
    solved = event()
    closed = replace(solved, closed_at=solved.closed_at + timedelta(days=4))  # Solved -> Closed
    async with sessions() as session:
        first = await tickets.record_ticket_closed(session, event=solved, due_at=NOW, now=NOW)
    async with sessions() as session:
        second = await tickets.record_ticket_closed(session, event=closed, due_at=NOW, now=NOW)
    assert (second.created, second.survey_id) == (False, first.survey_id)


async def test_a_closing_a_rule_excludes_is_recorded_as_skipped(sessions: SessionFactory) -> None:
    async with sessions() as session:
        record = await tickets.record_ticket_closed(
            session, event=event(), due_at=NOW, now=NOW, skip_reason="tag:spam"
        )
    assert (record.status, record.skip_reason) == (SurveyStatus.SKIPPED, "tag:spam")
    async with sessions() as session:
        assert await repo.due_survey_ids(session, now=NOW, limit=10) == []

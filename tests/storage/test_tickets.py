"""Recording closed tickets: once per ticket, attribution frozen, times kept in UTC."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event as sa_event

from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from storage import survey_queries, tickets
from storage.db import SessionFactory
from storage.models import Customer, Survey, Ticket
from storage.tables import table_of

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
        surveys = (await session.exec(table_of(Survey).select())).all()
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
        customers = (await session.exec(table_of(Customer).select())).all()
    assert len(customers) == 1


async def test_times_come_back_aware_utc_and_attribution_is_kept(sessions: SessionFactory) -> None:
    async with sessions() as session:
        record = await tickets.record_ticket_closed(
            session, event=event(telegram_user_id=555, name="Anna"), due_at=NOW, now=NOW
        )
    async with sessions() as session:
        context = await survey_queries.load_context(session, survey_id=record.survey_id)
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
        customers = (await session.exec(table_of(Customer).select())).all()
        stored = (await session.exec(table_of(Ticket).select())).all()
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
        assert await survey_queries.due_survey_ids(session, now=NOW, limit=10) == [linked.survey_id]
        assert await survey_queries.due_survey_ids(
            session, now=NOW + timedelta(hours=2), limit=10
        ) == [
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
        context = await survey_queries.load_context(session, survey_id=second.survey_id)
    assert context is not None and context.survey.agent == "Olga"
    async with sessions() as session:
        original = await survey_queries.load_context(session, survey_id=first.survey_id)
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
        assert await survey_queries.due_survey_ids(session, now=NOW, limit=10) == []


def closing(
    ticket_id: str, helpdesk_id: str = "c-1", days: int = 0, **customer: object
) -> tickets.Closing:
    base = event(ticket_id)
    return tickets.Closing(
        replace(
            base,
            closed_at=base.closed_at + timedelta(days=days),
            customer=CustomerInfo(helpdesk_id=helpdesk_id, **customer),  # type: ignore[arg-type]
        ),
        due_at=NOW,
    )


async def test_one_batch_answers_each_closing_as_if_recorded_one_by_one(
    sessions: SessionFactory,
) -> None:
    batch = [
        closing("T-1"),
        closing("T-1"),  # the webhook retried within the same burst
        closing("T-1", days=4),  # Solved, then Closed: the same closing
        closing("T-2", "c-2"),
        closing("T-3", "c-1"),
    ]
    async with sessions() as session:
        records = await tickets.record_closings(session, batch, now=NOW)
    assert [record.created for record in records] == [True, False, False, True, True]
    assert records[0].survey_id == records[1].survey_id == records[2].survey_id
    assert len({records[0].survey_id, records[3].survey_id, records[4].survey_id}) == 3
    assert [record.ticket_id for record in records] == ["T-1", "T-1", "T-1", "T-2", "T-3"]
    async with sessions() as session:
        again = await tickets.record_closings(session, batch[::-1], now=NOW)
    assert [record.survey_id for record in again[::-1]] == [r.survey_id for r in records]
    assert not any(record.created for record in again)


async def test_a_batch_merges_one_customers_data_in_order(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await tickets.record_ticket_closed(
            session, event=event("T-0", company="Old Co"), due_at=NOW, now=NOW
        )
    batch = [
        closing("T-1", name="Anna"),
        closing("T-2", telegram_user_id=555, company="ACME"),
        closing("T-3", telegram_user_id=777, name=None, language="ru"),
    ]
    async with sessions() as session:
        await tickets.record_closings(session, batch, now=NOW)
    async with sessions() as session:
        (customer,) = (await session.exec(table_of(Customer).select())).all()
        context = await survey_queries.load_context(session, survey_id=3)
    assert (customer.name, customer.company, customer.language) == ("Anna", "ACME", "ru")
    assert (customer.telegram_user_id, customer.chat_id) == (555, 555)  # the first id given
    assert context is not None and context.survey.company == "ACME"


async def test_concurrent_batches_with_overlapping_tickets_make_each_survey_once(
    sessions: SessionFactory,
) -> None:
    closings = [closing(f"T-{n}", f"c-{n % 3}") for n in range(12)]

    async def post(batch: list[tickets.Closing]) -> list[tickets.SurveyRecord]:
        async with sessions() as session:
            return await tickets.record_closings(session, batch, now=NOW)

    results = await asyncio.gather(
        post(closings), post(closings[::-1]), post(closings[3:9]), post(closings[::2])
    )
    by_ticket: dict[str, set[int]] = {}
    for records in results:
        for record in records:
            by_ticket.setdefault(record.ticket_id, set()).add(record.survey_id)
    assert all(len(ids) == 1 for ids in by_ticket.values())
    created = sum(record.created for records in results for record in records)
    assert created == 12
    async with sessions() as session:
        surveys = (await session.exec(table_of(Survey).select())).all()
    assert len(surveys) == 12


async def test_a_batch_stores_the_whole_closing_as_given(sessions: SessionFactory) -> None:
    async with sessions() as session:
        await tickets.record_ticket_closed(
            session, event=event("T-0", company="ACME"), due_at=NOW, now=NOW
        )
    tagged = replace(event("T-1"), tags=("billing", "vip"))
    own_company = replace(
        event("T-2"), customer=CustomerInfo(helpdesk_id="c-2", company="Other Co")
    )
    batch = [
        tickets.Closing(tagged, due_at=NOW + timedelta(minutes=30)),
        tickets.Closing(own_company, due_at=NOW, skip_reason="tag:spam"),
    ]
    async with sessions() as session:
        first, skipped = await tickets.record_closings(session, batch, now=NOW)
    async with sessions() as session:
        stored = {row.id: row for row in (await session.exec(table_of(Survey).select())).all()}
    survey = stored[first.survey_id]
    assert survey.tags == ["billing", "vip"]
    assert survey.company == "ACME"  # the customer's, as the closing named none
    assert (survey.agent, survey.team, survey.channel) == ("Ivan", "L2", "email")
    assert survey.due_at == NOW + timedelta(minutes=30)
    assert (survey.status, survey.skip_reason, survey.completed_at) == ("pending", None, None)
    assert survey.created_at == NOW
    other = stored[skipped.survey_id]
    assert other.company == "Other Co"
    assert (other.status, other.skip_reason, other.completed_at) == ("skipped", "tag:spam", NOW)
    assert other.tags == []


async def test_a_ticket_in_one_batch_for_two_customers_belongs_to_the_first(
    sessions: SessionFactory,
) -> None:
    batch = [closing("T-1", "c-2"), closing("T-1", "c-1", days=1)]
    async with sessions() as session:
        records = await tickets.record_closings(session, batch, now=NOW)
    assert [record.created for record in records] == [True, False]
    async with sessions() as session:
        customers = {
            row.helpdesk_id: row.id
            for row in (await session.exec(table_of(Customer).select())).all()
        }
        (ticket,) = (await session.exec(table_of(Ticket).select())).all()
        (survey,) = (await session.exec(table_of(Survey).select())).all()
    assert set(customers) == {"c-1", "c-2"}  # both recorded
    assert ticket.customer_id == survey.customer_id == customers["c-2"]


async def test_a_later_closing_links_a_chat_once_and_never_replaces_it(
    sessions: SessionFactory,
) -> None:
    for ticket_id, user in (("T-1", None), ("T-2", 555), ("T-3", 777), ("T-4", None)):
        async with sessions() as session:
            record = await tickets.record_ticket_closed(
                session, event=event(ticket_id, telegram_user_id=user), due_at=NOW, now=NOW
            )
        assert record.reachable is (user is not None or ticket_id == "T-4")
        async with sessions() as session:
            (customer,) = (await session.exec(table_of(Customer).select())).all()
        expected = None if ticket_id == "T-1" else 555
        assert (customer.telegram_user_id, customer.chat_id) == (expected, expected)


async def test_a_naive_closing_time_is_refused_in_a_batch(sessions: SessionFactory) -> None:
    naive = replace(event(), closed_at=datetime(2026, 11, 20, 15, 0))  # noqa: DTZ001
    async with sessions() as session:
        with pytest.raises(Exception, match="naive datetime"):
            await tickets.record_closings(session, [tickets.Closing(naive, due_at=NOW)], now=NOW)


async def test_first_closings_skip_the_survey_lookup_and_known_tickets_still_find_theirs(
    sessions: SessionFactory,
) -> None:
    """PostgreSQL knows which tickets its statement inserted: they have no survey to look up.

    A batch of first closings (the usual one) sends no query for surveys; a batch with a ticket
    stored before still finds that ticket's survey, and a new ticket beside it gets its own.
    """
    async with sessions() as session:
        bind = session.bind
        if bind is None or bind.dialect.name != "postgresql":
            pytest.skip("SQLite has no xmax: it looks surveys up for every batch")
        sent: list[str] = []

        def seen(*args: object) -> None:
            sent.append(str(args[2]))

        sa_event.listen(bind.sync_engine, "before_cursor_execute", seen)
        try:
            first = await tickets.record_closings(
                session, [closing("T-1"), closing("T-2", "c-2")], now=NOW
            )
            lookups_first = sum("FROM survey" in statement for statement in sent)
            sent.clear()
            second = await tickets.record_closings(
                session, [closing("T-3"), closing("T-1"), closing("T-2", days=4)], now=NOW
            )
            lookups_second = sum("FROM survey" in statement for statement in sent)
        finally:
            sa_event.remove(bind.sync_engine, "before_cursor_execute", seen)
    assert lookups_first == 0
    assert lookups_second == 1
    assert [record.created for record in first] == [True, True]
    assert [record.created for record in second] == [True, False, False]
    assert second[1].survey_id == first[0].survey_id
    assert second[2].survey_id == first[1].survey_id
    assert second[0].survey_id not in {first[0].survey_id, first[1].survey_id}

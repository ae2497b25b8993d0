"""Sweeps running at once (the scheduled one, the ones intakes kick, other instances' sweeps)
beside intakes that lock customers: each survey is queued once, and PostgreSQL finds no
deadlock.

Before, a sweep read its due ids and then updated surveys and customers one by one, waiting for
any row another transaction held while holding its own; an intake's batch locks its customers in
another order, and PostgreSQL aborted one of the two (about one in ten batches here).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bot.core.rules import SurveyRules
from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.survey.sweep import SurveySweep
from storage import tickets
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage, Survey

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CUSTOMERS = 300
BATCHES = 20  # per instance
BATCH = 25  # closings per intake batch, as the intake's group commit makes them


@pytest.fixture
async def instances(database_url: str) -> AsyncIterator[list[SessionFactory]]:
    """Two instances on one database: each has its own engine and connection pool."""
    engines = [make_engine(database_url) for _ in range(2)]
    await upgrade_to_head(engines[0])
    yield [make_session_factory(engine) for engine in engines]
    for engine in engines:
        await engine.dispose()


def sweep(sessions: SessionFactory) -> SurveySweep:
    return SurveySweep(
        session_factory=sessions,
        rules=SurveyRules(throttle=timedelta(0)),  # every due survey is asked
        company="Acme",
        default_language="en",
        wake=lambda: None,
        clock=lambda: NOW,
    )


async def test_sweeps_and_intakes_at_once_queue_each_survey_once_without_deadlocks(
    instances: list[SessionFactory],
) -> None:
    numbers = itertools.count()
    chance = random.Random(12)
    failures: list[str] = []
    intakes_done = asyncio.Event()

    def closing() -> tickets.Closing:
        customer = chance.randrange(CUSTOMERS)  # linked: the helpdesk sends the Telegram id
        info = CustomerInfo(helpdesk_id=f"c-{customer:04d}", telegram_user_id=50_000 + customer)
        event = TicketClosed(
            ticket_id=f"T-{next(numbers)}", closed_at=NOW, customer=info, agent="Ivan"
        )
        return tickets.Closing(event=event, due_at=NOW - timedelta(seconds=1))

    async def intake(sessions: SessionFactory) -> None:
        for _ in range(BATCHES):
            try:
                async with sessions() as session:
                    await tickets.record_closings(
                        session, [closing() for _ in range(BATCH)], now=NOW
                    )
            except DBAPIError as error:
                failures.append(f"intake: {type(error.orig).__name__}")

    async def sweeping(one: SurveySweep) -> None:
        while True:
            done = intakes_done.is_set()
            try:
                queued = await one.queue_due()
            except DBAPIError as error:
                failures.append(f"sweep: {type(error.orig).__name__}")
                continue
            if done and not queued:
                return
            await asyncio.sleep(0)

    sweeps = [sweep(sessions) for sessions in instances for _ in range(2)]
    running = [asyncio.create_task(sweeping(one)) for one in sweeps]
    await asyncio.gather(*(intake(sessions) for sessions in instances))
    intakes_done.set()
    await asyncio.gather(*running)

    assert failures == []
    async with instances[0]() as session:
        statuses = dict(
            (await session.exec(select(Survey.status, func.count()).group_by(Survey.status))).all()  # type: ignore[call-overload]
        )
        questions = (
            await session.exec(
                select(OutboxMessage.survey_id, func.count()).group_by(OutboxMessage.survey_id)  # type: ignore[call-overload]
            )
        ).all()
    surveys = 2 * BATCHES * BATCH
    assert statuses == {SurveyStatus.QUEUED: surveys}  # every one was queued, none waits
    assert len(questions) == surveys and {count for _id, count in questions} == {1}

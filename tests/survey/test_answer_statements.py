"""A score press stores the answer, queues the edit, the follow-up and (for a detractor) the
alert and its case in one transaction of few statements, every row tied to the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.core.callback import ScorePress, decode
from storage.models import AlertCase, OutboxMessage
from tests.survey.helpers import MANAGERS, Bench, open_bench
from tests.survey.test_answers import ask, data_of


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url) as built:
        yield built


def sqlite(bench: Bench) -> int:
    return int(bench.services.engine.dialect.name == "sqlite")


async def pressed(bench: Bench, user: int, ticket: str, label: str) -> tuple[str, list[str]]:
    """``user`` presses ``label`` under their question: the toast and the statements run.

    On SQLite the multi-row INSERT of the edit and the follow-up is one INSERT per row (no
    round trips to save there): one statement more.
    """
    question = await ask(bench, user, ticket)
    statements: list[str] = []
    mine = asyncio.current_task()

    def record(*args: object) -> None:
        if asyncio.current_task() is mine:  # not a job the intake kicked, running beside it
            statements.append(str(args[2]))

    engine = bench.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        press = decode(data_of(question, label))
        assert isinstance(press, ScorePress) and question.message_id is not None
        toast = await bench.services.answers.record_score(
            survey_id=press.survey_id,
            score=press.score,
            presser_id=user,
            message_id=question.message_id,
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return toast, statements


async def test_a_detractors_press_is_nine_statements_and_its_rows_point_at_each_other(
    bench: Bench,
) -> None:
    """Before: eleven (the case's ORM flush, and the survey's two outbox ids written apart)."""
    toast, statements = await pressed(bench, 6401, "T-641", "2")
    assert toast == "Thank you!"
    assert len(statements) <= 9 + sqlite(bench), statements
    async with bench.services.session_factory() as session:
        (case,) = (await session.exec(select(AlertCase))).all()
        survey = await bench.survey(case.survey_id)
        (alert,) = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == MANAGERS))
        ).all()
        prompt = await session.get(OutboxMessage, survey.prompt_outbox_id)
    assert (survey.status, survey.score) == ("answered", 2)
    assert case.outbox_id == survey.alert_outbox_id == alert.id
    assert str(case.id) in str(alert.payload)  # the alert's buttons carry its case
    assert prompt is not None and prompt.method == "sendMessage" and prompt.chat_id == 6401


async def test_a_promoters_press_is_five_statements(bench: Bench) -> None:
    toast, statements = await pressed(bench, 6402, "T-642", "10")
    assert toast == "Thank you!"
    assert len(statements) <= 5 + sqlite(bench), statements
    async with bench.services.session_factory() as session:
        assert (await session.exec(select(AlertCase))).all() == []

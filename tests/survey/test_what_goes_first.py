"""Which of a client's messages go before a broadcast: what answers their own press does, what
the sweep sends on its own schedule does not (``outbox.priority``, bot.delivery.purposes).

Checked at the services level, on SQLite and PostgreSQL, from the rows the outbox stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.callback import ScorePress
from bot.core.tickets import CustomerInfo
from storage.outbox import Priority
from tests.survey.helpers import Bench, open_bench, press, text


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url) as built:
        yield built


async def test_replies_to_a_press_go_first_and_the_sweeps_own_messages_do_not(
    bench: Bench,
) -> None:
    user = 7601
    survey_id = (
        await bench.close_ticket("T-76", CustomerInfo("c-76", telegram_user_id=user))
    ).survey_id
    await bench.settle()
    bench.clock.move_to(bench.clock() + timedelta(hours=25))
    await bench.settle()  # the reminder
    question, reminder = await bench.sent(user)
    nine = press(question, "9")
    assert isinstance(nine, ScorePress) and question.message_id is not None
    await bench.services.answers.record_score(
        survey_id=survey_id, score=nine.score, presser_id=user, message_id=question.message_id
    )
    await bench.settle()
    bench.clock.move_to(bench.clock() + timedelta(hours=1))  # past the change window
    await bench.settle()
    rows = await bench.queued(user)
    kinds = [(row.method, row.priority) for row in rows]
    assert "reminder" in text(reminder).lower()
    assert kinds == [
        ("sendMessage", Priority.BULK),  # the question
        ("sendMessage", Priority.BULK),  # the reminder
        ("editMessageText", Priority.INTERACTIVE),  # the pressed message shows the score
        ("sendMessage", Priority.INTERACTIVE),  # the follow-up question
        ("editMessageText", Priority.BULK),  # the change window closed: the score is final
    ]

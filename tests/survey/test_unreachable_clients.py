"""What Telegram's refusals of the question do to the survey: a client who never started the bot
is waited for, one who blocked it is marked unreachable and not asked again, and either way the
client's own /start brings the survey back.

Telegram's answer is the point, so the question goes through PTB to the fake Bot API, which
answers 400 for a chat that does not exist and 403 for a blocked bot, as Telegram does
(``tests.survey.fake_telegram``); no bot is polling. ``Bench.settle`` returns once those
answers are recorded, so what a test then finds is the state, not a moment in it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.callback import ScorePress
from bot.core.tickets import CustomerInfo
from bot.sandbox.server import FakeBotApi
from storage.models import OutboxMessage
from tests.survey.fake_telegram import bench_on_fake_telegram
from tests.survey.helpers import Bench, press, text


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[tuple[Bench, FakeBotApi]]:
    async with bench_on_fake_telegram(database_url) as built:
        yield built


def answers_to(telegram: FakeBotApi, chat_id: int) -> list[int]:
    """The HTTP status of every sendMessage to ``chat_id``, in order."""
    return [
        call.status
        for call in telegram.calls_of("sendMessage")
        if call.params.get("chat_id") == chat_id
    ]


async def question_sent(bench: Bench, chat_id: int, ticket_id: str) -> OutboxMessage:
    (question,) = [row for row in await bench.sent(chat_id) if ticket_id in text(row)]
    return question


async def test_a_known_id_of_a_client_who_never_started_the_bot_waits_for_their_start(
    world: tuple[Bench, FakeBotApi],
) -> None:
    """Telegram knows no chat with someone who never pressed Start: the survey is not retried
    into that wall nor dropped, and goes out, once, when the client starts the bot."""
    bench, telegram = world
    client = CustomerInfo(helpdesk_id="c-5", telegram_user_id=9100)
    survey_id = (await bench.close_ticket("T-500", client)).survey_id
    await bench.settle()
    assert answers_to(telegram, 9100) == [400]  # Telegram: chat not found
    assert (await bench.survey(survey_id)).status == "pending"

    await bench.settle()  # swept and drained again: the survey waits, not retried or dropped
    assert (await bench.survey(survey_id)).status == "pending"
    assert answers_to(telegram, 9100) == [400]

    telegram.client(9100, "Gleb")  # the client presses Start
    await bench.services.linking.greet(user_id=9100, chat_id=9100, language="en")
    await bench.settle()
    question = await question_sent(bench, 9100, "T-500")
    stored = await bench.survey(survey_id)
    assert stored.status == "sent" and stored.message_id == question.message_id
    eight = press(question, "8")
    assert isinstance(eight, ScorePress) and question.message_id is not None
    toast = await bench.services.answers.record_score(
        survey_id=eight.survey_id, score=8, presser_id=9100, message_id=question.message_id
    )
    assert toast == "Thank you!"
    await bench.settle()
    assert [line for line in await bench.said(9100) if "What would make it a 10?" in line]
    sends = [c for c in telegram.calls_of("sendMessage") if c.params.get("chat_id") == 9100]
    assert sum("T-500" in str(c.params.get("text")) for c in sends if c.status == 200) == 1


async def test_a_client_who_blocked_the_bot_is_marked_unreachable(
    world: tuple[Bench, FakeBotApi],
) -> None:
    """A 403 is the client's decision: the survey ends and nothing is sent again."""
    bench, telegram = world
    telegram.block(9200)
    client = CustomerInfo(helpdesk_id="c-6", telegram_user_id=9200)
    survey_id = (await bench.close_ticket("T-600", client)).survey_id
    await bench.settle()
    assert (await bench.survey(survey_id)).status == "unreachable"

    await bench.settle()
    assert answers_to(telegram, 9200) == [403]  # never retried
    assert len([c for c in telegram.calls if c.status == 403]) == 1


async def test_a_deep_link_revives_a_survey_that_found_the_bot_blocked(
    world: tuple[Bench, FakeBotApi],
) -> None:
    """A client who unblocked the bot and opened the survey's link is asking for it: it goes
    at once, though it was given up."""
    bench, telegram = world
    telegram.block(9300)
    closed = await bench.close_ticket("T-800", CustomerInfo("c-8", telegram_user_id=9300))
    await bench.settle()
    assert (await bench.survey(closed.survey_id)).status == "unreachable"
    telegram.unblock(9300)

    opened = await bench.services.linking.open_link(
        payload=closed.deep_link.rsplit("=", 1)[1], user_id=9300, chat_id=9300, language="en"
    )
    await bench.settle()

    assert opened
    question = await question_sent(bench, 9300, "T-800")
    markup = question.payload["reply_markup"]["inline_keyboard"]
    assert sum(len(line) for line in markup) == 13  # 0..10 and the two end labels
    assert answers_to(telegram, 9300).count(403) == 1  # the refusal, before the link

"""A client the helpdesk knows only by name is reached through the survey's signed deep link.

``/start <payload>`` is the handler's ``linking.open_link``, a plain ``/start`` its
``linking.greet`` (bot/survey/handlers.py); what each chat is told is read from the outbox
(``tests.survey.helpers``). A customer's connect link is tests/survey/test_links_and_contacts.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.tickets import CustomerInfo
from tests.survey.helpers import Bench, open_bench, text

CLIENT = 7003
INTRUDER = 7004


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url) as built:
        yield built


async def said(bench: Bench, chat_id: int, containing: str) -> list[str]:
    return [line for line in await bench.said(chat_id) if containing in line]


async def test_a_deep_link_links_the_chat_and_sends_the_waiting_survey(bench: Bench) -> None:
    """Only the link's signature ties a chat to a customer: a plain /start cannot (nobody named
    this Telegram user), a forged payload is refused, and a genuine link opened by someone else
    does not take the customer over."""
    closed = await bench.close_ticket("T-300", CustomerInfo(helpdesk_id="c-3", name="Vera"))
    payload = closed.deep_link.rsplit("=", 1)[1]
    linking = bench.services.linking

    await linking.greet(user_id=CLIENT, chat_id=CLIENT, language="en")
    await bench.settle()
    assert await said(bench, CLIENT, "feedback bot of ACME &amp; Co")
    assert await said(bench, CLIENT, "recommend") == []

    forged = "s1_AAAAAAAAAAAAAAAAAAAAAA"
    assert not await linking.open_link(
        payload=forged, user_id=INTRUDER, chat_id=INTRUDER, language="en"
    )
    await bench.settle()
    assert len(await said(bench, INTRUDER, "not valid")) == 1

    assert await linking.open_link(payload=payload, user_id=CLIENT, chat_id=CLIENT, language="en")
    await bench.settle()
    assert await said(bench, CLIENT, "now connected")
    (question,) = [row for row in await bench.sent(CLIENT) if "T-300" in text(row)]
    assert len(question.payload["reply_markup"]["inline_keyboard"]) == 3  # 0-5, 6-10, labels

    assert not await linking.open_link(
        payload=payload, user_id=INTRUDER, chat_id=INTRUDER, language="en"
    )
    await bench.settle()
    assert len(await said(bench, INTRUDER, "not valid")) == 2
    assert [row for row in await bench.queued(INTRUDER) if "T-300" in text(row)] == []

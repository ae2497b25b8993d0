"""Ways to reach a client, and their refusals: a customer's connect link, an expired link, a
link someone else opens, a phone number no customer has.

``ClientLinking`` is called as the /start and contact handlers call it, with what the update
carries (the /start payload, the sender, the contact's owner and number); what the client is
told is read from the outbox (``tests.survey.helpers``). Matching a shared contact through
Telegram (the request_contact keyboard, someone else's card) is the e2e suite's
``test_phone_match_through_a_shared_contact``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.tickets import CustomerInfo
from tests.survey.helpers import Bench, open_bench, text


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url) as built:
        yield built


def payload_of(deep_link: str) -> str:
    """The /start payload of a t.me deep link, as Telegram hands it to the bot."""
    return deep_link.rsplit("=", 1)[1]


async def test_customer_connect_link_links_the_chat_and_sends_waiting_surveys(
    bench: Bench,
) -> None:
    """A helpdesk that knows no Telegram id sends the customer a connect link: opening it ties
    the chat to the customer, and the survey that waited goes out at once."""
    await bench.close_ticket("T-51", CustomerInfo(helpdesk_id="c-51", name="Rita"))
    link = await bench.services.intake.connect_link(CustomerInfo(helpdesk_id="c-51"))
    assert link.expires_at > bench.clock()
    await bench.services.linking.open_link(
        payload=payload_of(link.deep_link), user_id=7501, chat_id=7501, language="en"
    )
    await bench.settle()
    said = await bench.said(7501)
    assert [line for line in said if "now connected" in line]
    assert [line for line in said if "T-51" in line]


async def test_an_expired_link_is_refused_with_a_clear_message(bench: Bench) -> None:
    """A link past its lifetime says so, instead of a vague refusal, and links nothing."""
    closed = await bench.close_ticket("T-61", CustomerInfo(helpdesk_id="c-61"))
    bench.clock.move_to(bench.clock() + timedelta(days=31))
    await bench.services.linking.open_link(
        payload=payload_of(closed.deep_link), user_id=7601, chat_id=7601, language="en"
    )
    await bench.settle()
    assert [line for line in await bench.said(7601) if "expired" in line]
    assert not [row for row in await bench.queued(7601) if "T-61" in text(row)]


async def test_an_unknown_phone_number_is_told_so(bench: Bench) -> None:
    """A client whose number no customer has is told so, not left waiting for a survey."""
    await bench.services.linking.greet(user_id=7801, chat_id=7801, language="en")
    await bench.services.linking.share_contact(
        user_id=7801, chat_id=7801, contact_user_id=7801, phone="79005556677", language="en"
    )
    await bench.settle()
    assert [line for line in await bench.said(7801) if "could not find this number" in line]


async def test_someone_else_cannot_take_over_a_customer_link(bench: Bench) -> None:
    """A customer already tied to one Telegram user stays theirs: a forwarded connect link
    opened by another user is refused, and their surveys do not go to the stranger."""
    await bench.close_ticket("T-80", CustomerInfo(helpdesk_id="c-80", telegram_user_id=8001))
    await bench.settle()
    assert [line for line in await bench.said(8001) if "T-80" in line]
    link = await bench.services.intake.connect_link(CustomerInfo(helpdesk_id="c-80"))
    await bench.services.linking.open_link(
        payload=payload_of(link.deep_link), user_id=8002, chat_id=8002, language="en"
    )
    await bench.settle()
    assert [line for line in await bench.said(8002) if "not valid" in line]
    assert not [row for row in await bench.queued(8002) if "T-80" in text(row)]

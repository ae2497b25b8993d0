"""Reaching a client through Telegram: a plain /start offers the request_contact button, and the
contact card Telegram then sends is matched by its owner and its number.

Only this flow needs Telegram: the button is a reply keyboard the client presses, and the card
arrives as an update whose owner and number (without its ``+``) the handler reads. The survey
rules (delay, reopenings, once a month, tags and channels, reminder and expiry, blocked clients)
are checked at the services level in ``tests/survey/test_when_a_survey_goes_out.py``, the other
ways in and their refusals in ``tests/survey/test_links_and_contacts.py``.
"""

from __future__ import annotations

import asyncio

from sqlmodel import select

from storage.models import Survey
from tests.e2e.conftest import Harness, ticket


async def surveys(harness: Harness) -> list[Survey]:
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        return list((await session.exec(select(Survey).order_by(Survey.id))).all())


async def eventually_status(harness: Harness, survey_id: int, status: str) -> Survey:
    for _ in range(100):
        found = [s for s in await surveys(harness) if s.id == survey_id]
        if found and found[0].status == status:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"survey {survey_id} never became {status}: {found}")


async def test_phone_match_through_a_shared_contact(harness: Harness) -> None:
    """A client the helpdesk knows only by phone is found by the card they share, their own
    only, however Telegram writes the number."""
    body = ticket("T-71", {"id": "c-71", "phone": "+7 (900) 123-45-67"})
    await harness.close_ticket(body)
    client = harness.fake.client(7701, "Taras")
    await client.send_text("/start")
    offer = await client.wait_for_bot_message(lambda m: m.reply_keyboard is not None)
    button = offer.reply_keyboard["keyboard"][0][0]  # type: ignore[index]
    assert button["request_contact"] is True

    await client.share_contact("79991112233", own=False)  # someone else's card
    await client.wait_for_bot_message(lambda m: "your own contact" in m.content)
    await client.share_contact("79001234567")  # Telegram omits the +
    await client.wait_for_bot_message(lambda m: "now connected" in m.content)
    await client.wait_for_bot_message(lambda m: "T-71" in m.content)

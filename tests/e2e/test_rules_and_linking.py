"""Reaching a client through Telegram: a plain /start offers the request_contact button, and the
contact card Telegram then sends is matched by its owner and its number.

Only this flow needs Telegram: the button is a reply keyboard the client presses, and the card
arrives as an update whose owner and number (without its ``+``) the handler reads. The survey
rules (delay, reopenings, once a month, tags and channels, reminder and expiry, blocked clients)
are checked at the services level in ``tests/survey/test_when_a_survey_goes_out.py``, the other
ways in and their refusals in ``tests/survey/test_links_and_contacts.py``.
"""

from __future__ import annotations

from tests.e2e.conftest import Harness, ticket


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

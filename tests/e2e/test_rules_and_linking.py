"""Ways to reach a client, end to end: time moves on the harness clock.

The survey rules (delay, reopenings, once a month, tags and channels, reminder and expiry,
blocked clients) are checked at the services level in
``tests/survey/test_when_a_survey_goes_out.py``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.core.tickets import CustomerInfo
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


async def test_customer_connect_link_links_the_chat_and_sends_waiting_surveys(
    harness: Harness,
) -> None:
    assert harness.bot is not None
    await harness.close_ticket(ticket("T-51", {"id": "c-51", "name": "Rita"}))
    link = await harness.bot.services.intake.connect_link(CustomerInfo(helpdesk_id="c-51"))
    assert link.expires_at > harness.clock()
    client = harness.fake.client(7501, "Rita")
    await client.send_text(f"/start {link.deep_link.rsplit('=', 1)[1]}")
    await client.wait_for_bot_message(lambda m: "now connected" in m.content)
    await client.wait_for_bot_message(lambda m: "T-51" in m.content)


async def test_an_expired_link_is_refused_with_a_clear_message(harness: Harness) -> None:
    body = ticket("T-61", {"id": "c-61"})
    link = (await harness.close_ticket(body)).json()["deep_link"]
    harness.clock.move_to(harness.clock() + timedelta(days=31))
    client = harness.fake.client(7601, "Sofia")
    await client.send_text(f"/start {link.rsplit('=', 1)[1]}")
    await client.wait_for_bot_message(lambda m: "expired" in m.content)
    assert not [m for m in client.bot_messages() if "T-61" in m.content]


async def test_phone_match_through_a_shared_contact(harness: Harness) -> None:
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


async def test_an_unknown_phone_number_is_told_so(harness: Harness) -> None:
    client = harness.fake.client(7801, "Uma")
    await client.send_text("/start")
    await client.share_contact("79005556677")
    await client.wait_for_bot_message(lambda m: "could not find this number" in m.content)


async def test_someone_else_cannot_take_over_a_customer_link(harness: Harness) -> None:
    assert harness.bot is not None
    owner = harness.fake.client(8001, "Yana")
    await harness.close_ticket(ticket("T-80", {"id": "c-80", "telegram_user_id": 8001}))
    await owner.wait_for_bot_message(lambda m: "T-80" in m.content)
    link = await harness.bot.services.intake.connect_link(CustomerInfo(helpdesk_id="c-80"))
    stranger = harness.fake.client(8002, "Zoya")
    await stranger.send_text(f"/start {link.deep_link.rsplit('=', 1)[1]}")
    await stranger.wait_for_bot_message(lambda m: "not valid" in m.content)
    assert not [m for m in stranger.bot_messages() if "T-80" in m.content]

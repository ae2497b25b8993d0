"""Survey rules and ways to reach a client, end to end: time moves on the harness clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.tickets import CustomerInfo
from storage.models import Survey
from tests.e2e.conftest import Harness, ticket

START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


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


@pytest.fixture
def delayed(harness: Harness) -> Harness:
    """The default 30-minute delay between closing and asking."""
    harness.settings = harness.settings.model_copy(update={"survey_delay_minutes": 30})
    return harness


async def test_survey_waits_for_the_delay_and_a_reopening_cancels_it(delayed: Harness) -> None:
    harness = delayed
    await harness.restart()
    client = harness.fake.client(7101, "Nina")
    closed = {"closed_at": START.isoformat()}
    first = (
        await harness.close_ticket(ticket("T-1", {"id": "c-1", "telegram_user_id": 7101}, **closed))
    ).json()
    assert first["status"] == "pending"
    assert harness.bot is not None
    assert await harness.bot.services.intake.reopen_ticket("T-1") == 1
    harness.clock.move_to(START + timedelta(minutes=45))
    await harness.settle()  # swept and drained: nothing went out for a reopened ticket
    assert client.bot_messages() == []
    assert (
        await eventually_status(harness, first["survey_id"], "cancelled")
    ).skip_reason == "reopened"

    later = {"closed_at": (START + timedelta(minutes=40)).isoformat()}
    second = (await harness.close_ticket(ticket("T-1", {"id": "c-1"}, **later))).json()
    assert second["created"] is True and second["survey_id"] != first["survey_id"]
    await harness.settle()
    assert client.bot_messages() == []  # due at 13:10, the clock says 12:45
    harness.clock.move_to(START + timedelta(minutes=71))
    await client.wait_for_bot_message(lambda m: "T-1" in m.content)


async def test_one_survey_per_customer_per_month(harness: Harness) -> None:
    client = harness.fake.client(7201, "Oleg")
    customer = {"id": "c-2", "telegram_user_id": 7201}
    await harness.close_ticket(ticket("T-21", customer))
    await client.wait_for_bot_message(lambda m: "T-21" in m.content)
    await eventually_status(harness, 1, "sent")
    second = (
        await harness.close_ticket(ticket("T-22", customer, closed_at="2026-11-18T11:00:00Z"))
    ).json()
    skipped = await eventually_status(harness, second["survey_id"], "skipped")
    assert skipped.skip_reason == "throttled"
    assert not [m for m in client.bot_messages() if "T-22" in m.content]


async def test_tags_and_channels_that_are_never_surveyed(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(
        update={"skip_tags": ["spam"], "skip_channels": ["auto-close"]}
    )
    await harness.restart()
    spam = await harness.close_ticket(ticket("T-31", {"id": "c-31"}, tags=["Spam", "vip"]))
    auto = await harness.close_ticket(ticket("T-32", {"id": "c-32"}, channel="Auto-Close"))
    assert (spam.json()["status"], spam.json()["skip_reason"]) == ("skipped", "tag:spam")
    assert auto.json()["skip_reason"] == "channel:auto-close"


async def test_one_reminder_then_expiry_and_a_polite_answer(harness: Harness) -> None:
    client = harness.fake.client(7301, "Pavel")
    body = ticket("T-41", {"id": "c-41", "telegram_user_id": 7301})
    survey_id = (await harness.close_ticket(body)).json()["survey_id"]
    question = await client.wait_for_bot_message(lambda m: "T-41" in m.content)
    await eventually_status(harness, survey_id, "sent")  # delivery recorded at today's time

    harness.clock.move_to(harness.clock() + timedelta(hours=25))
    reminder = await client.wait_for_bot_message(lambda m: "reminder" in m.content)
    assert reminder.reply_to_message_id == question.message_id
    await harness.settle()  # more sweeps, still one reminder
    assert len([m for m in client.bot_messages() if "reminder" in m.content]) == 1

    harness.clock.move_to(harness.clock() + timedelta(days=7))
    await eventually_status(harness, survey_id, "expired")
    query = await client.press_button(question, "9")
    answer = await harness.fake.wait_for_callback_answer(query)
    assert "expired" in (answer.get("text") or "")
    assert (await eventually_status(harness, survey_id, "expired")).score is None


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


async def test_reopening_withdraws_a_question_already_queued_and_frees_the_month(
    harness: Harness,
) -> None:
    client = harness.fake.client(7901, "Vlad")
    harness.fake.fail_next("sendMessage", status=429, retry_after=2)  # the question is held back
    customer = {"id": "c-79", "telegram_user_id": 7901}
    first = (await harness.close_ticket(ticket("T-79", customer))).json()
    await harness.fake.wait_for_call(lambda call: call.status == 429)
    await eventually_status(harness, first["survey_id"], "queued")
    reopened = await harness.http.post(
        "/api/v1/tickets/reopened",
        json={"ticket_id": "T-79"},
        headers={"Authorization": "Bearer intake-s3cret"},
    )
    assert reopened.json() == {"ticket_id": "T-79", "cancelled": 1}
    # Past the retry_after, swept and drained: the withdrawn question did not go out.
    harness.clock.move_to(harness.clock() + timedelta(seconds=3))
    await harness.settle()
    assert client.bot_messages() == []

    again = ticket("T-79", customer, closed_at="2026-11-18T11:00:00Z")
    second = (await harness.close_ticket(again)).json()
    assert second["created"] is True
    await client.wait_for_bot_message(lambda m: "T-79" in m.content)  # not throttled


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


async def test_later_surveys_of_a_client_who_blocked_the_bot_end_as_unreachable(
    harness: Harness,
) -> None:
    client = harness.fake.client(8101, "Artem")
    harness.fake.block(client.user_id)
    customer = {"id": "c-81", "telegram_user_id": 8101}
    first = (await harness.close_ticket(ticket("T-81", customer))).json()
    await eventually_status(harness, first["survey_id"], "unreachable")
    second = (await harness.close_ticket(ticket("T-82", customer))).json()
    await eventually_status(harness, second["survey_id"], "unreachable")

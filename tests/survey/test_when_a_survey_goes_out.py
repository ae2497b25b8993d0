"""When a survey goes out, and when it never does: the delay, reopenings, one survey a month,
tags and channels never surveyed, one reminder, expiry, and a client who blocked the bot.

These are rules of the intake and the sweep, so they are checked at the services level: the
real services on SQLite and PostgreSQL, time moved on a ``ShiftedClock``, what the client would
see read from the outbox (``tests.survey.helpers``). The Telegram side of a survey (buttons,
toasts, edits of the pressed message) is the e2e suite's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from telegram.error import RetryAfter

from bot.core.callback import ScorePress
from bot.core.tickets import CustomerInfo
from bot.services import intake_app
from storage.outbox import OutboxStatus
from tests.survey.helpers import API_TOKEN, CLOSED_AT, START, Bench, open_bench, press, text


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url) as built:
        yield built


def about(ticket_id: str, texts: list[str]) -> list[str]:
    return [said for said in texts if ticket_id in said]


async def test_a_survey_waits_for_the_delay_and_a_reopening_cancels_it(database_url: str) -> None:
    """The default delay lets a ticket reopened soon after closing go unsurveyed: asking
    about a problem that is back would only annoy. The next closing starts its own delay."""
    async with open_bench(database_url, survey_delay_minutes=30) as bench:
        client = CustomerInfo(helpdesk_id="c-1", telegram_user_id=7101)
        first = await bench.close_ticket("T-1", client, closed_at=START)
        assert first.status == "pending"
        assert await bench.services.intake.reopen_ticket("T-1") == 1
        bench.clock.move_to(START + timedelta(minutes=45))
        await bench.settle()  # swept and drained: nothing was even queued for a reopened ticket
        assert await bench.queued(7101) == []
        cancelled = await bench.survey(first.survey_id)
        assert (cancelled.status, cancelled.skip_reason) == ("cancelled", "reopened")

        later = START + timedelta(minutes=40)
        second = await bench.close_ticket("T-1", CustomerInfo(helpdesk_id="c-1"), closed_at=later)
        assert second.created is True and second.survey_id != first.survey_id
        await bench.settle()
        assert await bench.queued(7101) == []  # due at 13:10, the clock says 12:45
        bench.clock.move_to(START + timedelta(minutes=71))
        await bench.settle()
        assert about("T-1", await bench.said(7101))


async def test_one_survey_per_customer_per_month(bench: Bench) -> None:
    """A client who had a question this month is not asked again for the next ticket."""
    client = CustomerInfo(helpdesk_id="c-2", telegram_user_id=7201)
    first = await bench.close_ticket("T-21", client)
    await bench.settle()
    assert about("T-21", await bench.said(7201))
    assert (await bench.survey(first.survey_id)).status == "sent"

    second = await bench.close_ticket("T-22", client, closed_at=CLOSED_AT + timedelta(hours=1))
    await bench.settle()
    skipped = await bench.survey(second.survey_id)
    assert (skipped.status, skipped.skip_reason) == ("skipped", "throttled")
    assert not about("T-22", [text(row) for row in await bench.queued(7201)])


async def test_tags_and_channels_that_are_never_surveyed(database_url: str) -> None:
    """Spam and auto-closed tickets are skipped at once, whatever the case of the tag or the
    channel, and the intake says why."""
    async with open_bench(database_url, skip_tags=["spam"], skip_channels=["auto-close"]) as bench:
        spam = await bench.close_ticket("T-31", CustomerInfo("c-31"), tags=("Spam", "vip"))
        auto = await bench.close_ticket("T-32", CustomerInfo("c-32"), channel="Auto-Close")
    assert (spam.status, spam.skip_reason) == ("skipped", "tag:spam")
    assert auto.skip_reason == "channel:auto-close"


async def test_one_reminder_then_expiry_and_a_polite_answer(bench: Bench) -> None:
    """An unanswered question gets one reminder, as a reply to it, however often the sweep runs;
    after its lifetime a late press records nothing and the client is thanked all the same."""
    survey_id = (
        await bench.close_ticket("T-41", CustomerInfo("c-41", telegram_user_id=7301))
    ).survey_id
    await bench.settle()
    (question,) = [row for row in await bench.sent(7301) if "T-41" in text(row)]
    assert (await bench.survey(survey_id)).status == "sent"  # delivery recorded at today's time

    bench.clock.move_to(bench.clock() + timedelta(hours=25))
    await bench.settle()
    (reminder,) = [row for row in await bench.sent(7301) if "reminder" in text(row)]
    assert reminder.payload["reply_to_message_id"] == question.message_id
    await bench.settle()  # more sweeps, still one reminder
    assert len([row for row in await bench.queued(7301) if "reminder" in text(row)]) == 1

    bench.clock.move_to(bench.clock() + timedelta(days=7))
    await bench.settle()
    assert (await bench.survey(survey_id)).status == "expired"
    nine = press(question, "9")
    assert isinstance(nine, ScorePress)
    assert question.message_id is not None
    toast = await bench.services.answers.record_score(
        survey_id=nine.survey_id, score=nine.score, presser_id=7301, message_id=question.message_id
    )
    assert "expired" in toast
    expired = await bench.survey(survey_id)
    assert (expired.status, expired.score) == ("expired", None)


async def test_reopening_withdraws_a_question_already_queued_and_frees_the_month(
    bench: Bench,
) -> None:
    """A question Telegram held back (a flood wait) is withdrawn when the ticket reopens, and
    the month is free again: the next closing is surveyed, not throttled. The reopening
    arrives as a helpdesk sends it, through the intake's HTTP app (in process)."""
    bench.telegram.fail_next("sendMessage", RetryAfter(timedelta(seconds=2)))
    client = CustomerInfo(helpdesk_id="c-79", telegram_user_id=7901)
    first = await bench.close_ticket("T-79", client)
    await bench.settle()
    (held,) = await bench.queued(7901)  # the question is held back
    assert held.status == OutboxStatus.PENDING and held.not_before > bench.clock()
    assert (await bench.survey(first.survey_id)).status == "queued"

    transport = httpx.ASGITransport(app=intake_app(bench.services))
    async with httpx.AsyncClient(transport=transport, base_url="http://npsbot.test") as http:
        reopened = await http.post(
            "/api/v1/tickets/reopened",
            json={"ticket_id": "T-79"},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
    assert reopened.json() == {"ticket_id": "T-79", "cancelled": 1}
    # Past the retry_after, swept and drained: the withdrawn question did not go out.
    bench.clock.move_to(bench.clock() + timedelta(seconds=3))
    bench.services.dispatcher.gate.forget_idle(float("inf"))  # the gate's hold is over too
    await bench.settle()
    assert await bench.sent(7901) == []

    again = await bench.close_ticket("T-79", client, closed_at=CLOSED_AT + timedelta(hours=1))
    assert again.created is True
    await bench.settle()
    assert about("T-79", await bench.said(7901))  # not throttled


async def test_later_surveys_of_a_client_who_blocked_the_bot_end_as_unreachable(
    bench: Bench,
) -> None:
    """A client who blocked the bot is not tried again and again: their surveys end."""
    bench.telegram.block(8101)
    client = CustomerInfo(helpdesk_id="c-81", telegram_user_id=8101)
    first = await bench.close_ticket("T-81", client)
    await bench.settle()
    assert (await bench.survey(first.survey_id)).status == "unreachable"
    second = await bench.close_ticket("T-82", client)
    await bench.settle()
    assert (await bench.survey(second.survey_id)).status == "unreachable"

"""The whole loop as a client and a manager live it, through real HTTP and the fake Bot API.

Only what a running process shows is here: the loop across a restart, presses Telegram
delivers that no button of ours makes, and the digest's schedule across downtime. Each step
on its own (the bands, Skip, deep links, Telegram's refusals, the digest's content) is tested
at the services level, from the outbox: tests/survey/ and tests/managers/.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from storage.models import Survey
from tests.e2e.conftest import MANAGERS, Harness, ticket
from tests.report.helpers import insert_surveys

CLIENT = 5001


def keyboard_texts(message: object) -> list[list[str]]:
    markup = getattr(message, "reply_markup", None) or {}
    return [[button["text"] for button in row] for row in markup.get("inline_keyboard", [])]


async def stored_survey(harness: Harness, survey_id: int) -> Survey:
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        return (await session.exec(select(Survey).where(Survey.id == survey_id))).one()


async def test_detractor_loop_with_restart_between_score_and_comment(harness: Harness) -> None:
    client = harness.fake.client(CLIENT, "Anna")
    stranger = harness.fake.client(6002, "Mallory")
    body = ticket("T-100", {"id": "c-1", "telegram_user_id": CLIENT, "name": "Anna <Ltd>"})
    survey_id = (await harness.close_ticket(body)).json()["survey_id"]

    question = await client.wait_for_bot_message(lambda m: "recommend" in (m.text or ""))
    # The fake keeps the HTML as sent and rejects what Telegram's parser would reject.
    assert "ACME &amp; Co" in (question.text or "") and "T-100" in (question.text or "")
    assert keyboard_texts(question) == [
        ["0", "1", "2", "3", "4", "5"],
        ["6", "7", "8", "9", "10"],
        ["0 = not at all likely", "10 = extremely likely"],
    ]

    # A stranger pressing the client's button, and forged data, change nothing.
    query = await stranger.press(question, f"nps:{survey_id}:10")
    answer = await harness.fake.wait_for_callback_answer(query)
    assert "someone else" in (answer.get("text") or "")
    query = await client.press(question, "nps:999999:0")
    assert "no longer available" in (
        (await harness.fake.wait_for_callback_answer(query)).get("text") or ""
    )
    assert (await stored_survey(harness, survey_id)).score is None

    await client.press_button(question, "3")
    answered = await client.wait_for_bot_message(
        lambda m: m.message_id == question.message_id and "Your answer: <b>3</b>" in (m.text or "")
    )
    assert "· 3 ·" in keyboard_texts(answered)[0]  # the choice marked; changeable for a while
    prompt = await client.wait_for_bot_message(lambda m: "What went wrong?" in (m.text or ""))
    assert keyboard_texts(prompt) == [["Skip"]]
    alert = await harness.fake.wait_for(
        lambda m: "Detractor: 3/10" in (m.text or ""), chat_id=MANAGERS
    )
    for expected in (
        "T-100",
        "Ivan Petrov",
        "L2 support",
        "Anna &lt;Ltd&gt;",
        "Waiting for a comment",
    ):
        assert expected in (alert.text or "")

    # Within the change window the client may change the score; the alert follows.
    await client.press_button(question, "5")
    await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "Detractor: 5/10" in m.content,
        chat_id=MANAGERS,
    )
    assert (await stored_survey(harness, survey_id)).score == 5
    # Once the window closes the score is final and the keyboard goes.
    harness.clock.move_to(harness.clock() + timedelta(minutes=11))
    final = await client.wait_for_bot_message(
        lambda m: m.message_id == question.message_id and not m.buttons()
    )
    assert "Your answer: <b>5</b>" in final.content
    query = await client.press(question, f"nps:{survey_id}:9")
    assert "already answered" in (
        (await harness.fake.wait_for_callback_answer(query)).get("text") or ""
    )
    assert (await stored_survey(harness, survey_id)).score == 5

    await harness.restart()  # the state lives in the database, not in the process

    await client.send_text("<b>Slow</b> & rude")
    await client.wait_for_bot_message(lambda m: "Thank you for your feedback" in (m.text or ""))
    edited = await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "Slow" in (m.text or ""), chat_id=MANAGERS
    )
    assert "&lt;b&gt;Slow&lt;/b&gt; &amp; rude" in (edited.text or "")  # the client's text, escaped
    assert harness.fake.bot_messages(MANAGERS)[-1].message_id == alert.message_id
    closed_prompt = await client.wait_for_bot_message(
        lambda m: m.message_id == prompt.message_id and m.reply_markup is None
    )
    assert "What went wrong?" in (closed_prompt.text or "")
    stored = await stored_survey(harness, survey_id)
    assert (stored.status, stored.score, stored.comment) == ("completed", 5, "<b>Slow</b> & rude")
    assert stored.themes == "speed;attitude"  # tagged as it was stored (bot.themes)
    assert stored.answered_at is not None and stored.answered_at.tzinfo is UTC

    # Later text from the client is not taken as another comment. Updates are handled in order,
    # so once /start is answered, "one more thing" has been handled too.
    await client.send_text("one more thing")
    await client.send_text("/start")
    await client.wait_for_bot_message(lambda m: "feedback bot" in m.content)
    assert (await stored_survey(harness, survey_id)).comment == "<b>Slow</b> & rude"


async def test_undecodable_button_data_is_answered_and_changes_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A lone surrogate cannot be encoded, so no press of ours carries one: a forgery."""
    client = harness.fake.client(CLIENT, "Gleb")
    body = ticket("T-250", {"id": "c-25", "telegram_user_id": CLIENT})
    survey_id = (await harness.close_ticket(body)).json()["survey_id"]
    question = await client.wait_for_bot_message(lambda m: "recommend" in (m.text or ""))
    sent = len(client.bot_messages())
    # One for each handler's pattern: the client's, the managers' and the eNPS one.
    for data in ("\ud800", f"nps:{survey_id}:\udfff", "case:\ud800:take", "enps:1:\ud800"):
        query = await client.press(question, data)
        assert (await harness.fake.wait_for_callback_answer(query)).get("text")
    stored = await stored_survey(harness, survey_id)
    # "queued" until the delivery is recorded, which may come after the client saw the question.
    assert stored.status in {"queued", "sent"} and stored.score is None
    assert len(client.bot_messages()) == sent
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_digest_missed_while_the_bot_was_down_is_posted_at_start_and_only_once(
    harness: Harness,
) -> None:
    """PTB's JobQueue keeps the digest's schedule in memory: a run due while the process was
    down never happens by itself, so NpsBot.start catches it up, and not again after a restart.
    What the digest holds, the monthly schedule and refused posts are the DigestService's
    (tests/managers/test_digest_service.py)."""
    assert harness.bot is not None
    job_queue = harness.bot.services.application.job_queue
    assert job_queue is not None
    (job,) = job_queue.get_jobs_by_name("weekly-digest")
    next_run = job.next_t
    assert next_run is not None
    assert (next_run.weekday(), next_run.astimezone(harness.settings.tz).hour) == (0, 9)
    assert job.job.misfire_grace_time >= 3600  # a run late by minutes still posts
    await harness.settle()  # a fresh install: Monday's run, missed, had nothing to report
    assert [m for m in harness.fake.bot_messages(MANAGERS) if "NPS digest" in m.content] == []

    await insert_surveys(
        harness.bot.services.engine,
        [
            {
                "ticket": "T-701",
                "status": "completed",
                "sent_at": datetime(2026, 11, 18, 10, 0, tzinfo=UTC),
                "answered_at": datetime(2026, 11, 18, 10, 5, tzinfo=UTC),
                "score": 10,
            }
        ],
    )
    await harness.stop()
    # Down over Monday 09:00 Moscow time; back on Monday at 11:00.
    harness.clock.move_to(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    await harness.start()
    digest = await harness.fake.wait_for(lambda m: "NPS digest" in m.content, chat_id=MANAGERS)
    assert "100" in digest.content  # one promoter: NPS +100
    await harness.restart()  # and only once
    await harness.settle()
    assert len([m for m in harness.fake.bot_messages(MANAGERS) if "NPS digest" in m.content]) == 1

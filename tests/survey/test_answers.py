"""The client's answers, in both languages: what each band hears next, Skip, changing one's mind,
the operator's extra questions, and comments that are not plain words.

The survey handlers only decode a press or a message and call ``SurveyAnswers``
(bot/survey/handlers.py): a press here is the button's data decoded as the handler decodes it,
the toast is what the service returns, and what the client reads is in the outbox
(``tests.survey.helpers``). What only Telegram shows (a label's hint, a sticker and a voice
message arriving as updates, an extra question's button pressed) is
tests/e2e/test_experience.py; the whole loop across a restart is tests/e2e/test_survey_loop.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.callback import RatingPress, ScorePress, SkipPress, decode
from bot.core.tickets import CustomerInfo
from storage.models import OutboxMessage
from tests.survey.fake_telegram import bench_on_fake_telegram
from tests.survey.helpers import MANAGERS, Bench, buttons, open_bench, text

SAID = {
    "en": {
        "manager": "A manager will get in touch",
        "review": "Leave a review",
        "words": "Please type a few words",
        "skip": "Skip",
    },
    "ru": {
        "manager": "Менеджер свяжется с вами",
        "review": "Оставить отзыв",
        "words": "Пожалуйста, напишите пару слов",
        "skip": "Пропустить",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["en", "ru"])
REVIEW_URL = "https://example.org/r"
EXTRA_QUESTIONS = ["Quality of the engineer's work", "Speed of the answer"]


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url) as built:
        yield built


async def message(bench: Bench, chat_id: int, containing: str) -> OutboxMessage:
    """The one new message (not an edit) the chat got whose text contains ``containing``."""
    rows = await bench.sent(chat_id)
    (found,) = [r for r in rows if r.method == "sendMessage" and containing in text(r)]
    return found


def edits(rows: list[OutboxMessage], of: OutboxMessage) -> list[OutboxMessage]:
    """The edits among ``rows`` of the message ``of`` sent, by its message id or its row."""
    return [
        row
        for row in rows
        if row.method == "editMessageText"
        and (row.target_outbox_id == of.id or row.message_id == of.message_id)
    ]


async def ask(bench: Bench, user: int, ticket_id: str, language: str = "en") -> OutboxMessage:
    """A ticket of a client the helpdesk knows in Telegram is closed: the question they got."""
    customer = CustomerInfo(helpdesk_id=f"c-{user}", telegram_user_id=user, language=language)
    await bench.close_ticket(ticket_id, customer)
    await bench.settle()
    return await message(bench, user, ticket_id)


def data_of(row: OutboxMessage, label: str) -> str:
    """The callback data of the inline button ``label``."""
    markup = row.payload.get("reply_markup") or {}
    found = [b for line in markup["inline_keyboard"] for b in line if b["text"] == label]
    return str(found[0]["callback_data"])


async def press_data(bench: Bench, user: int, on: OutboxMessage, data: str) -> str:
    """``user`` presses a button carrying ``data`` under the message ``on``, and the survey
    handler calls what it calls for it; returns the toast."""
    pressed, answers = decode(data), bench.services.answers
    assert on.message_id is not None
    if isinstance(pressed, ScorePress):
        toast = await answers.record_score(
            survey_id=pressed.survey_id,
            score=pressed.score,
            presser_id=user,
            message_id=on.message_id,
        )
    elif isinstance(pressed, SkipPress):
        toast = await answers.skip_comment(
            survey_id=pressed.survey_id, presser_id=user, message_id=on.message_id
        )
    else:
        assert isinstance(pressed, RatingPress), f"not a survey button: {data!r}"
        toast = await answers.record_rating(
            survey_id=pressed.survey_id,
            question=pressed.question,
            value=pressed.value,
            presser_id=user,
            message_id=on.message_id,
        )
    await bench.settle()
    return toast


async def tap(bench: Bench, user: int, on: OutboxMessage, label: str) -> str:
    """``user`` taps the button ``label`` under the message ``on``; returns the toast."""
    return await press_data(bench, user, on, data_of(on, label))


async def say(bench: Bench, user: int, words: str) -> bool:
    """``user`` writes ``words`` in their chat; whether the survey took them as its comment."""
    taken = await bench.services.answers.record_comment(chat_id=user, user_id=user, text=words)
    await bench.settle()
    return taken


async def test_a_promoter_who_skips_the_comment_completes_the_survey_and_no_alert_is_posted(
    bench: Bench,
) -> None:
    """Alerts are for detractors only: a promoter's answers never reach the managers' chat."""
    question = await ask(bench, 5001, "T-200")
    assert "recommend" in text(question)
    assert await tap(bench, 5001, question, "10") == "Thank you!"
    prompt = await message(bench, 5001, "What did you like most?")

    assert await tap(bench, 5001, prompt, "Skip") == "Thank you!"

    (thanks,) = edits(await bench.sent(5001), prompt)  # the prompt itself becomes the thanks
    assert "Thank you" in text(thanks)
    survey_id = question.survey_id
    assert survey_id is not None
    stored = await bench.survey(survey_id)
    assert (stored.status, stored.score, stored.comment) == ("completed", 10, None)
    assert await bench.queued(MANAGERS) == []


@LANGUAGES
async def test_a_detractor_hears_a_manager_will_call_and_a_sticker_changes_nothing(
    bench: Bench, language: str
) -> None:
    """Something that is not words where a comment is awaited gets a polite request for words,
    and the survey still waits for the comment; the thanks promises the manager's call, since
    alerts are on."""
    question = await ask(bench, 6201, "T-602", language)
    await tap(bench, 6201, question, "1")
    (prompt,) = [r for r in await bench.sent(6201) if SAID[language]["skip"] in buttons(r)]

    assert await bench.services.answers.ask_for_words(chat_id=6201, user_id=6201, language=language)
    await bench.settle()
    await message(bench, 6201, SAID[language]["words"])
    assert question.survey_id is not None
    stored = await bench.survey(question.survey_id)
    assert (stored.status, stored.comment) == ("answered", None)

    assert await say(bench, 6201, "slow")
    thanks = await message(bench, 6201, SAID[language]["manager"])
    assert thanks.message_id is not None and prompt.message_id is not None
    assert thanks.message_id > prompt.message_id  # a new message, after the prompt


@LANGUAGES
async def test_a_promoter_is_offered_the_public_review(database_url: str, language: str) -> None:
    """The review link the operator configured goes to promoters, under the last thanks. It goes
    to the fake Bot API, which checks a button's URL as Telegram does: Telegram takes it."""
    async with bench_on_fake_telegram(database_url, review_url=REVIEW_URL) as (bench, telegram):
        telegram.client(6301, "Client", language_code=language)
        question = await ask(bench, 6301, "T-603", language)
        await tap(bench, 6301, question, "10")
        (prompt,) = [r for r in await bench.sent(6301) if SAID[language]["skip"] in buttons(r)]

        await tap(bench, 6301, prompt, SAID[language]["skip"])

        (thanks,) = edits(await bench.sent(6301), prompt)
        (shown,) = [m for m in telegram.bot_messages(6301) if m.message_id == prompt.message_id]
    markup = thanks.payload["reply_markup"]["inline_keyboard"]
    assert SAID[language]["review"] in buttons(thanks)
    assert markup[0][0]["url"] == REVIEW_URL
    assert SAID[language]["review"] in shown.button_texts()
    assert shown.buttons()[0]["url"] == REVIEW_URL


async def test_changing_a_promoter_score_to_a_detractor_posts_the_alert(bench: Bench) -> None:
    """A score changed within the change window is judged anew: the alert is posted now, and
    the comment question waiting under it becomes the detractor's."""
    question = await ask(bench, 6401, "T-604")
    await tap(bench, 6401, question, "9")
    prompt = await message(bench, 6401, "What did you like most?")
    assert await bench.queued(MANAGERS) == []

    assert await tap(bench, 6401, question, "2") == "Thank you!"

    assert [row for row in await bench.sent(MANAGERS) if "Detractor: 2/10" in text(row)]
    prompt_now = edits(await bench.sent(6401), prompt)
    assert prompt_now and "What went wrong?" in text(prompt_now[-1])


async def test_a_voice_comment_is_kept_and_reaches_the_managers(bench: Bench) -> None:
    """Managers hear the client in their own words: the recording Telegram holds is sent on by
    its file id, not copied, and the alert says how long it is."""
    question = await ask(bench, 6501, "T-605")
    await tap(bench, 6501, question, "3")
    await message(bench, 6501, "What went wrong?")

    taken = await bench.services.answers.record_comment(
        chat_id=6501, user_id=6501, text=None, voice=("voice-of-6501", 12)
    )
    await bench.settle()

    assert taken
    await message(bench, 6501, "Thank you for your feedback")
    to_managers = await bench.sent(MANAGERS)
    alerts = [row for row in to_managers if "Voice comment, 12 seconds" in text(row)]
    assert alerts and all("Detractor: 3/10" in text(row) for row in alerts)
    (forwarded,) = [row for row in to_managers if row.method == "sendVoice"]
    assert forwarded.payload["voice"] == "voice-of-6501"  # the client's own recording
    assert question.survey_id is not None
    stored = await bench.survey(question.survey_id)
    assert (stored.status, stored.voice_file_id, stored.voice_seconds) == (
        "completed",
        "voice-of-6501",
        12,
    )


async def test_extra_questions_are_asked_in_order_and_reach_the_digest(database_url: str) -> None:
    """The operator's 1..5 questions come after the comment, one at a time and in order: a
    press on a later question's button before its turn is refused."""
    async with open_bench(database_url, extra_questions=EXTRA_QUESTIONS) as bench:
        question = await ask(bench, 6601, "T-606", "ru")
        await tap(bench, 6601, question, "9")
        (prompt,) = [r for r in await bench.sent(6601) if "Пропустить" in buttons(r)]
        await tap(bench, 6601, prompt, "Пропустить")
        (first,) = edits(await bench.sent(6601), prompt)  # the prompt becomes the first one
        assert "Quality of the engineer" in text(first) and buttons(first) != []
        assert "1 — плохо, 5 — отлично" in text(first)

        early = data_of(first, "4").replace(":0:", ":1:")  # the second question's button
        assert "уже ответили" in await press_data(bench, 6601, first, early)

        await tap(bench, 6601, first, "4")
        second = await message(bench, 6601, "Speed of the answer")
        assert buttons(second) != []
        await tap(bench, 6601, second, "5")
        await message(bench, 6601, "Спасибо за отзыв")

        digest = bench.services.digest
        week = await digest.build(digest.period(bench.clock() + timedelta(days=7)))
        rendered = digest.render(week, html=False)
    assert "Quality of the engineer's work: 4.0 of 5 (1 rating)" in rendered
    assert "Speed of the answer: 5.0 of 5 (1 rating)" in rendered


async def test_a_comment_with_half_an_emoji_is_kept_and_not_logged(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    """A lone surrogate (half an emoji, as JSON can carry it) made PostgreSQL refuse the comment:
    it was lost, and the driver's error quoted it into the handler's ERROR."""
    question = await ask(bench, 5901, "T-SUR")
    await tap(bench, 5901, question, "2")
    await message(bench, 5901, "What went wrong?")

    with caplog.at_level(logging.INFO):
        assert await say(bench, 5901, "Secret complaint \ud83d tail")

    await message(bench, 5901, "Thank you for your feedback")
    assert question.survey_id is not None
    stored = await bench.survey(question.survey_id)
    assert stored.comment == "Secret complaint \ufffd tail"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if "Secret" in r.getMessage()]


async def test_of_two_texts_handled_at_once_only_one_is_the_comment(bench: Bench) -> None:
    """Two messages of the client handled at the same time (two instances, or a webhook that
    Telegram retried while the first try still ran) both find the survey waiting for its
    comment; the compare-and-set lets one complete it, and the other changes nothing."""
    question = await ask(bench, 5902, "T-TWICE")
    await tap(bench, 5902, question, "2")

    taken = await asyncio.gather(
        bench.services.answers.record_comment(chat_id=5902, user_id=5902, text="slow"),
        bench.services.answers.record_comment(chat_id=5902, user_id=5902, text="and rude"),
    )
    await bench.settle()

    assert sorted(taken) == [False, True]
    assert question.survey_id is not None
    stored = await bench.survey(question.survey_id)
    assert (stored.status, stored.comment) == ("completed", "slow" if taken[0] else "and rude")
    await message(bench, 5902, "Thank you for your feedback")  # thanked once

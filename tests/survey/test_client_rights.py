"""The client's rights in both languages: /stop and /start, /forget, /help, /language.

``ClientRights`` is called as the command and button handlers call it: a command asks its
question, and a press on one of the question's buttons is decoded from its callback data as the
handler decodes it (``tests.survey.helpers.press``). What the client is told, and which message
an answer edits, is read from the outbox. The Telegram side (commands and presses arriving as
updates, the edits landing on the pressed message, the command menus, a press forged from
another user) is the e2e suite's ``tests/e2e/test_rights.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core.callback import LanguagePress, RightsPress, ScorePress
from bot.core.tickets import CustomerInfo
from bot.survey import client_command_texts
from storage.models import Customer, OutboxMessage, Survey, Ticket
from tests.survey.helpers import CLOSED_AT, Bench, buttons, open_bench, press, text

TEXTS = {
    "en": {
        "stop?": "Stop all surveys?",
        "yes stop": "Yes, stop surveys",
        "stopped": "you will not get surveys any more",
        "back": "surveys are on again",
        "forget?": "Erase your personal data?",
        "yes forget": "Yes, erase my data",
        "forgotten": "your personal data has been erased",
        "cancel": "Cancel",
        "unchanged": "Nothing was changed",
        "privacy": "Privacy",
    },
    "ru": {
        "stop?": "Больше не присылать опросы?",
        "yes stop": "Да, больше не присылать",
        "stopped": "опросов больше не будет",
        "back": "опросы снова включены",
        "forget?": "Удалить ваши персональные данные?",
        "yes forget": "Да, удалить мои данные",
        "forgotten": "ваши персональные данные удалены",
        "cancel": "Отмена",
        "unchanged": "Ничего не изменилось",
        "privacy": "Конфиденциальность",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["en", "ru"])


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    async with open_bench(database_url) as built:
        yield built


async def last_sent(bench: Bench, chat_id: int) -> OutboxMessage:
    return (await bench.sent(chat_id))[-1]


async def answer_press(
    bench: Bench, question: OutboxMessage, label: str, *, user_id: int, language: str
) -> OutboxMessage:
    """Press a confirmation button of ``question`` as its client; return what the bot said."""
    pressed = press(question, label)
    assert isinstance(pressed, RightsPress)
    assert question.message_id is not None
    await bench.services.rights.answer(
        pressed.action,
        confirmed=pressed.confirmed,
        user_id=user_id,
        chat_id=user_id,
        message_id=question.message_id,
        language=language,
    )
    await bench.settle()
    return await last_sent(bench, user_id)


def edits(reply: OutboxMessage, question: OutboxMessage) -> bool:
    """The reply replaces the question in its own message (its buttons go with it)."""
    return reply.method == "editMessageText" and reply.message_id == question.message_id


@LANGUAGES
async def test_stop_is_confirmed_respected_and_undone_by_start(bench: Bench, language: str) -> None:
    """/stop asks first (a stray tap must not silence a client for good); once confirmed, no
    survey goes out until the client sends /start again."""
    said, rights = TEXTS[language], bench.services.rights
    user = 9501
    customer = CustomerInfo(helpdesk_id="c-95", telegram_user_id=user)
    stop = client_command_texts.stop_question
    await rights.ask(stop, user_id=user, chat_id=user, language=language)
    await bench.settle()
    question = await last_sent(bench, user)
    assert said["stop?"] in text(question)
    reply = await answer_press(bench, question, said["cancel"], user_id=user, language=language)
    assert said["unchanged"] in text(reply) and edits(reply, question)

    await rights.ask(stop, user_id=user, chat_id=user, language=language)
    await bench.settle()
    question = await last_sent(bench, user)
    assert said["stop?"] in text(question) and buttons(question) != []
    reply = await answer_press(bench, question, said["yes stop"], user_id=user, language=language)
    assert said["stopped"] in text(reply) and edits(reply, question)
    skipped = await bench.close_ticket("T-95", customer)
    await bench.settle()
    survey = await bench.survey(skipped.survey_id)
    assert (survey.status, survey.skip_reason) == ("skipped", "opted_out")
    assert not [row for row in await bench.queued(user) if "T-95" in text(row)]

    await bench.services.linking.greet(user_id=user, chat_id=user, language=language)
    await bench.settle()
    assert [line for line in await bench.said(user) if said["back"] in line]
    await bench.close_ticket("T-96", customer, closed_at=CLOSED_AT.replace(hour=11))
    await bench.settle()
    assert [line for line in await bench.said(user) if "T-96" in line]


@LANGUAGES
async def test_forget_erases_personal_data_and_keeps_the_score(bench: Bench, language: str) -> None:
    """/forget erases the chat link, name, phone, comment and the helpdesk's ids, and empties
    every stored message that quoted them (the managers' alert too); the score stays, as an
    anonymous number for statistics."""
    said, services = TEXTS[language], bench.services
    user = 9601
    customer = CustomerInfo(
        helpdesk_id="c-97", telegram_user_id=user, name="Lev Tolstoy", phone="+79001234567"
    )
    survey_id = (await bench.close_ticket("T-97", customer)).survey_id
    await bench.settle()
    (question,) = [row for row in await bench.sent(user) if "T-97" in text(row)]
    two = press(question, "2")
    assert isinstance(two, ScorePress) and question.message_id is not None
    await services.answers.record_score(
        survey_id=two.survey_id, score=two.score, presser_id=user, message_id=question.message_id
    )
    await bench.settle()
    assert [  # the comment prompt: a new message, with its Skip button
        row
        for row in await bench.sent(user)
        if row.method == "sendMessage" and buttons(row) and row.message_id != question.message_id
    ]
    assert await services.answers.record_comment(
        chat_id=user, user_id=user, text="The engineer was rude"
    )
    await bench.settle()
    assert (await bench.survey(survey_id)).status == "completed"
    # What the erasure has to reach: the managers' alert quotes the name and the comment.
    assert [row for row in await quoting(bench, survey_id) if "rude" in str(row.payload)]

    await services.rights.ask(
        client_command_texts.forget_question, user_id=user, chat_id=user, language=language
    )
    await bench.settle()
    ask = await last_sent(bench, user)
    assert said["forget?"] in text(ask)
    reply = await answer_press(bench, ask, said["yes forget"], user_id=user, language=language)
    assert said["forgotten"] in text(reply)
    async with services.session_factory() as session:
        survey = (await session.exec(select(Survey).where(Survey.id == survey_id))).one()
        stored = (await session.exec(select(Customer))).one()
        stored_ticket = (await session.exec(select(Ticket))).one()
    assert (survey.score, survey.comment) == (2, None)  # the number stays, the words go
    assert (stored.name, stored.phone, stored.telegram_user_id, stored.chat_id) == (None,) * 4
    assert stored.helpdesk_id.startswith("forgotten:")
    assert stored_ticket.external_id.startswith("forgotten:")
    assert all(
        "rude" not in str(row.payload) and "Tolstoy" not in str(row.payload)
        for row in await quoting(bench, survey_id)
    )


async def quoting(bench: Bench, survey_id: int) -> list[OutboxMessage]:
    """Every stored message of the survey: the question, the answers, the managers' alert."""
    async with bench.services.session_factory() as session:
        rows = await session.exec(select(OutboxMessage).where(OutboxMessage.survey_id == survey_id))
        return list(rows.all())


@LANGUAGES
async def test_help_says_what_is_stored(bench: Bench, language: str) -> None:
    """/help names /forget and says, under Privacy, what is stored and why."""
    rights = bench.services.rights
    await rights.ask(rights.help_text, user_id=9701, chat_id=9701, language=language)
    await bench.settle()
    help_text = text(await last_sent(bench, 9701))
    assert "/forget" in help_text
    assert TEXTS[language]["privacy"] in help_text


async def test_a_chosen_language_outranks_the_tickets(bench: Bench) -> None:
    """/language offers each language named in itself; the choice is confirmed in it, and the
    next question comes in it even when the helpdesk says the customer speaks another."""
    rights, user = bench.services.rights, 9801
    await rights.ask(
        client_command_texts.language_question, user_id=user, chat_id=user, language="en"
    )
    await bench.settle()
    choice = await last_sent(bench, user)
    assert "Русский" in buttons(choice)
    russian = press(choice, "Русский")
    assert isinstance(russian, LanguagePress) and choice.message_id is not None
    await rights.choose_language(
        russian.code, user_id=user, chat_id=user, message_id=choice.message_id
    )
    await bench.settle()
    confirmed = await last_sent(bench, user)
    assert "по-русски" in text(confirmed) and edits(confirmed, choice)
    await bench.close_ticket(
        "T-98", CustomerInfo(helpdesk_id="c-98", telegram_user_id=user, language="en")
    )
    await bench.settle()
    (question,) = [row for row in await bench.sent(user) if "T-98" in text(row)]
    assert "порекомендуете" in text(question)


async def test_no_reminder_after_stop(bench: Bench) -> None:
    """/stop means no nudges either: a question already sent gets no reminder."""
    user = 9951
    said = TEXTS["en"]
    customer = CustomerInfo(helpdesk_id="c-995", telegram_user_id=user)
    survey_id = (await bench.close_ticket("T-995", customer)).survey_id
    await bench.settle()
    assert [line for line in await bench.said(user) if "T-995" in line]
    assert (await bench.survey(survey_id)).status == "sent"
    await bench.services.rights.ask(
        client_command_texts.stop_question, user_id=user, chat_id=user, language="en"
    )
    await bench.settle()
    question = await last_sent(bench, user)
    assert said["stop?"] in text(question)
    reply = await answer_press(bench, question, said["yes stop"], user_id=user, language="en")
    assert said["stopped"] in text(reply)
    bench.clock.move_to(bench.clock() + timedelta(hours=25))
    await bench.settle()  # swept past the reminder time
    assert not [row for row in await bench.queued(user) if "reminder" in text(row)]

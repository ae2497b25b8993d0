"""The client's rights in both languages: /stop, /start, /forget, /help, /language, menu."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from storage.models import Customer, OutboxMessage, Survey, Ticket
from tests.e2e.conftest import Harness, ticket
from tests.e2e.test_rules_and_linking import eventually_status

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


@LANGUAGES
async def test_stop_is_confirmed_respected_and_undone_by_start(
    harness: Harness, language: str
) -> None:
    said = TEXTS[language]
    client = harness.fake.client(9501, "Kira", language_code=language)
    customer = {"id": "c-95", "telegram_user_id": 9501}
    await client.send_text("/stop")
    question = await client.wait_for_bot_message(lambda m: said["stop?"] in m.content)
    await client.press_button(question, said["cancel"])
    await client.wait_for_bot_message(lambda m: said["unchanged"] in m.content)

    await client.send_text("/stop")
    question = await client.wait_for_bot_message(
        lambda m: said["stop?"] in m.content and m.buttons() != []
    )
    await client.press_button(question, said["yes stop"])
    await client.wait_for_bot_message(lambda m: said["stopped"] in m.content)
    skipped = (await harness.close_ticket(ticket("T-95", customer))).json()
    survey = await eventually_status(harness, skipped["survey_id"], "skipped")
    assert survey.skip_reason == "opted_out"
    assert not [m for m in client.bot_messages() if "T-95" in m.content]

    await client.send_text("/start")
    await client.wait_for_bot_message(lambda m: said["back"] in m.content)
    later = ticket("T-96", customer, closed_at="2026-11-18T11:00:00Z")
    await harness.close_ticket(later)
    await client.wait_for_bot_message(lambda m: "T-96" in m.content)


@LANGUAGES
async def test_forget_erases_personal_data_and_keeps_the_score(
    harness: Harness, language: str
) -> None:
    said = TEXTS[language]
    client = harness.fake.client(9601, "Lev", language_code=language)
    body = ticket(
        "T-97",
        {"id": "c-97", "telegram_user_id": 9601, "name": "Lev Tolstoy", "phone": "+79001234567"},
    )
    survey_id = (await harness.close_ticket(body)).json()["survey_id"]
    question = await client.wait_for_bot_message(lambda m: "T-97" in m.content)
    await client.press_button(question, "2")
    await client.wait_for_bot_message(
        lambda m: m.buttons() != [] and m.message_id != question.message_id
    )
    await client.send_text("The engineer was rude")
    await eventually_status(harness, survey_id, "completed")

    await client.send_text("/forget")
    ask = await client.wait_for_bot_message(lambda m: said["forget?"] in m.content)
    await client.press_button(ask, said["yes forget"])
    await client.wait_for_bot_message(lambda m: said["forgotten"] in m.content)
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        survey = (await session.exec(select(Survey).where(Survey.id == survey_id))).one()
        customer = (await session.exec(select(Customer))).one()
        quoted = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.survey_id == survey_id))
        ).all()
    assert (survey.score, survey.comment) == (2, None)  # the number stays, the words go
    assert (customer.name, customer.phone, customer.telegram_user_id, customer.chat_id) == (
        None,
    ) * 4
    assert customer.helpdesk_id.startswith("forgotten:")
    async with harness.bot.services.session_factory() as session:
        stored_ticket = (await session.exec(select(Ticket))).one()
    assert stored_ticket.external_id.startswith("forgotten:")
    assert all(
        "rude" not in str(row.payload) and "Tolstoy" not in str(row.payload) for row in quoted
    )


@LANGUAGES
async def test_help_says_what_is_stored(harness: Harness, language: str) -> None:
    client = harness.fake.client(9701, "Mila", language_code=language)
    await client.send_text("/help")
    help_message = await client.wait_for_bot_message(lambda m: "/forget" in m.content)
    assert TEXTS[language]["privacy"] in help_message.content


async def test_language_switch_and_command_menus(harness: Harness) -> None:
    assert harness.fake.my_commands(language_code="ru")[0]["command"] == "start"
    assert "опросы" in harness.fake.my_commands(language_code="ru")[0]["description"]
    assert "surveys" in harness.fake.my_commands()[0]["description"]

    client = harness.fake.client(9801, "Nika", language_code="en")
    await client.send_text("/language")
    choice = await client.wait_for_bot_message(lambda m: "Русский" in m.button_texts())
    await client.press_button(choice, "Русский")
    await client.wait_for_bot_message(lambda m: "по-русски" in m.content)
    await harness.close_ticket(
        ticket("T-98", {"id": "c-98", "telegram_user_id": 9801, "language": "en"})
    )
    question = await client.wait_for_bot_message(lambda m: "T-98" in m.content)
    assert "порекомендуете" in question.content  # the client's choice outranks the ticket's


async def test_a_forged_confirmation_from_a_group_changes_nothing(harness: Harness) -> None:
    client = harness.fake.client(9901, "Oksana")
    await harness.close_ticket(ticket("T-99", {"id": "c-99", "telegram_user_id": 9901}))
    await client.wait_for_bot_message(lambda m: "T-99" in m.content)
    stranger = harness.fake.client(9902, "Pyotr")
    message = client.bot_messages()[-1]
    press = await stranger.press(message, "rights:forget:yes")  # in someone else's chat
    await harness.fake.wait_for_callback_answer(press)
    await harness.settle()
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        customer = (await session.exec(select(Customer))).one()
    assert customer.telegram_user_id == 9901
    assert len(harness.fake.messages(9901)[-1].buttons()) == 13  # the question is untouched


async def test_no_reminder_after_stop(harness: Harness) -> None:
    client = harness.fake.client(9951, "Rita")
    body = ticket("T-995", {"id": "c-995", "telegram_user_id": 9951})
    survey_id = (await harness.close_ticket(body)).json()["survey_id"]
    await client.wait_for_bot_message(lambda m: "T-995" in m.content)
    await eventually_status(harness, survey_id, "sent")
    await client.send_text("/stop")
    question = await client.wait_for_bot_message(lambda m: TEXTS["en"]["stop?"] in m.content)
    await client.press_button(question, TEXTS["en"]["yes stop"])
    await client.wait_for_bot_message(lambda m: TEXTS["en"]["stopped"] in m.content)
    harness.clock.move_to(harness.clock() + timedelta(hours=25))
    await harness.settle()  # swept past the reminder time
    assert not [m for m in client.bot_messages() if "reminder" in m.content]

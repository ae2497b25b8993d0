"""The client's rights through Telegram: the command menus, /stop, /start and /language
arriving as commands, their buttons editing the message pressed, and a forged press.

What each right does, in both languages (/stop, /forget, /help, /language, no reminder after
/stop), is checked at the services level in ``tests/survey/test_client_rights.py``; here the
client speaks Russian, so the texts follow the language Telegram gives with each update.
"""

from __future__ import annotations

from sqlmodel import select

from storage.models import Customer, Survey
from tests.e2e.conftest import Harness, ticket
from tests.survey.test_client_rights import TEXTS


async def stored_survey(harness: Harness, survey_id: int) -> Survey:
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        return (await session.exec(select(Survey).where(Survey.id == survey_id))).one()


async def test_stop_is_confirmed_respected_and_undone_by_start(harness: Harness) -> None:
    """The commands arrive as updates in the client's language, and each choice (a
    confirmation, a language) edits the very message pressed: only Telegram shows that, and
    the menus it lists."""
    # The menus Telegram shows, published at start in each language the bot speaks.
    assert harness.fake.my_commands(language_code="ru")[0]["command"] == "start"
    assert "опросы" in harness.fake.my_commands(language_code="ru")[0]["description"]
    assert "surveys" in harness.fake.my_commands()[0]["description"]

    said = TEXTS["ru"]
    client = harness.fake.client(9501, "Kira", language_code="ru")
    customer = {"id": "c-95", "telegram_user_id": 9501}
    await client.send_text("/stop")
    question = await client.wait_for_bot_message(lambda m: said["stop?"] in m.content)
    await client.press_button(question, said["cancel"])
    unchanged = await client.wait_for_bot_message(  # the answer replaces the question
        lambda m: m.message_id == question.message_id and said["unchanged"] in m.content
    )
    assert unchanged.buttons() == []  # its buttons go with it

    await client.send_text("/stop")
    question = await client.wait_for_bot_message(
        lambda m: said["stop?"] in m.content and m.buttons() != []
    )
    await client.press_button(question, said["yes stop"])
    await client.wait_for_bot_message(
        lambda m: m.message_id == question.message_id and said["stopped"] in m.content
    )
    skipped = (await harness.close_ticket(ticket("T-95", customer))).json()
    await harness.settle()
    survey = await stored_survey(harness, skipped["survey_id"])
    assert (survey.status, survey.skip_reason) == ("skipped", "opted_out")
    assert not [m for m in client.bot_messages() if "T-95" in m.content]

    await client.send_text("/start")
    await client.wait_for_bot_message(lambda m: said["back"] in m.content)
    later = ticket("T-96", customer, closed_at="2026-11-18T11:00:00Z")
    await harness.close_ticket(later)
    await client.wait_for_bot_message(lambda m: "T-96" in m.content)

    # The language is chosen with a button too: the choice edits the pressed message.
    await client.send_text("/language")
    choice = await client.wait_for_bot_message(lambda m: "English" in m.button_texts())
    await client.press_button(choice, "English")
    await client.wait_for_bot_message(
        lambda m: m.message_id == choice.message_id and "speak English" in m.content
    )


async def test_a_forged_confirmation_from_a_group_changes_nothing(harness: Harness) -> None:
    """Who pressed and in which chat come from the update: a stranger's forged "erase" on
    someone else's message must erase nothing and edit nothing."""
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

"""The survey as it feels to a client, in both languages: labels, what each band hears next,
changing one's mind, and content that is not words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import MANAGERS, Harness, ticket

SAID = {
    "en": {
        "hint": "Tap a number from 0 to 10",
        "manager": "A manager will get in touch",
        "review": "Leave a review",
        "words": "Please type a few words",
        "skip": "Skip",
    },
    "ru": {
        "hint": "Нажмите число от 0 до 10",
        "manager": "Менеджер свяжется с вами",
        "review": "Оставить отзыв",
        "words": "Пожалуйста, напишите пару слов",
        "skip": "Пропустить",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["en", "ru"])


async def ask(harness: Harness, user: int, ticket_id: str, language: str):  # type: ignore[no-untyped-def]
    client = harness.fake.client(user, "Client", language_code=language)
    customer = {"id": f"c-{user}", "telegram_user_id": user, "language": language}
    await harness.close_ticket(ticket(ticket_id, customer))
    question = await client.wait_for_bot_message(lambda m: ticket_id in m.content)
    return client, question


@LANGUAGES
async def test_end_labels_explain_the_scale(harness: Harness, language: str) -> None:
    client, question = await ask(harness, 6101, "T-601", language)
    label = question.buttons()[-1]
    query = await client.press(question, label["callback_data"])
    answer = await harness.fake.wait_for_callback_answer(query)
    assert SAID[language]["hint"] in (answer.get("text") or "")


@LANGUAGES
async def test_detractor_hears_a_manager_will_call_and_a_sticker_changes_nothing(
    harness: Harness, language: str
) -> None:
    client, question = await ask(harness, 6201, "T-602", language)
    await client.press_button(question, "1")
    prompt = await client.wait_for_bot_message(lambda m: SAID[language]["skip"] in m.button_texts())
    await client.send_sticker()
    await client.wait_for_bot_message(lambda m: SAID[language]["words"] in m.content)
    await client.send_text("slow")
    thanks = await client.wait_for_bot_message(lambda m: SAID[language]["manager"] in m.content)
    assert thanks.message_id > prompt.message_id


@LANGUAGES
async def test_promoter_is_offered_the_public_review(harness: Harness, language: str) -> None:
    harness.settings = harness.settings.model_copy(update={"review_url": "https://example.org/r"})
    await harness.restart()
    client, question = await ask(harness, 6301, "T-603", language)
    await client.press_button(question, "10")
    prompt = await client.wait_for_bot_message(lambda m: SAID[language]["skip"] in m.button_texts())
    await client.press_button(prompt, SAID[language]["skip"])
    thanks = await client.wait_for_bot_message(
        lambda m: SAID[language]["review"] in m.button_texts()
    )
    assert thanks.buttons()[0]["url"] == "https://example.org/r"


async def test_changing_a_promoter_score_to_a_detractor_posts_the_alert(harness: Harness) -> None:
    client, question = await ask(harness, 6401, "T-604", "en")
    await client.press_button(question, "9")
    await client.wait_for_bot_message(lambda m: "What did you like most?" in m.content)
    assert harness.fake.bot_messages(MANAGERS) == []
    await client.press_button(question, "2")
    await harness.fake.wait_for(lambda m: "Detractor: 2/10" in m.content, chat_id=MANAGERS)
    await client.wait_for_bot_message(lambda m: "What went wrong?" in m.content)  # prompt follows


async def test_a_voice_comment_is_kept_and_reaches_the_managers(harness: Harness) -> None:
    client, question = await ask(harness, 6501, "T-605", "en")
    await client.press_button(question, "3")
    await client.wait_for_bot_message(lambda m: "What went wrong?" in m.content)
    voice = await client.send_voice(seconds=12)
    await client.wait_for_bot_message(lambda m: "Thank you for your feedback" in m.content)
    alert = await harness.fake.wait_for(
        lambda m: "Voice comment, 12 seconds" in m.content, chat_id=MANAGERS
    )
    assert "Detractor: 3/10" in alert.content
    forwarded = await harness.fake.wait_for(lambda m: m.file_id is not None, chat_id=MANAGERS)
    assert forwarded.file_id == voice.file_id  # the client's own recording, not a copy


async def test_extra_questions_are_asked_in_order_and_reach_the_digest(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(
        update={"extra_questions": ["Quality of the engineer's work", "Speed of the answer"]}
    )
    await harness.restart()
    client, question = await ask(harness, 6601, "T-606", "ru")
    await client.press_button(question, "9")
    prompt = await client.wait_for_bot_message(lambda m: "Пропустить" in m.button_texts())
    await client.press_button(prompt, "Пропустить")
    first = await client.wait_for_bot_message(
        lambda m: "Quality of the engineer" in m.content and m.buttons() != []
    )
    assert "1 — плохо, 5 — отлично" in first.content
    query = await client.press(first, first.callback_data("4").replace(":0:", ":1:"))
    assert "уже ответили" in (
        (await harness.fake.wait_for_callback_answer(query)).get("text") or ""
    )
    await client.press_button(first, "4")
    second = await client.wait_for_bot_message(
        lambda m: "Speed of the answer" in m.content and m.buttons() != []
    )
    await client.press_button(second, "5")
    await client.wait_for_bot_message(lambda m: "Спасибо за отзыв" in m.content)
    assert harness.bot is not None
    digest = harness.bot.services.digest
    week = await digest.build(digest.period(harness.clock() + timedelta(days=7)))
    text = digest.render(week, html=False)
    assert "Quality of the engineer's work: 4.0 of 5 (1 rating)" in text
    assert "Speed of the answer: 5.0 of 5 (1 rating)" in text

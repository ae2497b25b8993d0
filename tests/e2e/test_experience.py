"""The survey as it feels to a client through Telegram, in both languages: the parts only
Telegram shows, as updates the handlers decode.

What each band hears next, Skip, the review link, changing one's mind, extra questions and
comments are the survey services' (tests/survey/test_answers.py, from the outbox); here are a
label press answered by the handler itself, a sticker routed to "please type", a voice message
whose duration and file id PTB gives the handler, and an extra question's button decoded.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MANAGERS, Harness, ticket

SAID = {
    "en": {
        "hint": "Tap a number from 0 to 10",
        "manager": "A manager will get in touch",
        "words": "Please type a few words",
        "skip": "Skip",
    },
    "ru": {
        "hint": "Нажмите число от 0 до 10",
        "manager": "Менеджер свяжется с вами",
        "words": "Пожалуйста, напишите пару слов",
        "skip": "Пропустить",
    },
}
SPEED = "Speed of the answer"


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_detractor_taps_a_label_sends_a_sticker_then_a_voice_comment(
    harness: Harness, language: str
) -> None:
    """The labels under the scale only explain it (the handler answers them in the presser's
    language, nothing is recorded); content that is not words is asked to be words; a voice
    message is the comment, and the managers get the client's own recording; the operator's
    extra question is answered with its own buttons before the last thanks."""
    harness.settings = harness.settings.model_copy(update={"extra_questions": [SPEED]})
    await harness.restart()
    client = harness.fake.client(6201, "Client", language_code=language)
    customer = {"id": "c-6201", "telegram_user_id": 6201, "language": language}
    await harness.close_ticket(ticket("T-602", customer))
    question = await client.wait_for_bot_message(lambda m: "T-602" in m.content)

    label = question.buttons()[-1]
    query = await client.press(question, label["callback_data"])
    answer = await harness.fake.wait_for_callback_answer(query)
    assert SAID[language]["hint"] in (answer.get("text") or "")

    await client.press_button(question, "1")
    prompt = await client.wait_for_bot_message(lambda m: SAID[language]["skip"] in m.button_texts())
    await client.send_sticker()
    await client.wait_for_bot_message(lambda m: SAID[language]["words"] in m.content)
    voice = await client.send_voice(seconds=12)
    extra = await client.wait_for_bot_message(lambda m: SPEED in m.content and m.buttons() != [])
    await client.press_button(extra, "4")
    await client.wait_for_bot_message(
        lambda m: m.message_id == extra.message_id and f"{SPEED}</b>: 4/5" in (m.text or "")
    )
    thanks = await client.wait_for_bot_message(lambda m: SAID[language]["manager"] in m.content)
    assert thanks.message_id > prompt.message_id

    alert = await harness.fake.wait_for(
        lambda m: "Voice comment, 12 seconds" in m.content, chat_id=MANAGERS
    )
    assert "Detractor: 1/10" in alert.content
    forwarded = await harness.fake.wait_for(lambda m: m.file_id is not None, chat_id=MANAGERS)
    assert forwarded.file_id == voice.file_id  # the client's own recording, not a copy

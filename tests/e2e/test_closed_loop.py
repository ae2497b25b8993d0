"""Closing the loop on a detractor, as managers and the client live it, end to end.

One flow through Telegram: the alert, take, the reply and the client's answer, the checklist,
the note and "did we make it right?", with the toasts, links and edits of the pressed messages
only Telegram shows, and forged presses of a case button and of the recovery question. Who may
press where, routing, reminders of unclaimed alerts, relays that fail or come late, and when the
recovery question is asked are the services' rules: they are tested on the services and the
outbox, on both databases, in tests/managers (test_case_access, test_alert_routing,
test_unclaimed_alerts, test_client_conversation, test_recovery_question).
"""

from __future__ import annotations

import logging

import pytest
from sqlmodel import col, select

from bot.sandbox.models import SentMessage
from storage.models import AlertCase, CaseMessage
from tests.e2e.conftest import MANAGERS, Harness, ticket

CLIENT = 5101
BOSS = 7001  # a configured manager
OUTSIDER = 7002  # in the managers' group, but not on the list


def buttons(message: object) -> list[str]:
    markup = getattr(message, "reply_markup", None) or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


async def reconfigure(harness: Harness, **settings: object) -> None:
    harness.settings = harness.settings.model_copy(update=settings)
    await harness.restart()


async def stored_case(harness: Harness, survey_id: int) -> AlertCase:
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        found = await session.exec(select(AlertCase).where(AlertCase.survey_id == survey_id))
        return found.one()


async def answer(harness: Harness, query_id: str) -> dict[str, object]:
    return await harness.fake.wait_for_callback_answer(query_id)


async def score_ticket(
    harness: Harness, client_id: int, ticket_id: str, score: int, **extra: object
) -> int:
    """Close a ticket of Globex's Anna and have her give ``score``; returns the survey id."""
    client = harness.fake.client(client_id, "Anna")
    customer = {"id": f"c-{client_id}", "telegram_user_id": client_id, "company": "Globex"}
    body = ticket(ticket_id, customer, **extra)
    survey_id = int((await harness.close_ticket(body)).json()["survey_id"])
    question = await client.wait_for_bot_message(
        lambda m: "recommend" in m.content and ticket_id in m.content
    )
    await client.press(question, f"nps:{survey_id}:{score}")
    return survey_id


async def test_a_manager_takes_answers_and_resolves_a_detractor(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="storage")
    await reconfigure(
        harness,
        manager_user_ids=[BOSS],
        recovery_survey=True,
        throttle_days=0,
        ticket_url_template="https://help.example/tickets/{id}",
    )
    client = harness.fake.client(CLIENT, "Anna")
    await score_ticket(harness, CLIENT, "T-1", 9)
    await client.wait_for_bot_message(lambda m: "What did you like most?" in m.content)
    await client.send_text("fine")
    survey_id = await score_ticket(harness, CLIENT, "T-2", 3)
    await client.wait_for_bot_message(lambda m: "What went wrong?" in m.content)
    await client.send_text("Slow & rude")

    alert = await harness.fake.wait_for(
        lambda m: "Detractor: 3/10" in m.content and "Slow" in m.content, chat_id=MANAGERS
    )
    text = alert.content
    assert '<a href="https://help.example/tickets/T-2">T-2</a>' in text
    for expected in ("Company: Globex", "Agent: Ivan Petrov", "Channel: email", "9 → 3"):
        assert expected in text
    assert buttons(alert) == ["🙋 Take it", "✅ Resolved", "💬 Reply to client"]
    case = await stored_case(harness, survey_id)
    assert case.id is not None

    await take(harness, alert, case.id, survey_id)
    await reply_and_hear_back(harness, alert, case.id)
    await resolve_with_checklist_and_note(harness, alert, case.id)
    await recovery_answered_once(harness, alert, case.id)

    final = await stored_case(harness, survey_id)
    assert (final.status, final.checklist) == ("resolved", ["apologise", "fix"])
    assert (final.taken_by, final.resolved_by, final.recovery_answer) == (BOSS, BOSS, True)
    assert final.resolution_note == "Refund issued, courier retrained"
    assert final.first_contact_at is not None and final.taken_at is not None
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        said = (await session.exec(select(CaseMessage).order_by(col(CaseMessage.id)))).all()
    assert [(m.direction, m.text) for m in said] == [
        ("to_client", "We refunded you <today>"),
        ("from_client", "Thanks, got it"),
    ]
    # What clients and managers wrote, and who they are, never reaches the log.
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert any(record.name.startswith("bot.") for record in caplog.records)  # it logs, by ids
    for personal in ("Slow & rude", "refunded", "Thanks, got it", "courier", "Anna", "Olga"):
        assert personal not in logged, personal


async def take(harness: Harness, alert: SentMessage, case_id: int, survey_id: int) -> None:
    """A stranger is refused; the listed manager takes the case, once."""
    boss, outsider = harness.fake.client(BOSS, "Olga"), harness.fake.client(OUTSIDER, "Mallory")
    refusal = await answer(harness, await outsider.press(alert, f"case:{case_id}:take"))
    assert "only the support managers" in str(refusal["text"])
    assert (await stored_case(harness, survey_id)).status == "open"

    took = await answer(harness, await boss.press_button(alert, "🙋 Take it"))
    assert "yours" in str(took["text"])
    taken = await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "Taken by Olga" in m.content,
        chat_id=MANAGERS,
    )
    assert "🙋 Take it" not in buttons(taken)
    again = await answer(harness, await boss.press(alert, f"case:{case_id}:take"))
    assert "Already taken by Olga" in str(again["text"])


async def reply_and_hear_back(harness: Harness, alert: SentMessage, case_id: int) -> None:
    """Reply to client: the press opens the private chat; the next message goes to the client."""
    boss, client = harness.fake.client(BOSS, "Olga"), harness.fake.client(CLIENT, "Anna")
    reply = await answer(harness, await boss.press_button(alert, "💬 Reply to client"))
    assert reply["url"] == f"https://t.me/{harness.fake.bot_username}?start=reply-{case_id}"
    await boss.send_text(f"/start reply-{case_id}")
    await boss.wait_for_bot_message(lambda m: "Write your reply to the client" in m.content)
    await boss.send_text("We refunded you <today>")
    relayed = await client.wait_for_bot_message(lambda m: "We refunded you" in m.content)
    assert "ACME &amp; Co" in relayed.content and "T-2" in relayed.content
    assert "&lt;today&gt;" in relayed.content
    await boss.wait_for_bot_message(lambda m: "Sent to the client" in m.content)
    await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "Client contacted" in m.content,
        chat_id=MANAGERS,
    )
    # The client's answer comes back to the manager who wrote.
    await client.send_text("Thanks, got it")
    back = await boss.wait_for_bot_message(lambda m: "Thanks, got it" in m.content)
    assert "The client of ticket T-2 answered" in back.content
    assert buttons(back) == ["💬 Reply to client"]
    await client.wait_for_bot_message(lambda m: "we passed it on" in m.content)


async def resolve_with_checklist_and_note(
    harness: Harness, alert: SentMessage, case_id: int
) -> None:
    """Resolved: tick the checklist, save, then write the note in the private chat."""
    boss = harness.fake.client(BOSS, "Olga")
    await boss.press_button(alert, "✅ Resolved")
    current = await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "☐ Apologised" in buttons(m),
        chat_id=MANAGERS,
    )
    for step in ("Apologised", "Fixed it"):
        await boss.press_button(current, f"☐ {step}")
        current = await harness.fake.wait_for(
            lambda m, step=step: m.message_id == alert.message_id and f"☑ {step}" in buttons(m),
            chat_id=MANAGERS,
        )
    saved = await answer(harness, await boss.press_button(current, "✅ Save as resolved"))
    assert saved["url"] == f"https://t.me/{harness.fake.bot_username}?start=note-{case_id}"
    await boss.send_text(f"/start note-{case_id}")
    await boss.wait_for_bot_message(lambda m: "Write a short note" in m.content)
    await boss.send_text("Refund issued, courier retrained")
    await boss.wait_for_bot_message(lambda m: "Note saved" in m.content)
    resolved = await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "courier retrained" in m.content,
        chat_id=MANAGERS,
    )
    assert "Resolved by Olga" in resolved.content
    assert "Done: Apologised, Fixed it" in resolved.content
    assert buttons(resolved) == ["💬 Reply to client"]


async def recovery_answered_once(harness: Harness, alert: SentMessage, case_id: int) -> None:
    """ "Did we make it right?": only the client answers, and only once."""
    client, outsider = harness.fake.client(CLIENT, "Anna"), harness.fake.client(OUTSIDER, "M")
    recovery = await client.wait_for_bot_message(lambda m: "Did we make it right?" in m.content)
    stranger = await answer(harness, await outsider.press(recovery, f"fix:{case_id}:no"))
    assert "not for you" in str(stranger["text"])
    await client.press_button(recovery, "👍 Yes")
    await client.wait_for_bot_message(
        lambda m: m.message_id == recovery.message_id and "Thank you for telling us" in m.content
    )
    late = await answer(harness, await client.press(recovery, f"fix:{case_id}:no"))
    assert "already answered" in str(late["text"])
    await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "we made it right" in m.content,
        chat_id=MANAGERS,
    )

"""Closing the loop on a detractor, as managers and the client live it, end to end."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from bot.core.routing import parse_routes
from bot.delivery.purposes import Purpose
from bot.sandbox.models import SentMessage
from storage.models import AlertCase, CaseMessage, OutboxMessage, Survey
from tests.e2e.conftest import MANAGERS, Harness, ticket

CLIENT = 5101
BOSS = 7001  # a configured manager
OUTSIDER = 7002  # in the managers' group, but not on the list
BILLING = -1009990001


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


async def test_routed_alert_is_reannounced_until_taken_and_listed(harness: Harness) -> None:
    harness.fake.add_group(BILLING, "Billing alerts")
    await reconfigure(harness, alert_routes=list(parse_routes(f"team:billing={BILLING}")))
    boss = harness.fake.client(BOSS, "Olga")
    survey_id = await score_ticket(harness, CLIENT, "T-9", 2, team="Billing")
    alert = await harness.fake.wait_for(lambda m: "Detractor: 2/10" in m.content, chat_id=BILLING)
    assert not [m for m in harness.fake.bot_messages(MANAGERS) if "Detractor" in m.content]
    case = await stored_case(harness, survey_id)
    assert case.chat_id == BILLING

    # The case's buttons forged onto a message in another managers' chat are refused.
    await boss.send_text("/alerts", chat_id=MANAGERS)
    elsewhere = await harness.fake.wait_for(lambda m: "open case" in m.content, chat_id=MANAGERS)
    for action in ("take", "done", "reply"):
        forged = await answer(harness, await boss.press(elsewhere, f"case:{case.id}:{action}"))
        assert "only the support managers" in str(forged["text"])
    unchanged = await stored_case(harness, survey_id)
    assert (unchanged.status, unchanged.taken_by, unchanged.relay_manager_id) == (
        "open",
        None,
        None,
    )

    await boss.send_text("/alerts", chat_id=BILLING)
    listed = await harness.fake.wait_for(lambda m: "1 open case" in m.content, chat_id=BILLING)
    assert "T-9" in listed.content and "nobody has taken it" in listed.content

    harness.clock.move_to(harness.clock() + timedelta(hours=4, minutes=1))
    reminder = await harness.fake.wait_for(
        lambda m: "Nobody has taken this detractor for 4 hours" in m.content, chat_id=BILLING
    )
    assert reminder.reply_to_message_id == alert.message_id
    assert (await stored_case(harness, survey_id)).reannounce_count == 1
    await harness.fake.wait_for(  # and the alert itself says so
        lambda m: m.message_id == alert.message_id and "Nobody has taken this yet" in m.content,
        chat_id=BILLING,
    )

    await boss.press_button(alert, "🙋 Take it")
    await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "Taken by Olga" in m.content,
        chat_id=BILLING,
    )
    harness.clock.move_to(harness.clock() + timedelta(hours=5))
    await boss.send_text("/alerts", chat_id=BILLING)
    await harness.fake.wait_for(lambda m: "taken by Olga" in m.content, chat_id=BILLING)
    reminders = [m for m in harness.fake.bot_messages(BILLING) if "Nobody has taken" in m.content]
    assert len(reminders) == 1  # taken: no more reminders


async def test_manager_commands_are_refused_to_clients(harness: Harness) -> None:
    client = harness.fake.client(CLIENT, "Anna")
    await client.send_text("/alerts")
    refusal = await client.wait_for_bot_message(lambda m: "for the support team" in m.content)
    assert refusal.chat_id == CLIENT


async def test_a_reply_the_client_cannot_get_is_reported_to_the_manager(harness: Harness) -> None:
    await reconfigure(harness, manager_user_ids=[BOSS])
    boss, client = harness.fake.client(BOSS, "Olga"), harness.fake.client(CLIENT, "Anna")
    survey_id = await score_ticket(harness, CLIENT, "T-5", 0)
    alert = await harness.fake.wait_for(lambda m: "Detractor: 0/10" in m.content, chat_id=MANAGERS)
    case = await stored_case(harness, survey_id)
    client.block()
    await boss.press_button(alert, "💬 Reply to client")
    await boss.send_text("Sorry about that")  # no /start needed once the prompt is pending
    warning = await boss.wait_for_bot_message(lambda m: "did not reach the client" in m.content)
    assert "Sorry about that" not in warning.content
    assert (await stored_case(harness, survey_id)).id == case.id


async def test_a_late_or_stray_reply_is_never_silently_dropped(harness: Harness) -> None:
    await reconfigure(harness, manager_user_ids=[BOSS])
    boss, client = harness.fake.client(BOSS, "Olga"), harness.fake.client(CLIENT, "Anna")
    await score_ticket(harness, CLIENT, "T-6", 4)
    alert = await harness.fake.wait_for(lambda m: "Detractor: 4/10" in m.content, chat_id=MANAGERS)
    await answer(harness, await boss.press_button(alert, "💬 Reply to client"))
    harness.clock.move_to(harness.clock() + timedelta(hours=25))
    await boss.send_text("Sorry for the wait")
    await boss.wait_for_bot_message(
        lambda m: "pressed too long ago" in m.content and "T-6" in m.content
    )
    await boss.send_text("Hello?")
    await boss.wait_for_bot_message(lambda m: "Not sent to anyone" in m.content)
    assert not [m for m in client.bot_messages() if "Sorry for the wait" in m.content]


async def test_the_clients_answer_to_a_manager_is_not_taken_for_the_comment(
    harness: Harness,
) -> None:
    await reconfigure(harness, manager_user_ids=[BOSS], throttle_days=0)
    boss, client = harness.fake.client(BOSS, "Olga"), harness.fake.client(CLIENT, "Anna")
    survey_id = await score_ticket(harness, CLIENT, "T-7", 2)
    await client.wait_for_bot_message(lambda m: "What went wrong?" in m.content)
    alert = await harness.fake.wait_for(lambda m: "Detractor: 2/10" in m.content, chat_id=MANAGERS)
    # The manager is quick: they write before the client has answered "What went wrong?".
    await boss.press_button(alert, "💬 Reply to client")
    await boss.send_text("Sorry! What happened?")
    await client.wait_for_bot_message(lambda m: "What happened?" in m.content)
    await client.send_text("The courier was rude")
    back = await boss.wait_for_bot_message(lambda m: "The courier was rude" in m.content)
    assert "T-7" in back.content
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        survey = await session.get(Survey, survey_id)
        assert survey is not None and survey.comment is None  # not stored as the comment

    # A later survey's question comes after the manager's message: its answer is the comment.
    later = await score_ticket(harness, CLIENT, "T-8", 3)
    await client.wait_for_bot_message(
        lambda m: "What went wrong?" in m.content and m.message_id > back.message_id
    )
    await client.send_text("Still slow")
    await harness.fake.wait_for(
        lambda m: "Detractor: 3/10" in m.content and "Still slow" in m.content, chat_id=MANAGERS
    )
    async with harness.bot.services.session_factory() as session:
        survey = await session.get(Survey, later)
        assert survey is not None and survey.comment == "Still slow"
    assert not [m for m in boss.bot_messages() if "Still slow" in m.content]


async def test_private_presses_need_the_list_or_a_part_in_the_case(harness: Harness) -> None:
    boss, outsider = harness.fake.client(BOSS, "Olga"), harness.fake.client(OUTSIDER, "Mallory")
    survey_id = await score_ticket(harness, CLIENT, "T-3", 1)
    alert = await harness.fake.wait_for(lambda m: "Detractor: 1/10" in m.content, chat_id=MANAGERS)
    case = await stored_case(harness, survey_id)
    # No list: the group's member who took the case may press in private, another may not.
    await outsider.press_button(alert, "🙋 Take it")
    await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "Taken by Mallory" in m.content,
        chat_id=MANAGERS,
    )
    for person in (boss, outsider):
        await person.send_text("/help")
    boss_private = await boss.wait_for_bot_message(lambda m: bool(m.content))
    outsider_private = await outsider.wait_for_bot_message(lambda m: bool(m.content))
    refused = await answer(harness, await boss.press(boss_private, f"case:{case.id}:reply"))
    assert "only the support managers" in str(refused["text"])
    allowed = await answer(harness, await outsider.press(outsider_private, f"case:{case.id}:reply"))
    assert allowed["text"] == "Write your reply below."

    # With a list, only listed users act in private, whatever they did before.
    await reconfigure(harness, manager_user_ids=[BOSS])
    refused = await answer(harness, await outsider.press(outsider_private, f"case:{case.id}:take"))
    assert "only the support managers" in str(refused["text"])
    allowed = await answer(harness, await boss.press(boss_private, f"case:{case.id}:reply"))
    assert allowed["text"] == "Write your reply below."


async def recovery_questions(harness: Harness) -> int:
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        found = await session.exec(
            select(func.count()).where(OutboxMessage.purpose == Purpose.RECOVERY)
        )
        return int(found.one())


async def resolve(harness: Harness, alert: SentMessage) -> None:
    """Resolved, then Save, with no step ticked; waits until the alert says so."""
    boss = harness.fake.client(BOSS, "Olga")
    await boss.press_button(alert, "✅ Resolved")
    checklist = await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "✅ Save as resolved" in buttons(m),
        chat_id=MANAGERS,
    )
    await answer(harness, await boss.press_button(checklist, "✅ Save as resolved"))
    await harness.fake.wait_for(
        lambda m: m.message_id == alert.message_id and "Resolved by Olga" in m.content,
        chat_id=MANAGERS,
    )


async def test_no_recovery_question_unless_asked_for_nor_after_stop(harness: Harness) -> None:
    await reconfigure(harness, manager_user_ids=[BOSS], throttle_days=0)  # recovery is off
    await score_ticket(harness, CLIENT, "T-11", 2)
    first = await harness.fake.wait_for(lambda m: "Detractor: 2/10" in m.content, chat_id=MANAGERS)
    await resolve(harness, first)
    assert await recovery_questions(harness) == 0

    await reconfigure(harness, manager_user_ids=[BOSS], throttle_days=0, recovery_survey=True)
    client = harness.fake.client(CLIENT, "Anna")
    await score_ticket(harness, CLIENT, "T-12", 1)
    alert = await harness.fake.wait_for(lambda m: "Detractor: 1/10" in m.content, chat_id=MANAGERS)
    await client.send_text("/stop")
    confirm = await client.wait_for_bot_message(lambda m: "Stop all surveys?" in m.content)
    await client.press_button(confirm, "Yes, stop surveys")
    await client.wait_for_bot_message(lambda m: "will not get surveys" in m.content)
    await resolve(harness, alert)
    assert await recovery_questions(harness) == 0  # a client who said /stop is left alone


async def test_alerts_are_routed_by_channel_and_company(harness: Harness) -> None:
    phone, globex = -1009990002, -1009990003
    harness.fake.add_group(phone, "Phone alerts")
    harness.fake.add_group(globex, "Globex alerts")
    routes = parse_routes(f"channel:phone={phone}; company:globex={globex}")
    await reconfigure(harness, alert_routes=list(routes), throttle_days=0)
    await score_ticket(harness, CLIENT, "T-21", 3, channel="phone")  # Globex's client, by phone
    await harness.fake.wait_for(lambda m: "T-21" in m.content, chat_id=phone)
    await score_ticket(harness, CLIENT, "T-22", 4, channel="email")
    await harness.fake.wait_for(lambda m: "T-22" in m.content, chat_id=globex)
    other = harness.fake.client(5102, "Boris")
    body = ticket("T-23", {"id": "c-5102", "telegram_user_id": 5102, "company": "Initech"})
    survey_id = int((await harness.close_ticket(body)).json()["survey_id"])
    question = await other.wait_for_bot_message(lambda m: "T-23" in m.content)
    await other.press(question, f"nps:{survey_id}:5")
    await harness.fake.wait_for(lambda m: "T-23" in m.content, chat_id=MANAGERS)
    alerts = {
        chat: [m.content for m in harness.fake.bot_messages(chat) if "Detractor" in m.content]
        for chat in (phone, globex, MANAGERS)
    }
    assert [len(texts) for texts in alerts.values()] == [1, 1, 1]  # each alert in one chat only


async def test_long_notes_and_replies_are_cut_and_old_prompt_links_do_nothing(
    harness: Harness,
) -> None:
    await reconfigure(harness, manager_user_ids=[BOSS])
    boss, client = harness.fake.client(BOSS, "Olga"), harness.fake.client(CLIENT, "Anna")
    survey_id = await score_ticket(harness, CLIENT, "T-31", 2)
    alert = await harness.fake.wait_for(lambda m: "Detractor: 2/10" in m.content, chat_id=MANAGERS)
    case = await stored_case(harness, survey_id)

    await answer(harness, await boss.press_button(alert, "💬 Reply to client"))
    await boss.send_text("r" * 3600)
    await boss.wait_for_bot_message(lambda m: "shortened to 3500 characters" in m.content)
    relayed = await client.wait_for_bot_message(lambda m: "rrrr" in m.content)
    assert relayed.content.count("r") < 3600 and "…" in relayed.content

    await resolve(harness, alert)
    await boss.send_text("n" * 1200)
    await boss.wait_for_bot_message(lambda m: "shortened to 1000 characters" in m.content)
    assert (await stored_case(harness, survey_id)).resolution_note == "n" * 1000

    # A prompt link opened a day later asks for nothing, and says so.
    await answer(harness, await boss.press_button(alert, "💬 Reply to client"))
    harness.clock.move_to(harness.clock() + timedelta(hours=25))
    await boss.send_text(f"/start reply-{case.id}")
    await boss.wait_for_bot_message(lambda m: "That link is out of date" in m.content)
    assert not [m for m in boss.bot_messages() if "Write your reply to the client" in m.content]

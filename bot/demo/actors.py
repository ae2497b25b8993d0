"""The people of the demo: a helpdesk, clients and a manager, each acting as they would.

Clients find their question and the Skip button by what the buttons do (their callback data),
never by label, so the story works in every language the bot speaks; they then tap the button
itself, as a person would.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from bot.core.callback import CasePress, Press, ScorePress, SkipPress
from bot.core.clock import Clock
from bot.demo.cast import MANAGER_ID, MANAGER_NAME, MANAGERS_CHAT, RESOLUTION_NOTE, ClientPlan
from bot.demo.results import ClientRun, DemoError, ManagerRun, ManagerStep, find_button
from bot.sandbox import FakeBotApi, SentMessage, SimulatedClient

# Waits are generous: the managers' chat takes 20 messages a minute, and the bot keeps to it.
CLIENT_WAIT = 60.0
MANAGERS_WAIT = 180.0


async def close_tickets(
    http: httpx.AsyncClient, token: str, cast: tuple[ClientPlan, ...], clock: Clock
) -> list[ClientRun]:
    """What a helpdesk does when agents close tickets: one POST each, with the bearer token."""
    runs = []
    for plan in cast:
        customer: dict[str, object] = {
            "id": plan.customer_id,
            "name": plan.name,
            "language": plan.language,
        }
        if plan.company is not None:
            customer["company"] = plan.company
        if not plan.via_link:
            customer["telegram_user_id"] = plan.user_id
        body = {
            "ticket_id": plan.ticket_id,
            "closed_at": (clock() - plan.closed_ago).isoformat(),
            "customer": customer,
            "agent": plan.agent,
            "team": plan.team,
            "channel": plan.channel,
        }
        answer = await http.post(
            "/api/v1/tickets/closed", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        if answer.status_code != httpx.codes.ACCEPTED:
            raise DemoError(
                f"the intake refused {plan.ticket_id}: {answer.status_code} {answer.text}"
            )
        created = answer.json()
        runs.append(ClientRun(plan, int(created["survey_id"]), created.get("deep_link")))
    return runs


async def answer_survey(fake: FakeBotApi, run: ClientRun) -> None:
    """One client: open the link if need be, tap the score, then comment or press Skip."""
    plan, client = run.plan, fake.client(run.plan.user_id)
    if plan.via_link:
        if not run.deep_link:
            raise DemoError(f"the intake gave no deep link for {plan.ticket_id}")
        await client.send_text(f"/start {run.deep_link.rsplit('start=', 1)[1]}")

    def surveyfind_button(kind: type[ScorePress | SkipPress]) -> Callable[[Press], bool]:
        return lambda press: isinstance(press, kind) and press.survey_id == run.survey_id

    question = await client.wait_for_bot_message(
        lambda m: find_button(m, surveyfind_button(ScorePress)) is not None, CLIENT_WAIT
    )
    run.seen[question.message_id] = question
    run.pressed[question.message_id] = str(plan.score)
    await client.press_button(question, str(plan.score))
    prompt = await client.wait_for_bot_message(
        lambda m: find_button(m, surveyfind_button(SkipPress)) is not None, CLIENT_WAIT
    )
    run.seen[prompt.message_id] = prompt
    if plan.comment is not None:
        sent = await client.send_text(plan.comment)
        await client.wait_for_bot_message(
            lambda _m: True, CLIENT_WAIT, after_message_id=sent.message_id
        )
        return
    skip = find_button(prompt, surveyfind_button(SkipPress))
    assert skip is not None  # noqa: S101  (found by the wait above)
    run.pressed[prompt.message_id] = skip["text"]
    await client.press(prompt, skip["data"])
    await client.wait_for_bot_message(
        lambda m: (
            m.message_id == prompt.message_id
            and find_button(m, surveyfind_button(SkipPress)) is None
        ),
        CLIENT_WAIT,
    )


def about(ticket_id: str) -> Callable[[SentMessage], bool]:
    pattern = re.compile(rf"(?<![\w-]){re.escape(ticket_id)}(?![\w-])")
    return lambda m: bool(pattern.search(m.content))


async def alert_after_comment(fake: FakeBotApi, run: ClientRun) -> SentMessage:
    """The detractor's alert once it shows the comment (or that the client skipped it)."""
    is_about = about(run.plan.ticket_id)
    return await fake.wait_for(
        lambda m: is_about(m) and m.edits >= 1 and find_button(m, _case("take")) is not None,
        chat_id=MANAGERS_CHAT,
        timeout=MANAGERS_WAIT,
    )


def _case(action: str) -> Callable[[Press], bool]:
    return lambda press: isinstance(press, CasePress) and press.action == action


async def _edited(fake: FakeBotApi, message: SentMessage) -> SentMessage:
    return await fake.wait_for(
        lambda m: m.message_id == message.message_id and m.edits > message.edits,
        chat_id=message.chat_id,
        timeout=MANAGERS_WAIT,
    )


async def _reply(manager: SimulatedClient, text: str) -> SentMessage:
    sent = await manager.send_text(text)
    return await manager.wait_for_bot_message(
        lambda _m: True, CLIENT_WAIT, after_message_id=sent.message_id
    )


async def close_the_loop(fake: FakeBotApi, run: ClientRun, alert: SentMessage) -> ManagerRun:
    """Take the case, tick "apologised", save it as resolved and write the note privately."""
    manager = fake.client(MANAGER_ID)
    result = ManagerRun(MANAGER_NAME, run)
    current = alert
    toast: dict[str, object] = {}
    for action in ("take", "resolve", "step", "done"):
        button = find_button(current, _case(action))
        if button is None:
            raise DemoError(f"the alert about {run.plan.ticket_id} has no {action!r} button")
        toast = await fake.wait_for_callback_answer(
            await manager.press(current, button["data"]), timeout=CLIENT_WAIT
        )
        result.steps.append(ManagerStep(button["text"], _str_or_none(toast.get("text"))))
        current = await _edited(fake, current)
    link = _str_or_none(toast.get("url"))
    if link is None or "start=" not in link:
        raise DemoError("saving the case as resolved did not offer the note link")
    await _reply(manager, f"/start {link.rsplit('start=', 1)[1]}")  # the manager opens the link
    await _reply(manager, RESOLUTION_NOTE)
    await fake.wait_for(
        lambda m: m.message_id == alert.message_id and RESOLUTION_NOTE in m.content,
        chat_id=MANAGERS_CHAT,
        timeout=MANAGERS_WAIT,
    )
    result.private_chat = manager.messages()
    return result


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

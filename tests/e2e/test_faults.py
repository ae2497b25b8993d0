"""A bad day at Telegram: random 5xx, 429 and time-outs, and blocked clients, end to end.

Every question and every alert must arrive exactly once; a blocked client's survey ends as
unreachable and is not retried.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from functools import partial

import pytest
from sqlmodel import select

from bot.sandbox.api import Chaos
from bot.sandbox.models import ApiCall
from storage.models import Survey
from tests.e2e.conftest import MANAGERS, Harness, on_both_databases, ticket

CLIENTS = 40
BLOCKED = {6003, 6017, 6031}
DETRACTORS = 8


def forbidden(call: ApiCall, chat_id: int) -> bool:
    """Whether ``call`` is a message to ``chat_id`` that Telegram refused with 403."""
    return call.params.get("chat_id") == chat_id and call.status == 403


async def eventually(
    harness: Harness, done: Callable[[Counter[str]], bool], seconds: float = 30.0
) -> Counter[str]:
    """The surveys' statuses, once ``done`` holds for them (or as they are at the deadline)."""
    assert harness.bot is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        async with harness.bot.services.session_factory() as session:
            statuses = Counter((await session.exec(select(Survey.status))).all())
        if done(statuses) or loop.time() >= deadline:
            return statuses
        await asyncio.sleep(0.05)


@pytest.mark.flood_limits  # real 429s from the fake's limits beside the injected ones
@on_both_databases  # retries, claims and marks of many calls at once
async def test_every_message_arrives_once_through_faults(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"telegram_timeout_seconds": 1.0})
    await harness.restart()
    chaos = Chaos(
        rate_5xx=0.15, rate_429=0.1, rate_timeout=0.05, retry_after=1, hang_seconds=2.5, seed=7
    )
    harness.fake.api.chaos = chaos
    ids = [6000 + n for n in range(CLIENTS)]
    clients = {user_id: harness.fake.client(user_id, f"C{user_id}") for user_id in ids}
    for user_id in BLOCKED:
        clients[user_id].block()
    for user_id in ids:
        body = ticket(f"F-{user_id}", {"id": f"c-{user_id}", "telegram_user_id": user_id})
        assert (await harness.close_ticket(body)).status_code == 202

    reachable = [user_id for user_id in ids if user_id not in BLOCKED]
    questions = {}
    for user_id in reachable:
        questions[user_id] = await clients[user_id].wait_for_bot_message(
            lambda m: "recommend" in m.content, timeout=60
        )
    for user_id in reachable[:DETRACTORS]:
        await clients[user_id].press_button(questions[user_id], "3")
    for _ in range(DETRACTORS):
        await harness.fake.wait_for(
            lambda m: (
                sum("Detractor: 3/10" in x.content for x in harness.fake.bot_messages(MANAGERS))
                >= DETRACTORS
            ),
            chat_id=MANAGERS,
            timeout=60,
        )

    # A blocked client's question may still be retrying a 5xx or a time-out: wait until
    # Telegram has answered each one 403, and the survey has been marked for it.
    for user_id in BLOCKED:
        await harness.fake.wait_for_call(partial(forbidden, chat_id=user_id), timeout=60)
    statuses = await eventually(harness, lambda statuses: statuses["unreachable"] == len(BLOCKED))
    assert statuses["unreachable"] == len(BLOCKED), statuses
    # Forbidden is final: each blocked chat was asked until the one 403, and never again.
    assert all(
        sum(forbidden(call, user_id) for call in harness.fake.calls_of("sendMessage")) == 1
        for user_id in BLOCKED
    )
    asked = Counter(
        message.chat_id
        for user_id in ids
        for message in harness.fake.bot_messages(user_id)
        if "recommend" in message.content
    )
    assert all(asked[user_id] == 1 for user_id in reachable), asked
    assert not any(asked[user_id] for user_id in BLOCKED)
    alerts = [m for m in harness.fake.bot_messages(MANAGERS) if "Detractor" in m.content]
    assert len(alerts) == DETRACTORS
    assert all(chaos.struck.values()), chaos.struck  # every kind of fault happened

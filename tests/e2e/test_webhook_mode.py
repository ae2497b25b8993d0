"""Webhook mode and several instances: Telegram posts updates to us; instances share the work."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlmodel import select

from bot.webhook import SECRET_HEADER, derive_webhook_secret
from storage.locks import AlreadyRunningError
from storage.models import Survey
from tests.e2e.conftest import API_TOKEN, MANAGERS, Harness, on_both_databases, ticket

PUBLIC_URL = "https://bot.example.com/tg/updates"


async def webhook_mode(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"telegram_webhook_url": PUBLIC_URL})
    await harness.restart()
    assert harness.bot is not None
    harness.fake.deliver_webhooks_to(f"http://127.0.0.1:{harness.bot.http_port}")


async def test_updates_arrive_by_webhook_with_the_secret_checked(harness: Harness) -> None:
    await webhook_mode(harness)
    assert harness.fake.webhook_url == PUBLIC_URL
    assert harness.fake.world.webhook is not None and harness.fake.world.webhook["has_secret_token"]

    client = harness.fake.client(5301, "Anna")
    await harness.close_ticket(ticket("W-1", {"id": "c-w1", "telegram_user_id": 5301}))
    question = await client.wait_for_bot_message(lambda m: "recommend" in m.content)
    await client.press_button(question, "2")
    await harness.fake.wait_for(lambda m: "Detractor: 2/10" in m.content, chat_id=MANAGERS)
    assert harness.fake.webhook_deliveries >= 1 and not harness.fake.pending_updates()

    # Without the secret, or with a wrong one, nothing is handled.
    forged = {  # a score of 10 for the survey, as an attacker would post it
        "update_id": 999,
        "callback_query": {
            "id": "1",
            "from": {"id": 5301, "is_bot": False, "first_name": "Anna"},
            "chat_instance": "1",
            "data": "nps:1:10",
        },
    }
    for headers in ({}, {SECRET_HEADER: "guess"}):
        answer = await harness.http.post("/tg/updates", json=forged, headers=headers)
        assert answer.status_code == 401
        assert "secret" in answer.json()["detail"]
    secret = derive_webhook_secret(harness.settings.require_token())
    broken = await harness.http.post(
        "/tg/updates", content=b"{not json", headers={SECRET_HEADER: secret}
    )
    assert broken.status_code == 400
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        scores = (await session.exec(select(Survey.score))).all()
    assert scores == [2]


@on_both_databases  # two processes' claims and digest locks on one database
async def test_two_instances_on_one_database_send_everything_once(harness: Harness) -> None:
    await webhook_mode(harness)
    second = harness.new_bot()
    await second.start()
    try:
        second_http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{second.http_port}", timeout=30)
        clients = [harness.fake.client(5400 + n, f"C{n}") for n in range(12)]

        async def close(n: int) -> None:
            http = harness.http if n % 2 else second_http
            body = ticket(f"M-{n}", {"id": f"c-m{n}", "telegram_user_id": 5400 + n})
            answer = await http.post(
                "/api/v1/tickets/closed",
                json=body,
                headers={"Authorization": f"Bearer {API_TOKEN}"},
            )
            assert answer.status_code == 202

        await asyncio.gather(*(close(n) for n in range(12)))
        for client in clients:
            await client.wait_for_bot_message(lambda m: "recommend" in m.content)
        await harness.settle()  # both instances swept and drained: nothing more to send
        await harness.settle(second)
        sent = Counter(call.params.get("chat_id") for call in harness.fake.calls_of("sendMessage"))
        for client in clients:
            assert sent[client.chat_id] == 1, sent

        # Both instances run the weekly job at once: one digest.
        assert harness.bot is not None
        when = harness.clock()
        results = await asyncio.gather(
            harness.bot.services.digest.post(as_of=when), second.services.digest.post(as_of=when)
        )
        outcomes = sorted(result.outcome.value for result in results)
        assert outcomes == ["already_posted", "queued"]
        await second_http.aclose()
    finally:
        await second.stop()


@on_both_databases  # the polling lock is an advisory lock on PostgreSQL, a file lock on SQLite
async def test_a_second_polling_instance_refuses_to_start(harness: Harness) -> None:
    second = harness.new_bot()
    with pytest.raises(AlreadyRunningError, match="already polling"):
        await second.start()
    await second.stop()
    # The first keeps working.
    client = harness.fake.client(5501, "Anna")
    await harness.close_ticket(ticket("P-1", {"id": "c-p1", "telegram_user_id": 5501}))
    await client.wait_for_bot_message(lambda m: "recommend" in m.content)


async def test_stopping_finishes_the_update_in_hand_before_it_goes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy stops the instance mid-update: the update is handled and answered 200 first."""
    await webhook_mode(harness)
    assert harness.bot is not None
    client = harness.fake.client(5501, "Anna")
    closed = await harness.close_ticket(ticket("W-9", {"id": "c-w9", "telegram_user_id": 5501}))
    survey_id = closed.json()["survey_id"]
    question = await client.wait_for_bot_message(lambda m: "recommend" in m.content)

    entered, release = asyncio.Event(), asyncio.Event()
    answers = type(harness.bot.services.answers)
    record = answers.record_score

    async def slow(self: object, **kwargs: object) -> str:
        entered.set()
        await release.wait()
        return await record(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(answers, "record_score", slow)
    secret = derive_webhook_secret(harness.settings.require_token())
    update = {
        "update_id": 777,
        "callback_query": {
            "id": "9",
            "from": {"id": 5501, "is_bot": False, "first_name": "Anna"},
            "chat_instance": "1",
            "message": {
                "message_id": question.message_id,
                "date": 1_700_000_000,
                "chat": {"id": 5501, "type": "private"},
            },
            "data": f"nps:{survey_id}:9",
        },
    }
    posting = asyncio.create_task(
        harness.http.post("/tg/updates", json=update, headers={SECRET_HEADER: secret})
    )
    await asyncio.wait_for(entered.wait(), timeout=5)
    stopping = asyncio.create_task(harness.bot.stop())
    await asyncio.sleep(0.3)
    assert not stopping.done()  # it waits for the update in hand
    release.set()
    answer = await asyncio.wait_for(posting, timeout=10)
    await asyncio.wait_for(stopping, timeout=30)
    assert answer.status_code == 200
    harness.bot = None  # stopped already: the fixture need not stop it again
    await harness.http.aclose()
    await harness.start()
    assert harness.bot is not None
    async with harness.bot.services.session_factory() as session:
        stored = await session.get(Survey, survey_id)
    assert stored is not None and stored.score == 9

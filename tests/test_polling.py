"""Polling confirms an update only once it is handled, and orders each chat's updates.

The real PTB Application long-polls the fake Bot API; handlers here stand in for the bot's
(they block, or record the order they ran in).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.polling import ReliablePoller
from bot.sandbox import FakeBotApi

ALLOWED = [Update.MESSAGE, Update.CALLBACK_QUERY]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


def application(fake: FakeBotApi) -> Application:  # type: ignore[type-arg]
    return ApplicationBuilder().token(fake.token).base_url(fake.base_url).updater(None).build()


def poller(app: Application) -> ReliablePoller:  # type: ignore[type-arg]
    errors: list[TelegramError] = []
    return ReliablePoller(app, allowed_updates=ALLOWED, on_error=errors.append, long_poll_seconds=1)


async def test_an_update_is_confirmed_only_after_its_handler_finished(fake: FakeBotApi) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[int] = []

    async def slow(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        entered.set()
        await release.wait()

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, slow))
    polling = poller(app)
    async with app:
        await polling.start()
        await fake.client(501, "Anna").send_text("9, and the courier was rude")
        await asyncio.wait_for(entered.wait(), timeout=5)
        await asyncio.sleep(0.3)  # time for a careless poller to ask past it
        assert len(fake.pending_updates()) == 1  # still Telegram's: not confirmed yet
        release.set()
        await fake.wait_for_call(
            lambda call: call.method == "getUpdates" and call.params.get("offset") == seen[0] + 1
        )
        await polling.stop()
    assert fake.pending_updates() == []


async def test_a_process_that_dies_mid_update_gets_it_again(fake: FakeBotApi) -> None:
    entered = asyncio.Event()
    first: list[int] = []

    async def dies(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        first.append(update.update_id)
        entered.set()
        await asyncio.Event().wait()  # never finishes: the process is killed here

    crashed = application(fake)
    crashed.add_handler(MessageHandler(filters.TEXT, dies))
    polling = poller(crashed)
    async with crashed:
        await polling.start()
        await fake.client(502, "Boris").send_text("Nobody answered")
        await asyncio.wait_for(entered.wait(), timeout=5)
        assert polling._task is not None
        polling._task.cancel()  # kill -9: no stop(), no confirmation

    again: list[int] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        again.append(update.update_id)

    restarted = application(fake)
    restarted.add_handler(MessageHandler(filters.TEXT, record))
    polling = poller(restarted)
    async with restarted:
        await polling.start()
        for _ in range(100):
            if again:
                break
            await asyncio.sleep(0.05)
        await polling.stop()
    assert again == first  # the same update, handled after the restart


async def test_each_persons_updates_run_in_order_and_people_side_by_side(
    fake: FakeBotApi,
) -> None:
    order: list[tuple[int, str]] = []
    running = 0
    most_at_once = 0

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        assert update.effective_chat is not None and update.effective_message is not None
        slow = update.effective_message.text == "in the group first"  # would be overtaken
        await asyncio.sleep(0.3 if slow else 0.05)
        order.append((update.effective_chat.id, update.effective_message.text or ""))
        running -= 1

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    clients = [fake.client(600 + n, f"Client {n}") for n in range(5)]
    group = -100777
    fake.add_group(group, "Managers")
    manager = fake.client(700, "Olga")
    await manager.send_text("in the group first", chat_id=group)  # e.g. a press under an alert
    await manager.send_text("then in private")  # ... then the reply it asked for
    for client in clients:  # queued before polling starts: one batch
        for step in range(3):
            await client.send_text(f"{client.user_id}-{step}")
    async with app:
        await polling.start()
        for _ in range(200):
            if len(order) == 17:
                break
            await asyncio.sleep(0.05)
        await polling.stop()
    for client in clients:
        texts = [text for chat, text in order if chat == client.user_id]
        assert texts == [f"{client.user_id}-{step}" for step in range(3)]
    assert [text for _chat, text in order if "then" in text or "first" in text] == [
        "in the group first",
        "then in private",
    ]  # one person's updates in order, even across chats
    assert most_at_once > 1  # people were handled side by side

"""Simulated users produce updates that PTB's ``getUpdates`` and ``Update.de_json`` accept."""

from __future__ import annotations

import asyncio
import datetime as dtm

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Conflict

from bot.sandbox import FakeBotApi


async def test_send_text_queues_a_command_message(fake: FakeBotApi, bot: telegram.Bot) -> None:
    client = fake.client(42, "Ann", language_code="ru", username="ann")
    written = await client.send_text("/start ticket_123")

    [update] = await bot.get_updates()

    assert update.message is not None
    assert update.message.text == "/start ticket_123"
    assert update.message.message_id == written.message_id
    assert update.message.chat.id == 42
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "ru"
    [entity] = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, len("/start"))
    assert update.message.parse_entities(["bot_command"]) == {entity: "/start"}

    assert await bot.get_updates(offset=update.update_id + 1) == ()
    assert fake.pending_updates() == []
    assert not written.from_bot
    assert fake.messages(42) == [written]


async def test_plain_text_has_no_entities_and_update_ids_increase(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    client = fake.client(1)
    await client.send_text("hello")
    await client.send_text("/help@npsbot_test_bot")
    first, second = await bot.get_updates()
    assert first.message is not None
    assert first.message.entities == ()
    assert second.update_id == first.update_id + 1
    assert second.message is not None
    assert second.message.entities[0].length == len("/help@npsbot_test_bot")
    [last] = await bot.get_updates(offset=-1)
    assert last.update_id == second.update_id


async def test_press_queues_a_callback_query(fake: FakeBotApi, bot: telegram.Bot) -> None:
    client = fake.client(42, "Ann")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("10", callback_data="nps:10")]])
    await bot.send_message(42, "How likely?", reply_markup=markup)
    [message] = fake.bot_messages(42)

    query_id = await client.press_button(message, "10")
    forged_id = await client.press(message, "nps:999")

    real, forged = await bot.get_updates()
    assert real.callback_query is not None
    assert real.callback_query.id == query_id
    assert real.callback_query.data == "nps:10"
    assert real.callback_query.from_user.id == 42
    assert real.callback_query.chat_instance
    assert isinstance(real.callback_query.message, telegram.Message)
    assert real.callback_query.message.reply_markup == markup
    assert real.callback_query.message.text == "How likely?"
    assert forged.callback_query is not None
    assert (forged.callback_query.id, forged.callback_query.data) == (forged_id, "nps:999")
    with pytest.raises(LookupError, match="no inline button '11'"):
        await client.press_button(message, "11")


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    client = fake.client(42)
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_long_poll()
    await client.send_text("hi")
    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["hi"]


async def test_long_poll_times_out_empty(fake: FakeBotApi, bot: telegram.Bot) -> None:
    assert await bot.get_updates(timeout=dtm.timedelta(milliseconds=200)) == ()
    assert fake.calls_of("getUpdates")[-1].params["timeout"] == 0.2


async def test_newer_poll_terminates_older_one(fake: FakeBotApi, bot: telegram.Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_long_poll()
    async with telegram.Bot(fake.token, base_url=fake.base_url) as second_instance:
        assert await second_instance.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, 5)


async def test_abandoned_poll_is_logged_as_client_gone(fake: FakeBotApi, bot: telegram.Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for_long_poll()
    poll.cancel()
    call = await fake.wait_for_call(lambda c: c.method == "getUpdates", timeout=5)
    assert call.status == 499
    assert await bot.get_updates() == ()
    assert [c.status for c in fake.calls_of("getUpdates")] == [499, 200]


async def test_blocking_queues_my_chat_member_and_writing_unblocks(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    client = fake.client(42)
    client.block()
    await client.send_text("/start")
    blocked, unblocked, message = await bot.get_updates()
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"
    assert isinstance(blocked.my_chat_member.new_chat_member, telegram.ChatMemberBanned)
    assert unblocked.my_chat_member is not None
    assert unblocked.my_chat_member.new_chat_member.status == "member"
    assert message.message is not None
    await bot.send_message(42, "welcome back")


async def test_group_messages_and_forged_updates(fake: FakeBotApi, bot: telegram.Bot) -> None:
    fake.add_group(-1001234567890, "Support managers")
    manager = fake.client(7, "Max")
    await manager.send_text("/report@npsbot_test_bot", chat_id=-1001234567890)
    forged = {"message_id": 99, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "x"}
    update_id = fake.queue_update("message", forged)
    updates = await bot.get_updates()
    assert updates[0].message is not None
    assert updates[0].message.chat.type == "supergroup"
    assert updates[0].message.chat.title == "Support managers"
    assert updates[1].update_id == update_id
    assert updates[1].message is not None
    assert updates[1].message.text == "x"
    with pytest.raises(LookupError, match="unknown to the fake"):
        await manager.send_text("hi", chat_id=-5)


async def test_wait_for_sees_edits_and_explains_timeouts(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    client = fake.client(42)
    sent = await bot.send_message(42, "Processing")

    async def edit_later() -> None:
        await asyncio.sleep(0)
        await bot.edit_message_text("Done", chat_id=42, message_id=sent.message_id)

    editor = asyncio.create_task(edit_later())
    done = await client.wait_for_bot_message(lambda m: m.text == "Done", timeout=5)
    await editor
    assert done.edits == 1
    with pytest.raises(TimeoutError, match=r"#1 bot: 'Done' edits=1"):
        await fake.wait_for(lambda m: m.text == "never", chat_id=42, timeout=0.05)

    await bot.send_message(42, "Done")
    later = await fake.wait_for(
        lambda m: m.text == "Done", chat_id=42, after_message_id=done.message_id
    )
    assert later.message_id == done.message_id + 1
    edit_call = await fake.wait_for_call(lambda c: c.method == "editMessageText")
    assert edit_call.params == {"chat_id": 42, "message_id": 1, "text": "Done"}


def test_world_json_deserializes_with_ptb(fake: FakeBotApi) -> None:
    """Every update the world builds must survive ``Update.de_json``."""
    ptb = telegram.Bot(fake.token)
    client = fake.client(3, "Eve", username="eve")
    world = fake.world
    reply = world.user_sends(3, 3, "first")
    world.user_sends(3, 3, "second", reply_to_message_id=reply.message_id)
    stored = world.add_message(3, from_bot=True, text="menu", reply_markup=None)
    world.press(client.user_id, stored, "data")
    fake.add_group(-1002000, "News", chat_type="channel")
    post = world.message_json(world.add_message(-1002000, from_bot=True, text="Weekly NPS: 42"))
    channel_post = telegram.Message.de_json(post, ptb)
    assert channel_post.sender_chat is not None
    assert channel_post.sender_chat.type == "channel"
    for raw in world.pending_updates():
        update = Update.de_json(raw, ptb)
        assert update is not None
        assert update.update_id == raw["update_id"]
    second = Update.de_json(world.pending_updates()[1], ptb)
    assert second is not None
    assert second.message is not None
    assert second.message.reply_to_message is not None
    assert second.message.reply_to_message.text == "first"

"""getChat, getChatMember and getWebhookInfo as Telegram answers them, through a real PTB Bot.

``npsbot doctor`` relies on these answers to tell whether the bot can post where it is told to.
"""

from __future__ import annotations

import datetime as dtm

import pytest
import telegram
from telegram import ChatMemberAdministrator, ChatMemberLeft, ChatMemberMember
from telegram.error import BadRequest, Forbidden

from bot.sandbox import FakeBotApi

GROUP = -1001000000001
CHANNEL = -1001000000002


async def test_the_bot_is_a_member_of_a_group_and_an_admin_of_a_channel(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    fake.add_group(GROUP, "Managers")
    fake.add_group(CHANNEL, "Digest", chat_type="channel")

    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.title) == (GROUP, "supergroup", "Managers")
    member = await bot.get_chat_member(GROUP, fake.bot_id)
    assert isinstance(member, ChatMemberMember)
    assert member.user.id == fake.bot_id and member.user.is_bot

    admin = await bot.get_chat_member(CHANNEL, fake.bot_id)
    assert isinstance(admin, ChatMemberAdministrator)
    assert admin.can_post_messages is True
    assert admin.can_pin_messages is None  # a channel right set is reported, not a group's


async def test_a_channel_admin_without_post_rights_cannot_post(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    fake.add_group(CHANNEL, "Digest", chat_type="channel")
    fake.set_bot_rights(CHANNEL, admin=True, can_post_messages=False)
    admin = await bot.get_chat_member(CHANNEL, fake.bot_id)
    assert isinstance(admin, ChatMemberAdministrator) and admin.can_post_messages is False
    with pytest.raises(BadRequest, match="Need administrator rights"):
        await bot.send_message(CHANNEL, "digest")
    fake.set_bot_rights(CHANNEL, admin=True)
    await bot.send_message(CHANNEL, "digest")

    fake.add_group(GROUP, "Managers")
    fake.set_bot_rights(GROUP, admin=True)
    group_admin = await bot.get_chat_member(GROUP, fake.bot_id)
    assert isinstance(group_admin, ChatMemberAdministrator)
    assert group_admin.can_pin_messages is True and group_admin.can_post_messages is None


async def test_a_chat_the_bot_is_not_in_is_refused(fake: FakeBotApi, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(GROUP)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat_member(GROUP, fake.bot_id)
    fake.add_group(GROUP, "Managers")
    fake.kick_bot(GROUP)
    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.get_chat(GROUP)
    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.get_chat_member(GROUP, fake.bot_id)


async def test_users_are_members_once_seen_or_added(fake: FakeBotApi, bot: telegram.Bot) -> None:
    fake.add_group(GROUP, "Managers")
    writer, silent = fake.client(7001, "Olga"), fake.client(7002, "Petr")
    await writer.send_text("/alerts", chat_id=GROUP)
    assert isinstance(await bot.get_chat_member(GROUP, writer.user_id), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(GROUP, silent.user_id), ChatMemberLeft)
    fake.add_member(GROUP, silent.user_id)
    assert isinstance(await bot.get_chat_member(GROUP, silent.user_id), ChatMemberMember)
    fake.add_member(GROUP, silent.user_id, "kicked")
    banned = await bot.get_chat_member(GROUP, silent.user_id)
    assert banned.status == "kicked"
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(GROUP, 99999)
    assert isinstance(await bot.get_chat_member(writer.user_id, writer.user_id), ChatMemberMember)


async def test_webhook_info_reports_the_last_delivery_error(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    fake.webhook_failed("Connection refused")  # no webhook: nothing to report
    assert (await bot.get_webhook_info()).last_error_message is None

    await bot.set_webhook("https://bot.example/telegram/webhook")
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example/telegram/webhook"
    assert info.last_error_message is None and info.last_error_date is None
    fake.webhook_failed("Wrong response from the webhook: 502 Bad Gateway")
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    assert isinstance(info.last_error_date, dtm.datetime)
    await bot.set_webhook("https://bot.example/telegram/webhook")  # Telegram starts afresh
    assert (await bot.get_webhook_info()).last_error_message is None


async def test_failed_webhook_deliveries_are_reported(fake: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.set_webhook("https://bot.example/hook")
    fake.deliver_webhooks_to("http://127.0.0.1:9")  # nothing listens on the discard port
    await fake.client(42).send_text("/start")
    assert await fake.wait_for_webhook_error() == "Connection refused"
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Connection refused"
    assert info.pending_update_count == 1

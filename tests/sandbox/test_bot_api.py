"""The fake answered through a real ``telegram.Bot``: results and errors as PTB sees them."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import Callable

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter

from bot.sandbox import FakeBotApi, FloodLimits


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"cb:{label}") for label in labels]]
    )


async def test_get_me_describes_the_configured_bot(fake: FakeBotApi, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.id == fake.bot_id
    assert me.username == fake.bot_username
    assert me.is_bot
    assert me.can_join_groups
    assert bot.username == fake.bot_username


async def test_send_message_returns_a_telegram_message(fake: FakeBotApi, bot: telegram.Bot) -> None:
    fake.client(42, "Ann")
    sent = await bot.send_message(
        42, "<b>Rate us</b>", parse_mode="HTML", reply_markup=keyboard("9")
    )
    assert sent.message_id == 1
    assert sent.chat.id == 42
    assert sent.chat.type == "private"
    assert sent.from_user is not None
    assert sent.from_user.id == fake.bot_id
    assert sent.text == "<b>Rate us</b>"
    assert sent.reply_markup == keyboard("9")

    [stored] = fake.messages(42)
    assert stored.from_bot
    assert stored.parse_mode == "HTML"
    assert stored.reply_markup == {"inline_keyboard": [[{"text": "9", "callback_data": "cb:9"}]]}
    assert stored.button_texts() == ["9"]
    assert stored.callback_data("9") == "cb:9"


async def test_reply_keyboards_are_recorded_but_not_attached(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    fake.client(42)
    sent = await bot.send_message(42, "Pick", reply_markup=ReplyKeyboardMarkup([["A", "B"]]))
    assert sent.reply_markup is None
    [stored] = fake.messages(42)
    assert stored.reply_markup is None
    assert stored.reply_keyboard is not None
    assert stored.reply_keyboard["keyboard"] == [[{"text": "A"}, {"text": "B"}]]


async def test_edit_text_without_markup_removes_the_keyboard(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    fake.client(42)
    sent = await bot.send_message(42, "How likely...?", reply_markup=keyboard("0", "10"))
    snapshot = fake.messages(42)[0]

    edited = await bot.edit_message_text("Thanks!", chat_id=42, message_id=sent.message_id)

    assert isinstance(edited, telegram.Message)
    assert edited.text == "Thanks!"
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    [stored] = fake.messages(42)
    assert (stored.text, stored.reply_markup, stored.edits) == ("Thanks!", None, 1)
    assert snapshot.reply_markup is not None, "handed-out messages are snapshots"


async def test_edit_with_same_content_is_not_modified(fake: FakeBotApi, bot: telegram.Bot) -> None:
    fake.client(42)
    sent = await bot.send_message(42, "Same", reply_markup=keyboard("x"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Same", chat_id=42, message_id=sent.message_id, reply_markup=keyboard("x")
        )
    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard("y"))
    assert fake.messages(42)[0].button_texts() == ["y"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard("y"))


async def test_edit_and_delete_unknown_messages(fake: FakeBotApi, bot: telegram.Bot) -> None:
    client = fake.client(42)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=99)
    mine = await client.send_text("hello")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", chat_id=42, message_id=mine.message_id)
    sent = await bot.send_message(42, "bye")
    assert await bot.delete_message(42, sent.message_id)
    assert [m.text for m in fake.messages(42)] == ["hello"]
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(42, sent.message_id)


async def test_answer_callback_query_is_recorded_once(fake: FakeBotApi, bot: telegram.Bot) -> None:
    client = fake.client(42)
    await bot.send_message(42, "Rate", reply_markup=keyboard("10"))
    query_id = await client.press_button(fake.messages(42)[0], "10")
    assert fake.callback_answer(query_id) is None

    assert await bot.answer_callback_query(query_id, text="Thanks", show_alert=True)

    assert fake.callback_answer(query_id) == {
        "text": "Thanks",
        "show_alert": True,
        "url": None,
        "cache_time": 0,
    }
    assert client.callback_answers == {query_id: fake.callback_answer(query_id)}
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="query id is invalid"):
        await bot.answer_callback_query("123")


async def test_send_document_records_name_and_bytes(fake: FakeBotApi, bot: telegram.Bot) -> None:
    fake.client(42)
    content = b"date,nps\r\n2024-01-01,42\r\n"
    sent = await bot.send_document(42, content, filename="nps.csv", caption="Weekly report")
    assert sent.document is not None
    assert sent.document.file_name == "nps.csv"
    assert sent.document.file_size == len(content)
    assert sent.caption == "Weekly report"
    [stored] = fake.bot_messages(42)
    assert (stored.document_name, stored.file_bytes, stored.text) == ("nps.csv", content, None)
    assert stored.content == "Weekly report"

    again = await bot.send_document(42, sent.document.file_id)
    assert again.document is not None
    assert again.document.file_name == "nps.csv"


async def test_send_photo_returns_sizes(
    fake: FakeBotApi, bot: telegram.Bot, make_png: Callable[[int, int], bytes]
) -> None:
    fake.client(42)
    sent = await bot.send_photo(42, make_png(1000, 500), caption="NPS trend")
    assert sent.photo
    largest = sent.photo[-1]
    assert (largest.width, largest.height) == (1000, 500)
    assert [size.width for size in sent.photo] == [90, 320, 800, 1000]
    [stored] = fake.messages(42)
    assert stored.has_photo
    assert stored.caption == "NPS trend"

    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(42, b"not an image")


async def test_unknown_chat_blocked_user_and_kicked_group(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hi")
    fake.client(42)
    fake.block(42)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hi")
    fake.add_group(-1001, "Managers")
    await bot.send_message(-1001, "Detractor alert")
    fake.kick_bot(-1001)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(-1001, "again")
    assert [c.status for c in fake.calls_of("sendMessage")] == [400, 403, 200, 403]


async def test_parse_errors_and_invalid_buttons_are_rejected(
    fake: FakeBotApi, bot: telegram.Bot
) -> None:
    fake.client(42)
    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag"):
        await bot.send_message(42, "Comment: 5 < 7", parse_mode="HTML")
    with pytest.raises(BadRequest, match="reserved and must be escaped"):
        await bot.send_message(42, "Score 9.", parse_mode="MarkdownV2")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(42, "hi", reply_markup=too_long)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(42, "x" * 4097)
    assert fake.messages(42) == []


async def test_commands_chat_info_and_chat_actions(fake: FakeBotApi, bot: telegram.Bot) -> None:
    fake.client(42, "Ann", username="ann")
    await bot.set_my_commands([("start", "Start"), ("report", "NPS report")])
    await bot.set_my_commands([("start", "Начать")], language_code="ru")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "report"]
    assert fake.my_commands(language_code="ru") == [{"command": "start", "description": "Начать"}]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Start!", "bad")])
    await bot.delete_my_commands()
    assert fake.my_commands() == []

    chat = await bot.get_chat(42)
    assert (chat.id, chat.type, chat.first_name, chat.username) == (42, "private", "Ann", "ann")
    assert await bot.send_chat_action(42, "typing")
    assert fake.chat_actions(42) == ["typing"]


async def test_webhook_blocks_polling_until_deleted(fake: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.set_webhook("https://example.com/hook")
    assert fake.webhook_url == "https://example.com/hook"
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert fake.webhook_url is None
    assert await bot.get_updates() == ()


async def test_fail_next_injects_faults(fake: FakeBotApi, bot: telegram.Bot) -> None:
    fake.client(42)
    fake.fail_next("sendMessage", times=2)
    fake.fail_next("sendmessage", retry_after=3)
    fake.fail_next("sendMessage", status=400, description="Bad Request: injected")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(42, "x")
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(42, "x")
    assert retry.value.retry_after == dtm.timedelta(seconds=3)
    with pytest.raises(BadRequest, match="Injected"):
        await bot.send_message(42, "x")
    await bot.send_message(42, "finally")
    assert [c.status for c in fake.calls_of("sendMessage")] == [500, 500, 429, 400, 200]
    assert [m.text for m in fake.messages(42)] == ["finally"]


async def test_private_flood_limit_gives_retry_after_and_recovers() -> None:
    async with FakeBotApi(limits=FloodLimits(private_per_second=2)) as fake:
        fake.client(42)
        async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.send_message(42, "1")
            await bot.edit_message_text("1 edited", chat_id=42, message_id=1)
            with pytest.raises(RetryAfter) as retry:
                await bot.send_message(42, "2")
            assert retry.value.retry_after == dtm.timedelta(seconds=1)
            await bot.send_chat_action(42, "typing")  # not counted

            assert isinstance(retry.value.retry_after, dtm.timedelta)
            await asyncio.sleep(retry.value.retry_after.total_seconds())
            await bot.send_message(42, "2")
            await bot.send_message(42, "3")
    assert [c.status for c in fake.calls_of("sendMessage")] == [200, 429, 200, 200]
    assert [m.text for m in fake.messages(42)] == ["1 edited", "2", "3"]


async def test_group_flood_limit_reports_the_minute_window() -> None:
    async with FakeBotApi(limits=FloodLimits(group_per_minute=2)) as fake:
        fake.add_group(-5, "Managers")
        async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.send_message(-5, "a")
            await bot.send_message(-5, "b")
            with pytest.raises(RetryAfter) as retry:
                await bot.send_message(-5, "c")
    seconds = retry.value.retry_after
    assert isinstance(seconds, dtm.timedelta)
    assert dtm.timedelta(seconds=50) <= seconds <= dtm.timedelta(seconds=60)
    [rejected] = [c for c in fake.calls if c.status == 429]
    assert rejected.description == f"Too Many Requests: retry after {seconds.seconds}"


async def test_raw_http_envelopes(fake: FakeBotApi) -> None:
    fake.client(42)
    async with httpx.AsyncClient(base_url=fake.url) as http:
        ok = await http.post(f"/bot{fake.token}/sendMessage", json={"chat_id": 42, "text": "hi"})
        empty = await http.post(f"/bot{fake.token}/sendMessage", data={"chat_id": "42"})
        unknown = await http.post(f"/bot{fake.token}/sendTelepathy")
        wrong_token = await http.get("/bot1:WRONG/getMe")
        get_me = await http.get(f"/bot{fake.token}/getme")
    assert ok.json()["ok"] is True
    assert ok.json()["result"]["text"] == "hi"
    assert (empty.status_code, empty.json()) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
    )
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert wrong_token.status_code == 401
    assert wrong_token.json()["error_code"] == 401
    assert get_me.json()["result"]["username"] == fake.bot_username
    assert [c.method for c in fake.calls] == [
        "sendMessage",
        "sendMessage",
        "sendTelepathy",
        "getMe",
        "getMe",
    ]
    assert fake.calls[0].params == {"chat_id": 42, "text": "hi"}


async def test_a_crash_inside_the_fake_is_a_logged_telegram_500(
    fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fake.world, "bot", None)
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{fake.base_url}{fake.token}/getMe")
    assert answer.status_code == 500
    assert answer.json()["ok"] is False
    assert fake.calls[-1].status == 500
    assert "fake Bot API failed on getMe" in caplog.text

"""A real PTB ``Application`` polling the fake: the end-to-end path the bot's tests use."""

from __future__ import annotations

import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox import FakeBotApi, FloodLimits


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    payload = " ".join(context.args or [])
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("10", callback_data="nps:10")]])
    await context.bot.send_message(
        update.effective_chat.id, f"Hello! payload={payload}", reply_markup=keyboard
    )


async def rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Saved")
    await query.edit_message_text(f"You chose {query.data}")


async def test_application_polls_the_fake() -> None:
    limits = FloodLimits(private_per_second=5)
    async with FakeBotApi(limits=limits) as fake:
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(rate))
        client = fake.client(42, "Ann")
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                await client.send_text("/start ticket_17")
                greeting = await client.wait_for_bot_message(
                    lambda m: m.text == "Hello! payload=ticket_17"
                )
                query_id = await client.press_button(greeting, "10")
                assert await client.wait_for_callback_answer(query_id) == {
                    "text": "Saved",
                    "show_alert": False,
                    "url": None,
                    "cache_time": 0,
                }
                edited = await client.wait_for_bot_message(lambda m: m.text == "You chose nps:10")
            finally:
                await app.updater.stop()
                await app.stop()
        assert edited.message_id == greeting.message_id
        assert edited.reply_markup is None
        assert fake.pending_updates() == []
        assert len(fake.calls_of("sendMessage")) == 1
        failures = [c for c in fake.calls if not c.ok and c.status != 499]
        assert failures == []
        assert app.bot.username == fake.bot_username
        assert isinstance(app.bot, telegram.Bot)

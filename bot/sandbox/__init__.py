"""A fake Telegram Bot API over real HTTP, for end-to-end tests, demos and benchmarks.

Point PTB at it with ``ApplicationBuilder().token(fake.token).base_url(fake.base_url)`` and
play users with :meth:`FakeBotApi.client`. Flood limits, blocked users, unknown chats and
injected faults answer exactly as Telegram does, so the bot's error handling is exercised
for real::

    async with FakeBotApi() as fake:
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
        ...  # add handlers, start the app and its updater's polling
        client = fake.client(42, "Ann")
        await client.send_text("/start ticket_17")
        survey = await client.wait_for_bot_message(lambda m: "How likely" in m.content)
        query_id = await client.press_button(survey, "10")

PTB 22 warns whenever it builds ``RetryAfter`` unless ``PTB_TIMEDELTA=true`` is set; test
suites that turn warnings into errors should set it (``retry_after`` is then a timedelta).
"""

from bot.sandbox.client import SimulatedClient
from bot.sandbox.errors import ApiError
from bot.sandbox.flood import FloodLimiter, FloodLimits
from bot.sandbox.models import ApiCall, SentMessage, UploadedFile
from bot.sandbox.server import DEFAULT_LIMITS, FakeBotApi

__all__ = [
    "DEFAULT_LIMITS",
    "ApiCall",
    "ApiError",
    "FakeBotApi",
    "FloodLimiter",
    "FloodLimits",
    "SentMessage",
    "SimulatedClient",
    "UploadedFile",
]

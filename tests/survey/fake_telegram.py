"""``tests.survey.helpers``' bench with PTB and the fake Bot API behind the outbox dispatcher, for
the tests whose point is Telegram's own answer.

The bench's stand-in Telegram answers what a test scripts. Here the dispatcher's real sender
(``BotSender``) makes each call over HTTP and the fake Bot API answers as Telegram does: 400
"chat not found" to a user who never started the bot, 403 to a blocked bot or one removed from
a group, and a 400 for a button Telegram would not take. Nothing polls for updates: a test
calls the services as the handlers do, and ``Bench.settle`` returns once Telegram's answers
are recorded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.delivery.telegram import BotSender
from bot.sandbox.flood import FloodLimits
from bot.sandbox.server import FakeBotApi
from tests.survey.helpers import MANAGERS, Bench, open_bench


@asynccontextmanager
async def bench_on_fake_telegram(
    database_url: str, **settings: object
) -> AsyncIterator[tuple[Bench, FakeBotApi]]:
    """A bench (``settings`` over the e2e harness's) sending to a fake Bot API without flood
    limits, in which the bot is a member of the managers' group."""
    async with FakeBotApi(limits=FloodLimits(enabled=False)) as fake:
        fake.add_group(MANAGERS, "NPS alerts")
        on_fake = {"telegram_token": fake.token, "telegram_api_url": fake.base_url}
        async with open_bench(database_url, **(on_fake | settings)) as bench:
            bot = bench.services.application.bot
            bench.services.dispatcher.sender = BotSender(bot)
            await bot.initialize()
            try:
                yield bench, fake
            finally:
                await bot.shutdown()

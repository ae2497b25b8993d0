"""End-to-end harness: the real NpsBot (PTB polling, uvicorn, JobQueue, outbox) against the
fake Bot API over HTTP.

Two defaults keep these tests computing instead of waiting, and each has an explicit way back:

- SQLite only. A flow whose point is locking or concurrency (a crash, two instances, outbox
  claims, a storm of edits) asks for PostgreSQL too with ``@on_both_databases``; storage and
  service tests run on both databases anyway.
- No flood limits, on either side: the product's FloodGate lets every call go at once and the
  fake Bot API answers no 429 of its own. A test about flood limits asks for Telegram's real
  limits on both sides with ``@pytest.mark.flood_limits``. Faults a test injects (``fail_next``,
  ``Chaos``) happen either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.app import NpsBot
from bot.config import Settings
from bot.core.clock import ShiftedClock
from bot.core.ratelimit import FloodGate, Limits
from bot.sandbox.flood import FloodLimits
from bot.sandbox.server import DEFAULT_LIMITS, FakeBotApi
from bot.services import repeating_work
from storage import outbox
from tests.conftest import BACKENDS, empty_database

MANAGERS = -1001234567890
API_TOKEN = "intake-s3cret"

# Far above anything a test sends: the product's gate never holds a call back.
NO_LIMITS = Limits(global_per_second=1e6, private_per_second=1e6, group_per_minute=1e6)
FAKE_WITHOUT_LIMITS = FloodLimits(enabled=False)
SETTLE_BATCHES = 50  # claims per drain in settle(): everything a test queues, at once

# An e2e test that needs PostgreSQL's locking as well as SQLite's (see the module docstring).
on_both_databases = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


@dataclass
class Harness:
    """One running product and the handles a test needs to act as helpdesk, client and manager."""

    fake: FakeBotApi
    settings: Settings
    clock: ShiftedClock
    bot: NpsBot | None = None
    http: httpx.AsyncClient = field(default_factory=httpx.AsyncClient)
    flood_limits: bool = False  # Telegram's real limits in the product's gate (see above)

    def new_bot(self) -> NpsBot:
        """An NpsBot on this harness's settings and clock (one more instance, or the next)."""
        bot = NpsBot(self.settings, clock=self.clock)
        if not self.flood_limits:
            bot.services.dispatcher.gate = FloodGate(NO_LIMITS)
        return bot

    async def start(self) -> NpsBot:
        self.bot = self.new_bot()
        await self.bot.start()
        # 30 s, not httpx's 5: on a loaded 2-core CI machine a request can queue behind a sweep.
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.bot.http_port}", timeout=30)
        return self.bot

    async def stop(self) -> None:
        await self.http.aclose()
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None

    async def restart(self) -> NpsBot:
        await self.stop()
        return await self.start()

    async def close_ticket(self, body: dict[str, object], token: str = API_TOKEN) -> httpx.Response:
        return await self.http.post(
            "/api/v1/tickets/closed", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    async def settle(self, bot: NpsBot | None = None, *, within: float = 30.0) -> None:
        """Run the scheduled work and drain the outbox until nothing is due or in flight.

        What a test then finds missing was certainly not going to be sent now, which a fixed
        sleep could only hope for. Calls held for later (a retry, a survey's delay) stay
        pending; move the clock to make them due. Uses the product's own sweep and dispatcher
        (of ``bot``, by default the harness's), beside the ones its jobs run: every step claims
        its rows, so running them twice at once is safe.
        """
        bot = bot or self.bot
        assert bot is not None
        services = bot.services
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for job in repeating_work(services):  # what the scheduler runs, exactly
                await job.work()
            tried = await services.dispatcher.drain_once(batches=SETTLE_BATCHES)
            async with services.session_factory() as session:
                busy = await outbox.pending_count(session, due_by=self.clock())
            if tried == 0 and busy == 0:
                return
            if loop.time() >= deadline:
                raise AssertionError(f"the outbox still had work after {within} s")
            # A chat held by a flood wait is skipped by the claim: give the wait time to pass.
            await asyncio.sleep(0 if tried else 0.02)


def ticket(ticket_id: str, customer: dict[str, object], **extra: object) -> dict[str, object]:
    """A generic intake body."""
    return {
        "ticket_id": ticket_id,
        "closed_at": "2026-11-18T10:00:00Z",
        "customer": customer,
        "agent": "Ivan Petrov",
        "team": "L2 support",
        "channel": "email",
        **extra,
    }


@pytest.fixture(params=BACKENDS[:1])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: SQLite, unless the test is marked ``@on_both_databases``."""
    return await empty_database(request.param, tmp_path)


@pytest.fixture
async def harness(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Harness]:
    """The product running against a fresh database and a fresh fake Telegram."""
    flood_limits = request.node.get_closest_marker("flood_limits") is not None
    async with FakeBotApi(limits=DEFAULT_LIMITS if flood_limits else FAKE_WITHOUT_LIMITS) as fake:
        fake.add_group(MANAGERS, "NPS alerts")
        settings = Settings(
            telegram_token=fake.token,  # type: ignore[arg-type]
            telegram_api_url=fake.base_url,
            database_url=database_url,
            manager_chat_id=MANAGERS,
            api_token=API_TOKEN,  # type: ignore[arg-type]
            http_port=0,
            sweep_interval_seconds=0.2,
            survey_delay_minutes=0,
            company_name="ACME & Co",
            timezone="Europe/Moscow",
            _env_file=None,  # type: ignore[call-arg]
        )
        clock = ShiftedClock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
        harness = Harness(fake, settings, clock, flood_limits=flood_limits)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()

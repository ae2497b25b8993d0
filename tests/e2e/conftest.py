"""End-to-end harness: the real NpsBot (PTB polling, uvicorn, JobQueue, outbox) against the
fake Bot API over HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from bot.app import NpsBot
from bot.config import Settings
from bot.sandbox.server import FakeBotApi

MANAGERS = -1001234567890
API_TOKEN = "intake-s3cret"


class ShiftedClock:
    """The wall clock moved to a chosen start, so answers land in a known digest week."""

    def __init__(self, start: datetime) -> None:
        self.move_to(start)

    def move_to(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Harness:
    """One running product and the handles a test needs to act as helpdesk, client and manager."""

    fake: FakeBotApi
    settings: Settings
    clock: ShiftedClock
    bot: NpsBot | None = None
    http: httpx.AsyncClient = field(default_factory=httpx.AsyncClient)

    async def start(self) -> NpsBot:
        self.bot = NpsBot(self.settings, clock=self.clock)
        await self.bot.start()
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.bot.http_port}")
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


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[Harness]:
    """The product running against a fresh database and a fresh fake Telegram."""
    async with FakeBotApi() as fake:
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
        harness = Harness(fake, settings, ShiftedClock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC)))
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()

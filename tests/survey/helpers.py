"""The survey services as the running bot wires them, on a real database, with Telegram stood in.

``open_bench`` builds every service with ``build_services`` (the settings the e2e harness uses), and
puts ``StandInTelegram`` behind the outbox dispatcher instead of the Bot API: it gives each
message an id, or the error a test asks for (a blocked client, a flood wait). What the bot
would say is read from the outbox, where every reply is queued before Telegram sees it; what
reached the client is the rows the dispatcher recorded as sent. Nothing listens on a socket and
nothing waits: ``Bench.settle`` runs the scheduler's work and drains the outbox until nothing
is due.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select
from telegram.error import Forbidden

from bot.config import Settings
from bot.core.callback import Press, decode
from bot.core.clock import ShiftedClock
from bot.core.ratelimit import FloodGate, Limits
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.intake.service import IntakeResult
from bot.services import Services, build_services, repeating_work
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage, Survey
from storage.outbox import ClaimedCall, OutboxStatus

MANAGERS = -1001234567890
API_TOKEN = "intake-s3cret"
START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
CLOSED_AT = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # the e2e harness's ticket()
# Far above anything a test sends: the product's gate never holds a call back.
NO_LIMITS = Limits(global_per_second=1e6, private_per_second=1e6, group_per_minute=1e6)
SETTLE_BATCHES = 50


@dataclass
class StandInTelegram:
    """The Bot API behind the dispatcher: each call gets a message id, unless a test scripted
    an error for it (a client who blocked the bot, the next call of a method)."""

    blocked: set[int] = field(default_factory=set)
    _failures: list[tuple[str, Exception]] = field(default_factory=list)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def block(self, user_id: int) -> None:
        """The client blocked the bot: Telegram answers 403 to every call in their chat."""
        self.blocked.add(user_id)

    def fail_next(self, method: str, error: Exception) -> None:
        """The next call of ``method`` fails with ``error`` (a 429, say)."""
        self._failures.append((method, error))

    async def __call__(self, call: ClaimedCall) -> int | None:
        if call.chat_id in self.blocked:
            raise Forbidden("Forbidden: bot was blocked by the user")
        for index, (method, error) in enumerate(self._failures):
            if method == call.method:
                del self._failures[index]
                raise error
        if call.method == "editMessageText":
            return call.message_id
        return next(self._message_ids)


@dataclass
class Bench:
    """The services of one bot, its clock and the stand-in Telegram, with what a test reads."""

    services: Services
    clock: ShiftedClock
    telegram: StandInTelegram

    async def close_ticket(
        self,
        ticket_id: str,
        customer: CustomerInfo,
        *,
        closed_at: datetime = CLOSED_AT,
        channel: str | None = "email",
        tags: tuple[str, ...] = (),
    ) -> IntakeResult:
        """A closing as the e2e harness's ``ticket()`` posts it, handed to the intake."""
        event = TicketClosed(
            ticket_id=ticket_id,
            closed_at=closed_at,
            customer=customer,
            agent="Ivan Petrov",
            team="L2 support",
            channel=channel,
            tags=tags,
        )
        return await self.services.intake.close_ticket(event)

    async def settle(self) -> None:
        """Run the scheduled work and drain the outbox until nothing is due.

        The intake's own kick of the sweep is let finish first. Calls held for later (a retry,
        a survey's delay) stay pending: move the clock to make them due.
        """
        services = self.services
        await services.queue_due_now.aclose()
        while True:
            for job in repeating_work(services):  # what the scheduler runs, exactly
                await job.work()
            if await services.dispatcher.drain_once(batches=SETTLE_BATCHES) == 0:
                return

    async def queued(self, chat_id: int) -> list[OutboxMessage]:
        """Every call queued for the chat, oldest first, whatever became of it."""
        async with self.services.session_factory() as session:
            rows = await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == chat_id)
                .order_by(col(OutboxMessage.id))
            )
            return list(rows.all())

    async def sent(self, chat_id: int) -> list[OutboxMessage]:
        """The calls Telegram took in the chat: what the client has seen."""
        return [row for row in await self.queued(chat_id) if row.status == OutboxStatus.SENT]

    async def said(self, chat_id: int) -> list[str]:
        """The texts that reached the chat, new messages and edits, in order."""
        return [text(row) for row in await self.sent(chat_id)]

    async def survey(self, survey_id: int) -> Survey:
        async with self.services.session_factory() as session:
            found = await session.get(Survey, survey_id)
        assert found is not None
        return found


def text(row: OutboxMessage) -> str:
    """A stored message's text (or caption)."""
    return str(row.payload.get("text") or row.payload.get("caption") or "")


def _keyboard(row: OutboxMessage) -> list[dict[str, Any]]:
    markup = row.payload.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [button for line in rows for button in line]


def buttons(row: OutboxMessage) -> list[str]:
    """The labels of a stored message's keyboard, inline or reply, row after row."""
    return [button["text"] for button in _keyboard(row)]


def press(row: OutboxMessage, label: str) -> Press | None:
    """What pressing the labelled inline button means, decoded as the handler decodes it."""
    (button,) = [button for button in _keyboard(row) if button["text"] == label]
    return decode(button["callback_data"])


@asynccontextmanager
async def open_bench(database_url: str, **settings: object) -> AsyncIterator[Bench]:
    """The services on an empty, migrated database, with the e2e harness's settings (and
    ``settings`` over them), its clock, and Telegram stood in."""
    values: dict[str, object] = {
        "telegram_token": "123456:TEST",
        "database_url": database_url,
        "bot_username": "acme_nps_bot",
        "manager_chat_id": MANAGERS,
        "api_token": API_TOKEN,
        "survey_delay_minutes": 0,
        "company_name": "ACME & Co",
        "timezone": "Europe/Moscow",
        "_env_file": None,
    }
    clock = ShiftedClock(START)
    services = build_services(Settings(**(values | settings)), clock=clock)  # type: ignore[arg-type]
    telegram = StandInTelegram()
    services.dispatcher.sender = telegram
    services.dispatcher.gate = FloodGate(NO_LIMITS)
    try:
        await upgrade_to_head(services.engine)
        yield Bench(services, clock, telegram)
    finally:
        await services.close()

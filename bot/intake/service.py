"""Recording closed and reopened tickets: shared by every intake endpoint and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import deeplink
from bot.core.deeplink import LinkKind
from bot.core.rules import SurveyRules
from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.delivery.dispatcher import Clock
from bot.phones import normalize_phone
from storage import tickets
from storage.db import SessionFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The intake's answer: which survey, where it stands, and the link for the closing message."""

    survey_id: int
    ticket_id: str
    status: SurveyStatus
    created: bool
    deep_link: str
    skip_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectLink:
    """A customer's "connect Telegram" link and until when it works."""

    deep_link: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TicketIntake:
    """Stores helpdesk events once and lets the sweep know there may be work."""

    session_factory: SessionFactory
    rules: SurveyRules
    link_secret: bytes
    link_ttl: timedelta
    bot_username: Callable[[], str]
    clock: Clock
    phone_region: str | None = None
    after_record: Callable[[], Awaitable[object]] | None = None

    def _link(self, kind: LinkKind, target_id: int) -> tuple[str, datetime]:
        expires_at = self.clock() + self.link_ttl
        payload = deeplink.make_payload(self.link_secret, kind, target_id, expires_at)
        return deeplink.deep_link(self.bot_username(), payload), expires_at

    async def close_ticket(self, event: TicketClosed) -> IntakeResult:
        """Record a closing (idempotent) and return its survey with a deep link for the client."""
        async with self.session_factory() as session:
            record = await tickets.record_ticket_closed(
                session,
                event=event,
                due_at=self.rules.due_at(event.closed_at),
                now=self.clock(),
                phone=normalize_phone(event.customer.phone, region=self.phone_region),
                skip_reason=self.rules.skip_reason(event),
            )
        due_now = self.rules.due_at(event.closed_at) <= self.clock()
        if record.created and due_now and self.after_record is not None:
            try:
                await self.after_record()  # send at once rather than at the next sweep
            except Exception:  # the survey is stored; the sweep will send it
                logger.exception("sending a due survey right after intake failed; the sweep will")
        link, _expires = self._link(LinkKind.SURVEY, record.survey_id)
        return IntakeResult(
            survey_id=record.survey_id,
            ticket_id=record.ticket_id,
            status=record.status,
            created=record.created,
            deep_link=link,
            skip_reason=record.skip_reason,
        )

    async def reopen_ticket(self, ticket_id: str) -> int:
        """The ticket was reopened or updated: cancel its surveys that have not gone out."""
        async with self.session_factory() as session:
            return await tickets.cancel_unsent(session, ticket_id=ticket_id, now=self.clock())

    async def connect_link(self, customer: CustomerInfo) -> ConnectLink:
        """A "connect Telegram" link for a customer, recorded (or updated) on the way."""
        async with self.session_factory() as session:
            phone = normalize_phone(customer.phone, region=self.phone_region)
            stored = await tickets.upsert_customer(session, customer, phone=phone, now=self.clock())
            await session.commit()
        assert stored.id is not None  # noqa: S101  (committed)
        link, expires_at = self._link(LinkKind.CUSTOMER, stored.id)
        return ConnectLink(deep_link=link, expires_at=expires_at)

"""Recording closed and reopened tickets: shared by every intake endpoint and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.batching import GroupCommit
from bot.core import deeplink
from bot.core.clock import Clock
from bot.core.deeplink import LinkKind
from bot.core.rules import SurveyRules
from bot.core.survey import SurveyStatus
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.phones import normalize_phone
from storage import tickets
from storage.db import SessionFactory
from storage.tickets import Closing, SurveyRecord

logger = logging.getLogger(__name__)

# Told ``(source, outcome)`` of each event once it is stored (the metrics): a plain call, as the
# intake takes thousands of closings a second.
TicketObserver = Callable[[str, str], None]
GENERIC_SOURCE = "api"  # POST /api/v1/tickets/*; a helpdesk's webhook names its helpdesk


def _outcome(record: SurveyRecord) -> str:
    if not record.created:
        return "duplicate"
    return "skipped" if record.status is SurveyStatus.SKIPPED else "created"


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


@dataclass(slots=True)
class TicketIntake:
    """Stores helpdesk events once and lets the sweep know there may be work.

    Closings that arrive together are written together (``GroupCommit``): the HTTP intake
    takes bursts of webhooks at the cost of a few statements per burst, not per webhook.
    """

    session_factory: SessionFactory
    rules: SurveyRules
    link_secret: bytes
    link_ttl: timedelta
    bot_username: Callable[[], str]
    clock: Clock
    phone_region: str | None = None
    # Told (never awaited) when a closing created a survey that is due at once.
    due_now: Callable[[], None] | None = None
    max_batch: int = 200
    # Writes in flight at once: PostgreSQL works on one batch while the next is prepared.
    # SQLite takes one writer at a time anyway, so more would only wait on its file lock.
    writers: int = 4
    observer: TicketObserver | None = None
    _closings: GroupCommit[Closing, SurveyRecord] = field(init=False)

    def __post_init__(self) -> None:
        self._closings = GroupCommit(
            self._write_closings, max_batch=self.max_batch, writers=self.writers
        )

    async def _write_closings(self, closings: Sequence[Closing]) -> list[SurveyRecord]:
        async with self.session_factory() as session:
            return await tickets.record_closings(session, closings, now=self.clock())

    def _link(self, kind: LinkKind, target_id: int) -> tuple[str, datetime]:
        expires_at = self.clock() + self.link_ttl
        payload = deeplink.make_payload(self.link_secret, kind, target_id, expires_at)
        return deeplink.deep_link(self.bot_username(), payload), expires_at

    async def close_ticket(
        self, event: TicketClosed, *, source: str = GENERIC_SOURCE
    ) -> IntakeResult:
        """Record a closing (idempotent) and return its survey with a deep link for the client.

        ``source`` says where it came from (``api``, ``cli``, a helpdesk), for the metrics only.
        """
        due_at = self.rules.due_at(event.closed_at)
        record = await self._closings.submit(
            Closing(
                event=event,
                due_at=due_at,
                phone=normalize_phone(event.customer.phone, region=self.phone_region),
                skip_reason=self.rules.skip_reason(event),
            )
        )
        if self.observer is not None:
            self.observer(source, _outcome(record))
        pending = record.created and record.status is SurveyStatus.PENDING
        if pending and record.reachable and due_at <= self.clock() and self.due_now:
            self.due_now()  # send at once rather than at the next sweep
        link, _expires = self._link(LinkKind.SURVEY, record.survey_id)
        return IntakeResult(
            survey_id=record.survey_id,
            ticket_id=record.ticket_id,
            status=record.status,
            created=record.created,
            deep_link=link,
            skip_reason=record.skip_reason,
        )

    async def aclose(self) -> None:
        """Finish the writes in flight, so a request accepted before shutdown is stored."""
        await self._closings.aclose()

    async def reopen_ticket(self, ticket_id: str, *, source: str = GENERIC_SOURCE) -> int:
        """The ticket was reopened or updated: cancel its surveys that have not gone out."""
        async with self.session_factory() as session:
            cancelled = await tickets.cancel_unsent(session, ticket_id=ticket_id, now=self.clock())
        if self.observer is not None:
            self.observer(source, "cancelled" if cancelled else "reopened")
        return cancelled

    def ignored(self, source: str) -> None:
        """A helpdesk sent an event that changes nothing (counted, so a wrong trigger shows)."""
        if self.observer is not None:
            self.observer(source, "ignored")

    async def connect_link(self, customer: CustomerInfo) -> ConnectLink:
        """A "connect Telegram" link for a customer, recorded (or updated) on the way."""
        async with self.session_factory() as session:
            phone = normalize_phone(customer.phone, region=self.phone_region)
            customer_id = await tickets.upsert_customer(
                session, customer, phone=phone, now=self.clock()
            )
            await session.commit()
        link, expires_at = self._link(LinkKind.CUSTOMER, customer_id)
        return ConnectLink(deep_link=link, expires_at=expires_at)

"""Recording a closed ticket: shared by the HTTP endpoint and ``npsbot ticket-closed``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.core import deeplink
from bot.core.survey import SurveyStatus, due_at
from bot.core.tickets import TicketClosed
from bot.delivery.dispatcher import Clock
from storage import repo
from storage.db import SessionFactory


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The intake's answer: which survey, where it stands, and the link for the closing message."""

    survey_id: int
    ticket_id: str
    status: SurveyStatus
    created: bool
    deep_link: str


@dataclass(frozen=True, slots=True)
class TicketIntake:
    """Stores TicketClosed events once and lets the sweep know there may be work."""

    session_factory: SessionFactory
    delay: timedelta
    link_secret: bytes
    bot_username: Callable[[], str]
    clock: Clock
    after_record: Callable[[], Awaitable[object]] | None = None

    async def close_ticket(self, event: TicketClosed) -> IntakeResult:
        """Record the ticket (idempotent on its id) and return the survey with its deep link."""
        async with self.session_factory() as session:
            record = await repo.record_ticket_closed(
                session, event=event, due_at=due_at(event.closed_at, self.delay), now=self.clock()
            )
        if record.created and self.after_record is not None:
            await self.after_record()
        payload = deeplink.make_payload(self.link_secret, record.survey_id)
        return IntakeResult(
            survey_id=record.survey_id,
            ticket_id=record.ticket_id,
            status=record.status,
            created=record.created,
            deep_link=deeplink.deep_link(self.bot_username(), payload),
        )

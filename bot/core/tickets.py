"""The helpdesk-neutral event every intake adapter produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    """What the helpdesk knows about the person who opened the ticket."""

    helpdesk_id: str
    telegram_user_id: int | None = None
    phone: str | None = None
    name: str | None = None
    language: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class TicketClosed:
    """A ticket was solved or closed; attribution is frozen at this moment."""

    ticket_id: str
    closed_at: datetime
    customer: CustomerInfo
    agent: str | None = None
    team: str | None = None
    channel: str | None = None
    tags: tuple[str, ...] = ()

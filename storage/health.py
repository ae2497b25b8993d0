"""Cheap questions for an operator's probes: does the database answer, how full is the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage
from storage.outbox import OutboxStatus

WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)


async def ping(engine: AsyncEngine) -> None:
    """One round trip; raises whatever the driver raises when the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """Calls not made yet: how many in each state, and when the oldest of them was queued."""

    waiting: dict[str, int]  # by status: pending (queued or to retry), sending (claimed)
    oldest_created_at: datetime | None


async def outbox_backlog(session: AsyncSession) -> OutboxBacklog:
    """One grouped statement over the status index; delivered rows are never read."""
    found = await session.exec(
        select(OutboxMessage.status, func.count(), func.min(col(OutboxMessage.created_at)))
        .where(col(OutboxMessage.status).in_(WAITING))
        .group_by(col(OutboxMessage.status))
    )
    waiting = {str(status): 0 for status in WAITING}
    oldest: datetime | None = None
    for status, count, created_at in found:
        waiting[status] = int(count)
        if created_at is not None and (oldest is None or created_at < oldest):
            oldest = created_at
    return OutboxBacklog(waiting=waiting, oldest_created_at=oldest)

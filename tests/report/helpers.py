"""Data builders shared by the report tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.periods import Period
from bot.report.frames import COLUMNS, normalize_survey_frame
from storage.db import make_session_factory
from storage.models import Customer, Survey, Ticket

# Monday to Monday in UTC; the week before ends exactly where this one starts.
WEEK = Period(start=datetime(2025, 1, 6, tzinfo=UTC), end=datetime(2025, 1, 13, tzinfo=UTC))
PREVIOUS_WEEK = Period(
    start=datetime(2024, 12, 30, tzinfo=UTC), end=datetime(2025, 1, 6, tzinfo=UTC)
)


def at(day: int, hour: int = 12, minute: int = 0, *, month: int = 1, year: int = 2025) -> datetime:
    """A UTC moment, short enough to keep hand-made data sets readable."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def make_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A frame with the loader's dtypes from partial rows: missing fields are NULL."""
    records = [
        {
            name: row.get(name, f"T-{row['survey_id']}" if name == "ticket" else None)
            for name in COLUMNS
        }
        for row in rows
    ]
    return normalize_survey_frame(pd.DataFrame(records, columns=list(COLUMNS)))


async def insert_surveys(engine: AsyncEngine, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert a customer, and a ticket plus a survey per row, through the SQLModel models.

    Each row needs ``ticket`` (the external id) and may give ``agent``, ``team``, ``channel`` and
    any Survey field; returns the survey id of each ticket.
    """
    created = at(1, month=12, year=2024)
    ids: dict[str, int] = {}
    async with make_session_factory(engine)() as session:
        customer = Customer(helpdesk_id="customer-1", created_at=created)
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        for row in rows:
            fields = dict(row)
            ticket = Ticket(
                external_id=fields.pop("ticket"), customer_id=customer.id, created_at=created
            )
            session.add(ticket)
            await session.flush()
            assert ticket.id is not None
            survey = Survey(
                ticket_id=ticket.id,
                customer_id=customer.id,
                status=fields.pop("status", "sent"),
                closed_at=created,
                agent=fields.pop("agent", "alice"),
                team=fields.pop("team", "tier-1"),
                channel=fields.pop("channel", "email"),
                due_at=created,
                created_at=created,
                **fields,
            )
            session.add(survey)
            await session.flush()
            assert survey.id is not None
            ids[ticket.external_id] = survey.id
        await session.commit()
    return ids

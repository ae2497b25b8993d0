"""The closed loop in numbers: what happened to the detractors' alerts of a period.

Everything is counted as of the period's end, so a digest posted late, or again, says the same
thing as one posted on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import pandas as pd
from sqlalchemy import Table, or_, select
from sqlalchemy.engine import Connection

from bot.core.periods import Period
from storage.models import AlertCase
from storage.tables import table_of

_CASE: Final[Table] = table_of(AlertCase)
CASE_DATETIMES: Final = (
    "created_at",
    "first_reannounced_at",
    "taken_at",
    "first_contact_at",
    "resolved_at",
    "recovery_answered_at",
)


@dataclass(frozen=True, slots=True)
class LoopStats:
    """Alerts of one period and how far the managers got with them by its end."""

    alerted: int
    taken: int
    resolved: int
    median_first_contact: timedelta | None
    open_at_end: int
    reannounced: int
    recovery_answered: int
    recovered: int


def load_case_frame(connection: Connection, *, period: Period) -> pd.DataFrame:
    """Cases that were alerted in the period or were still unresolved at some point in it."""
    case = _CASE.c
    query = select(
        case.id,
        case.created_at,
        case.taken_at,
        case.first_contact_at,
        case.resolved_at,
        case.first_reannounced_at,
        case.recovery_answer,
        case.recovery_answered_at,
    ).where(
        case.created_at < period.end,
        or_(case.resolved_at.is_(None), case.resolved_at >= period.start),
    )
    raw = pd.read_sql(query.order_by(case.id), connection)
    columns: dict[str, pd.Series[Any]] = {
        "id": raw["id"].astype("int64"),
        # SQLite returns 0/1 and PostgreSQL True/False; both become a nullable boolean.
        "recovery_answer": raw["recovery_answer"].astype("boolean"),
    }
    for name in CASE_DATETIMES:
        columns[name] = pd.to_datetime(raw[name], utc=True).astype("datetime64[us, UTC]")
    return pd.DataFrame(columns)


def _before(moments: pd.Series[pd.Timestamp], end: datetime) -> pd.Series[bool]:
    """Happened before ``end``; NaT (never happened) compares False."""
    return moments < pd.Timestamp(end).tz_convert("UTC")


def compute_loop(frame: pd.DataFrame, period: Period) -> LoopStats:
    """Count the closed loop of ``period`` from ``load_case_frame`` rows (wider frames are fine)."""
    start = pd.Timestamp(period.start).tz_convert("UTC")
    end = pd.Timestamp(period.end).tz_convert("UTC")
    created = frame["created_at"]
    alerted = frame.loc[(created >= start) & (created < end)]
    resolved_by_end = _before(frame["resolved_at"], period.end)
    contacted = alerted.loc[_before(alerted["first_contact_at"], period.end)]
    waits = contacted["first_contact_at"] - contacted["created_at"]
    median = None if waits.empty else pd.Timedelta(waits.median()).to_pytimedelta()
    answered = alerted.loc[_before(alerted["recovery_answered_at"], period.end)]
    return LoopStats(
        alerted=len(alerted),
        taken=int(_before(alerted["taken_at"], period.end).sum()),
        resolved=int(_before(alerted["resolved_at"], period.end).sum()),
        median_first_contact=median,
        open_at_end=int(((created < end) & ~resolved_by_end).sum()),
        reannounced=int(_before(alerted["first_reannounced_at"], period.end).sum()),
        recovery_answered=int(answered["recovery_answer"].notna().sum()),
        recovered=int(answered["recovery_answer"].fillna(False).sum()),
    )

"""Reporting periods in the team's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime


def last_full_week(now: datetime, tz: ZoneInfo) -> Period:
    """The Monday-to-Monday week, in ``tz``, that ended most recently before ``now``.

    Boundaries are local midnights converted to UTC, so a DST change makes the week 167 or 169
    hours long instead of shifting it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_today = now.astimezone(tz).date()
    this_monday = local_today - timedelta(days=local_today.weekday())
    last_monday = this_monday - timedelta(days=7)
    start = datetime.combine(last_monday, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(this_monday, time(0), tzinfo=tz).astimezone(UTC)
    return Period(start=start, end=end)


def week_before(period: Period, tz: ZoneInfo) -> Period:
    """The full week that ends where ``period`` starts, computed on local dates (DST-safe)."""
    return last_full_week(period.start, tz)

"""Reporting periods in the team's own time zone: weeks, months and what a manager types.

Every boundary is a local midnight converted to UTC, so a DST change makes a week 167 or 169
hours long instead of shifting it by an hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

MAX_DAYS: Final = 3660  # ten years: anything longer is a typo, not a report
# datetime holds the years 1 to 9999 only. A period ends the day after its last day, and a
# digest compares it with the twelve before it (ten-year ranges: 120 years back), so a typed
# period keeps well inside; outside these years it would overflow instead of being explained.
FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 9998


class PeriodProblem(StrEnum):
    """What was wrong with a typed period, so the bot can say it in the reader's language."""

    NOT_A_DATE = "not_a_date"
    DAYS_OUT_OF_RANGE = "days_out_of_range"
    NOT_A_WEEK = "not_a_week"
    NOT_A_MONTH = "not_a_month"
    ENDS_BEFORE_START = "ends_before_start"
    TOO_LONG = "too_long"
    OUT_OF_RANGE = "out_of_range"  # a year before FIRST_YEAR or after LAST_YEAR
    UNKNOWN = "unknown"


class PeriodError(ValueError):
    """A period a person typed that cannot be understood; the message says what is accepted.

    The message is English, for the shell; ``problem`` and ``value`` let a chat translate it.
    """

    def __init__(self, message: str, *, problem: PeriodProblem, value: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.value = value


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime


def _aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The start of a local calendar day, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_days(first: date, after_last: date, tz: ZoneInfo) -> Period:
    """The local days [first, after_last) as a UTC period."""
    return Period(start=local_midnight(first, tz), end=local_midnight(after_last, tz))


def last_full_week(now: datetime, tz: ZoneInfo) -> Period:
    """The Monday-to-Monday week, in ``tz``, that ended most recently before ``now``."""
    _aware(now)
    local_today = now.astimezone(tz).date()
    this_monday = local_today - timedelta(days=local_today.weekday())
    return local_days(this_monday - timedelta(days=7), this_monday, tz)


def week_before(period: Period, tz: ZoneInfo) -> Period:
    """The full week that ends where ``period`` starts, computed on local dates (DST-safe)."""
    return last_full_week(period.start, tz)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def calendar_month(year: int, month: int, tz: ZoneInfo) -> Period:
    """One calendar month in ``tz``."""
    first = date(year, month, 1)
    return local_days(first, _next_month(first), tz)


def last_full_month(now: datetime, tz: ZoneInfo) -> Period:
    """The calendar month, in ``tz``, that ended most recently before ``now``."""
    _aware(now)
    this_month = _month_start(now.astimezone(tz).date())
    return local_days(_previous_month(this_month), this_month, tz)


def month_before(period: Period, tz: ZoneInfo) -> Period:
    """The calendar month that ends where ``period`` starts."""
    return last_full_month(period.start, tz)


def _is_local_midnight(moment: datetime, tz: ZoneInfo) -> bool:
    return moment.astimezone(tz).time() == time(0)


def period_before(period: Period, tz: ZoneInfo) -> Period:
    """The period of the same kind that ends where ``period`` starts, for a comparison.

    A calendar month is compared with the month before (28 to 31 days); whole local days with as
    many local days before (a week with the week before); anything else with the same duration.
    """
    start = period.start.astimezone(tz)
    end = period.end.astimezone(tz)
    if _is_local_midnight(period.start, tz) and _is_local_midnight(period.end, tz):
        first, after_last = start.date(), end.date()
        if first.day == 1 and after_last == _next_month(first):
            return local_days(_previous_month(first), first, tz)
        days = (after_last - first).days
        return local_days(first - timedelta(days=days), first, tz)
    return Period(start=period.start - (period.end - period.start), end=period.start)


def periods_up_to(period: Period, tz: ZoneInfo, count: int) -> list[Period]:
    """``count`` consecutive periods of the same kind, oldest first, the last one ``period``."""
    if count < 1:
        raise ValueError("count must be positive")
    periods = [period]
    while len(periods) < count:
        periods.append(period_before(periods[-1], tz))
    return periods[::-1]


_DAYS = re.compile(r"(\d{1,4})d")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")

PERIOD_HELP: Final = (
    "use 7d or 30d (days up to now), 2026-10 (a month), 2026-W44 (an ISO week), "
    "week or month (the last full one), or 2026-10-01..2026-10-15 (dates, inclusive)"
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(
            f"{text!r} is not a date (YYYY-MM-DD)", problem=PeriodProblem.NOT_A_DATE, value=text
        ) from None


def _within_years(value: str, *years: int) -> None:
    if not all(FIRST_YEAR <= year <= LAST_YEAR for year in years):
        raise PeriodError(
            f"{value!r} is outside the years {FIRST_YEAR} to {LAST_YEAR}",
            problem=PeriodProblem.OUT_OF_RANGE,
            value=value,
        )


def parse_period(text: str, *, now: datetime, tz: ZoneInfo) -> Period:
    """Understand a period a manager or operator typed; raise ``PeriodError`` explaining why not.

    ``Nd`` is N days ending at ``now``; the others are whole local days in ``tz``.
    """
    _aware(now)
    value = text.strip()
    if value.lower() == "week":
        return last_full_week(now, tz)
    if value.lower() == "month":
        return last_full_month(now, tz)
    if match := _DAYS.fullmatch(value.lower()):
        days = int(match[1])
        if not 1 <= days <= MAX_DAYS:
            raise PeriodError(
                f"the number of days must be between 1 and {MAX_DAYS}",
                problem=PeriodProblem.DAYS_OUT_OF_RANGE,
                value=value,
            )
        return Period(start=now - timedelta(days=days), end=now)
    if match := _WEEK.fullmatch(value.upper()):
        _within_years(value, int(match[1]))
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise PeriodError(
                f"{value!r} is not an ISO week of that year",
                problem=PeriodProblem.NOT_A_WEEK,
                value=value,
            ) from None
        return local_days(monday, monday + timedelta(days=7), tz)
    if match := _MONTH.fullmatch(value):
        if not 1 <= int(match[2]) <= 12:
            raise PeriodError(
                f"{value!r} is not a month (YYYY-MM, 01 to 12)",
                problem=PeriodProblem.NOT_A_MONTH,
                value=value,
            )
        _within_years(value, int(match[1]))
        return calendar_month(int(match[1]), int(match[2]), tz)
    if match := _RANGE.fullmatch(value):
        first, last = _date(match[1]), _date(match[2])
        _within_years(value, first.year, last.year)
        if last < first:
            raise PeriodError(
                "the period ends before it starts",
                problem=PeriodProblem.ENDS_BEFORE_START,
                value=value,
            )
        if (last - first).days >= MAX_DAYS:
            raise PeriodError(
                f"a period may be at most {MAX_DAYS} days long",
                problem=PeriodProblem.TOO_LONG,
                value=value,
            )
        return local_days(first, last + timedelta(days=1), tz)
    raise PeriodError(
        f"cannot understand the period {value!r}: {PERIOD_HELP}",
        problem=PeriodProblem.UNKNOWN,
        value=value,
    )

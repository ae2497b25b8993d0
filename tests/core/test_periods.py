"""Digest weeks in the team's time zone, DST included."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.periods import last_full_week, week_before


def test_monday_morning_reports_the_week_before() -> None:
    tz = ZoneInfo("Europe/Moscow")  # UTC+3, no DST
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 in Moscow
    week = last_full_week(now, tz)
    assert week.start == datetime(2026, 11, 15, 21, 0, tzinfo=UTC)  # Mon 16 Nov 00:00 MSK
    assert week.end == datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
    previous = week_before(week, tz)
    assert previous.end == week.start
    assert previous.end - previous.start == timedelta(days=7)


def test_dst_week_is_167_hours_and_boundaries_stay_at_midnight() -> None:
    tz = ZoneInfo("Europe/Berlin")  # clocks go forward on Sunday 29 March 2026
    week = last_full_week(datetime(2026, 3, 30, 12, 0, tzinfo=UTC), tz)
    assert week.end - week.start == timedelta(hours=167)
    assert week.start.astimezone(tz).hour == 0
    assert week.end.astimezone(tz).hour == 0


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        last_full_week(datetime(2026, 1, 1), ZoneInfo("UTC"))  # noqa: DTZ001

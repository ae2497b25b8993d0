"""Retention ages as operators type them, and the cut-off they point to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.retention import AgeError, parse_age

NOW = datetime(2026, 3, 31, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "cutoff"),
    [
        ("2y", datetime(2024, 3, 31, 12, 30, tzinfo=UTC)),
        ("18m", datetime(2024, 9, 30, 12, 30, tzinfo=UTC)),  # 31 September is the 30th
        ("1m", datetime(2026, 2, 28, 12, 30, tzinfo=UTC)),  # 31 February is the 28th
        ("13m", datetime(2025, 2, 28, 12, 30, tzinfo=UTC)),
        ("90d", NOW - timedelta(days=90)),
        ("12w", NOW - timedelta(weeks=12)),
        (" 2Y ", datetime(2024, 3, 31, 12, 30, tzinfo=UTC)),
    ],
)
def test_ages_point_to_calendar_or_exact_cutoffs(text: str, cutoff: datetime) -> None:
    assert parse_age(text, now=NOW).cutoff(NOW) == cutoff


def test_a_leap_day_minus_a_year_is_the_28th() -> None:
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert parse_age("1y", now=leap).cutoff(leap) == datetime(2027, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "2", "y", "2 years", "-2y", "1.5y", "2h", "0d", "99999y"])
def test_unreadable_ages_say_what_is_accepted(text: str) -> None:
    with pytest.raises(AgeError):
        parse_age(text, now=NOW)


@pytest.mark.parametrize("text", ["29d", "4w", "7d"])
def test_an_age_under_thirty_days_needs_force(text: str) -> None:
    with pytest.raises(AgeError, match="--force"):
        parse_age(text, now=NOW)
    assert parse_age(text, now=NOW, force=True).cutoff(NOW) < NOW


def test_thirty_days_and_one_month_are_enough() -> None:
    assert parse_age("30d", now=NOW).count == 30
    assert str(parse_age("1m", now=datetime(2026, 4, 30, tzinfo=UTC))) == "1m"


@pytest.mark.parametrize(
    "day", [datetime(2026, 3, 1, tzinfo=UTC), datetime(2028, 3, 29, tzinfo=UTC)]
)
def test_one_month_is_enough_on_every_day_of_the_year(day: datetime) -> None:
    # 1 March minus a month is 1 February: 28 days, and still the month an operator asked for.
    age = parse_age("1m", now=day)
    assert age.cutoff(day) == day.replace(month=2)

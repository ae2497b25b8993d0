"""Digest weeks in the team's time zone, DST included."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.periods import (
    Period,
    PeriodError,
    PeriodProblem,
    calendar_month,
    last_full_month,
    last_full_week,
    month_before,
    parse_period,
    period_before,
    periods_up_to,
    week_before,
)


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


MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)  # Thursday


def test_last_full_month_is_local_and_the_one_before_it_too() -> None:
    month = last_full_month(NOW, MOSCOW)
    assert month == Period(
        start=datetime(2026, 9, 30, 21, 0, tzinfo=UTC),  # 1 Oct 00:00 MSK
        end=datetime(2026, 10, 31, 21, 0, tzinfo=UTC),
    )
    before = month_before(month, MOSCOW)
    assert before.end == month.start
    assert before.start == datetime(2026, 8, 31, 21, 0, tzinfo=UTC)


def test_january_follows_december() -> None:
    month = last_full_month(datetime(2026, 1, 10, tzinfo=UTC), UTC)
    assert (month.start.date(), month.end.date()) == (date(2025, 12, 1), date(2026, 1, 1))
    assert month_before(month, UTC).start.date() == date(2025, 11, 1)


def test_dst_month_is_an_hour_short_and_starts_at_midnight() -> None:
    march = calendar_month(2026, 3, BERLIN)
    assert march.end - march.start == timedelta(days=31, hours=-1)
    assert march.start.astimezone(BERLIN).hour == 0
    assert march.end.astimezone(BERLIN).hour == 0


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("7d", datetime(2026, 10, 29, 9, 30, tzinfo=UTC), NOW),
        (" 30D ", datetime(2026, 10, 6, 9, 30, tzinfo=UTC), NOW),
        ("2026-10", datetime(2026, 9, 30, 21, tzinfo=UTC), datetime(2026, 10, 31, 21, tzinfo=UTC)),
        # ISO week 44 of 2026 is Monday 26 October to Sunday 1 November.
        ("2026-W44", datetime(2026, 10, 25, 21, tzinfo=UTC), datetime(2026, 11, 1, 21, tzinfo=UTC)),
        ("2026-w44", datetime(2026, 10, 25, 21, tzinfo=UTC), datetime(2026, 11, 1, 21, tzinfo=UTC)),
        ("week", datetime(2026, 10, 25, 21, tzinfo=UTC), datetime(2026, 11, 1, 21, tzinfo=UTC)),
        ("month", datetime(2026, 9, 30, 21, tzinfo=UTC), datetime(2026, 10, 31, 21, tzinfo=UTC)),
        (
            "2026-10-01..2026-10-15",
            datetime(2026, 9, 30, 21, tzinfo=UTC),
            datetime(2026, 10, 15, 21, tzinfo=UTC),
        ),
        (
            "2026-10-01..2026-10-01",
            datetime(2026, 9, 30, 21, tzinfo=UTC),
            datetime(2026, 10, 1, 21, tzinfo=UTC),
        ),
    ],
)
def test_parse_period(text: str, start: datetime, end: datetime) -> None:
    assert parse_period(text, now=NOW, tz=MOSCOW) == Period(start=start, end=end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "cannot understand"),
        ("", "cannot understand"),
        ("0d", "between 1 and"),
        ("2026-13", "not a month"),
        ("2026-W54", "not an ISO week"),
        ("2026-02-30..2026-03-01", "not a date"),
        ("2026-10-15..2026-10-01", "ends before it starts"),
    ],
)
def test_bad_periods_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text, now=NOW, tz=MOSCOW)


def test_period_error_is_a_value_error() -> None:
    assert issubclass(PeriodError, ValueError)


def test_period_before_keeps_the_kind() -> None:
    october = calendar_month(2026, 10, MOSCOW)
    assert period_before(october, MOSCOW) == calendar_month(2026, 9, MOSCOW)
    days = parse_period("2026-10-01..2026-10-15", now=NOW, tz=MOSCOW)  # 15 local days
    assert period_before(days, MOSCOW) == parse_period("2026-09-16..2026-09-30", now=NOW, tz=MOSCOW)
    seven = parse_period("7d", now=NOW, tz=MOSCOW)  # not at midnight: same duration before
    assert period_before(seven, MOSCOW) == Period(
        start=datetime(2026, 10, 22, 9, 30, tzinfo=UTC), end=seven.start
    )


def test_period_before_a_dst_week_is_whole_local_days() -> None:
    week = last_full_week(datetime(2026, 4, 1, tzinfo=UTC), BERLIN)  # 23..30 March, 167 hours
    before = period_before(week, BERLIN)
    assert before.end == week.start
    assert before.end - before.start == timedelta(days=7)
    assert before.start.astimezone(BERLIN).hour == 0


def test_twelve_periods_are_consecutive_oldest_first() -> None:
    months = periods_up_to(calendar_month(2026, 10, MOSCOW), MOSCOW, 12)
    assert len(months) == 12
    assert months[0] == calendar_month(2025, 11, MOSCOW)
    assert all(a.end == b.start for a, b in itertools.pairwise(months))


# What a manager may type: any text (lone surrogates too), and every shape the parser knows
# with any digits, so the years at both ends of the calendar come up.
TYPED = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.from_regex(r"[0-9]{1,4}d|[0-9]{4}-[0-9]{2}|[0-9]{4}-[Ww][0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
)


@given(TYPED, st.sampled_from([MOSCOW, BERLIN, ZoneInfo("Pacific/Kiritimati")]))
@example("0000-05", MOSCOW)
@example("9999-12", MOSCOW)
@example("9999-W52", MOSCOW)
@example("0001-01-01..0001-01-02", ZoneInfo("Pacific/Kiritimati"))
@example("1900-01-01..1909-12-31", ZoneInfo("Pacific/Kiritimati"))
def test_typed_periods_are_a_period_and_its_trend_or_a_period_error(
    text: str, tz: ZoneInfo
) -> None:
    """What the digest does with a typed period: the period and the twelve before it."""
    try:
        period = parse_period(text, now=NOW, tz=tz)
    except PeriodError:
        return
    assert len(periods_up_to(period, tz, 12)) == 12


@pytest.mark.parametrize(
    "text", ["0000-05", "1899-12", "9999-01", "9999-W01", "1899-12-31..1900-01-01"]
)
def test_years_outside_the_calendar_are_out_of_range(text: str) -> None:
    with pytest.raises(PeriodError, match="outside the years 1900 to 9998") as raised:
        parse_period(text, now=NOW, tz=MOSCOW)
    assert raised.value.problem is PeriodProblem.OUT_OF_RANGE

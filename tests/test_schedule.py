"""Which scheduled digest run the bot missed while it was down (APScheduler cron triggers)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.cron import last_fire_time

MOSCOW = ZoneInfo("Europe/Moscow")


def cron(expression: str) -> CronTrigger:
    return CronTrigger.from_crontab(expression, timezone=MOSCOW)


def test_the_last_weekly_run_before_now() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday
    assert last_fire_time(cron("0 9 * * mon"), now) == datetime(2026, 11, 23, 9, 0, tzinfo=MOSCOW)


def test_a_monthly_run_is_found_after_more_than_a_week_down() -> None:
    now = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    assert last_fire_time(cron("0 9 1 * *"), now) == datetime(2026, 12, 1, 9, 0, tzinfo=MOSCOW)


def test_a_run_at_this_very_moment_counts() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=MOSCOW)
    assert last_fire_time(cron("0 9 * * mon"), now) == now


def test_a_frequent_cron_finds_its_latest_run() -> None:
    now = datetime(2026, 11, 25, 12, 7, 30, tzinfo=UTC)
    assert last_fire_time(cron("*/5 * * * *"), now) == datetime(2026, 11, 25, 12, 5, tzinfo=UTC)


def test_nothing_within_a_year() -> None:
    # 29 February only: none between 2026-03 and 2027-03.
    now = datetime(2027, 3, 1, tzinfo=UTC)
    assert last_fire_time(cron("0 9 29 2 *"), now) is None

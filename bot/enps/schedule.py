"""A campaign's cron schedule, read with APScheduler's own parser in the team's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.cron import last_fire_time


class ScheduleError(ValueError):
    """A cron expression APScheduler cannot read."""


def trigger(cron: str, tz: ZoneInfo) -> CronTrigger:
    """The trigger of a five-field crontab expression, or ScheduleError saying why not."""
    try:
        return CronTrigger.from_crontab(cron, timezone=tz)
    except ValueError as error:
        raise ScheduleError(f"{cron!r} is not a crontab schedule: {error}") from None


def last_fire(cron: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The latest time up to ``now`` at which the schedule fired (within about a year)."""
    return last_fire_time(trigger(cron, tz), now)


def next_fire(cron: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The next time after ``now`` the schedule fires."""
    upcoming: datetime | None = trigger(cron, tz).get_next_fire_time(
        None, now + timedelta(microseconds=1)
    )
    return upcoming

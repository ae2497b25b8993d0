"""A campaign's cron schedule, read with APScheduler's own parser in the team's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

# Short windows first, so a cron that fires often is not walked for a year; up to a year and a
# bit, so a quarterly or yearly schedule is found too.
_WINDOWS = (timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=400))


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
    schedule = trigger(cron, tz)
    for window in _WINDOWS:
        last: datetime | None = None
        moment: datetime | None = schedule.get_next_fire_time(None, now - window)
        while moment is not None and moment <= now:
            last = moment
            moment = schedule.get_next_fire_time(moment, moment + timedelta(seconds=1))
        if last is not None:
            return last
    return None


def next_fire(cron: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The next time after ``now`` the schedule fires."""
    upcoming: datetime | None = trigger(cron, tz).get_next_fire_time(
        None, now + timedelta(microseconds=1)
    )
    return upcoming

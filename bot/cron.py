"""When a cron schedule last fired: how the digest and employee NPS rounds catch up a missed run.

PTB's JobQueue keeps jobs in memory, so a run due while the bot was down never happens by
itself; at start-up (and on every eNPS tick) the bot asks when the schedule last fired instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

# Short windows first, so a cron that fires often is not walked for a year; up to a year and a
# bit, so a monthly digest after a long outage, or a quarterly or yearly round, is found too.
LOOKBACK_WINDOWS = (timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=400))


def last_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time up to ``now`` (within the longest window) at which ``trigger`` fired."""
    for window in LOOKBACK_WINDOWS:
        last: datetime | None = None
        moment: datetime | None = trigger.get_next_fire_time(None, now - window)
        while moment is not None and moment <= now:
            last = moment
            moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        if last is not None:
            return last
    return None

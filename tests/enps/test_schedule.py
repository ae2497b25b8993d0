"""Campaign schedules in the team's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.enps.schedule import ScheduleError, last_fire, next_fire

MOSCOW = ZoneInfo("Europe/Moscow")
QUARTERLY = "0 10 1 1,4,7,10 *"


def test_a_quarterly_schedule_is_found_months_back_in_local_time() -> None:
    now = datetime(2027, 3, 15, tzinfo=UTC)
    assert last_fire(QUARTERLY, MOSCOW, now) == datetime(2027, 1, 1, 7, 0, tzinfo=UTC)
    assert next_fire(QUARTERLY, MOSCOW, now) == datetime(2027, 4, 1, 7, 0, tzinfo=UTC)


def test_the_moment_it_fires_counts_as_fired() -> None:
    moment = datetime(2027, 4, 1, 7, 0, tzinfo=UTC)
    assert last_fire(QUARTERLY, MOSCOW, moment) == moment


def test_a_schedule_across_a_dst_change_keeps_local_wall_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    summer = last_fire("0 10 1 * *", berlin, datetime(2027, 7, 2, tzinfo=UTC))
    winter = last_fire("0 10 1 * *", berlin, datetime(2027, 12, 2, tzinfo=UTC))
    assert summer is not None and winter is not None
    assert summer.astimezone(berlin).hour == winter.astimezone(berlin).hour == 10
    assert summer.utcoffset() != winter.astimezone(berlin).utcoffset()


@pytest.mark.parametrize("cron", ["every quarter", "61 * * * *", "* * *"])
def test_a_bad_schedule_says_so(cron: str) -> None:
    with pytest.raises(ScheduleError, match="not a crontab schedule"):
        last_fire(cron, MOSCOW, datetime(2027, 1, 1, tzinfo=UTC))

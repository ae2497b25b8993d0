"""How long personal data is kept: an age typed by an operator, and the moment it points to.

Pure: the current time is passed in. ``2y`` and ``18m`` are calendar years and months (the
same day of the month, clamped to the month's end), ``90d`` and ``12w`` are exact days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

# Below this, answers still being worked on (comments, change windows, open cases, a digest
# not posted yet) could lose their words; a shorter age needs --force.
MINIMUM_AGE: Final = timedelta(days=30)
AGE_HELP: Final = "an age such as 2y, 18m, 12w or 90d (years, months, weeks, days)"

_AGE: Final = re.compile(r"(?P<count>[0-9]{1,4})\s*(?P<unit>[ymwd])")


class AgeError(ValueError):
    """An age that cannot be read, or one shorter than the minimum without --force."""


@dataclass(frozen=True, slots=True)
class RetentionAge:
    """An age as typed: a count of calendar years, months, weeks or days."""

    count: int
    unit: str  # "y", "m", "w" or "d"

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def cutoff(self, now: datetime) -> datetime:
        """The moment this long before ``now``: data from before it is purged."""
        if self.unit == "d":
            return now - timedelta(days=self.count)
        if self.unit == "w":
            return now - timedelta(weeks=self.count)
        months = self.count * (12 if self.unit == "y" else 1)
        return _months_before(now, months)


def _months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (31 March - 1m = 28/29 Feb)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    if year < 1:
        raise AgeError(f"{months} months before {moment:%Y-%m-%d} is before the year 1")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def parse_age(text: str, *, now: datetime, force: bool = False) -> RetentionAge:
    """Read ``2y``, ``18m``, ``12w`` or ``90d``; refuse one under ``MINIMUM_AGE`` unless forced."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise AgeError(f"cannot read the age {text!r}: use {AGE_HELP}")
    age = RetentionAge(int(match["count"]), match["unit"])
    if age.count == 0:
        raise AgeError("the age must be more than 0")
    # A calendar month meets the minimum whatever its length: `1m` from a cron job must not
    # be refused on the days that fall a 28-day February after their month-ago date.
    exact = age.unit in ("d", "w")
    if exact and now - age.cutoff(now) < MINIMUM_AGE and not force:
        raise AgeError(
            f"{age} is under {MINIMUM_AGE.days} days: answers still being worked on could lose "
            "their words; add --force if you mean it"
        )
    return age

"""The wall clock as a parameter: services take a ``Clock``, so tests and the demo set the time.

Shared by every layer (delivery, the features, the intake's adapters, the demo), so it lives in
core, which they may all import, rather than in any one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, aware and in UTC: the default clock when nothing else is injected."""
    return datetime.now(UTC)


class ShiftedClock:
    """The wall clock moved to a chosen moment, running on from there: the demo plays inside one
    digest week, and the end-to-end tests land answers in a known one (``move_to`` jumps)."""

    def __init__(self, start: datetime) -> None:
        self.move_to(start)

    def move_to(self, moment: datetime) -> None:
        """From now on the clock reads ``moment``, and runs on from it."""
        self._offset = moment - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

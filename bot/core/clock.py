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

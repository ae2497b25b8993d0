"""Sliding-window flood limits modelled on Telegram's documented bot limits.

Telegram answers 429 with ``retry_after`` when a bot sends faster than about 30 messages a
second overall, one a second into a private chat or 20 a minute into a group. Reproducing
that in the sandbox is what lets tests and benchmarks prove the delivery code throttles and
retries instead of losing messages.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Timers may fire a hair early; without this slack a caller that sleeps exactly
# ``retry_after`` seconds could be refused again by a microsecond.
_TIMER_SLACK = 0.001


@dataclass(frozen=True)
class FloodLimits:
    """At most N counted calls in any sliding window of the given length.

    Counted calls are every ``send*`` and ``edit*`` method except ``sendChatAction`` (a typing
    indicator sends no message). ``private_per_second`` applies per private chat (id > 0),
    ``group_per_minute`` per group or channel (id < 0), ``global_per_second`` to all of them.
    """

    global_per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("global_per_second", "private_per_second", "group_per_minute"):
            if getattr(self, name) < 1:
                raise ValueError(f"FloodLimits.{name} must be at least 1")


def is_counted(method: str) -> bool:
    """Whether calls of this Bot API method count against the flood limits."""
    lowered = method.lower()
    if lowered == "sendchataction":
        return False
    return lowered.startswith(("send", "edit"))


class _Window:
    """Timestamps of the accepted calls inside one sliding window."""

    def __init__(self, limit: int, length: float) -> None:
        self.limit = limit
        self.length = length
        self._stamps: deque[float] = deque()

    def _prune(self, now: float) -> None:
        horizon = now - self.length + _TIMER_SLACK
        while self._stamps and self._stamps[0] <= horizon:
            self._stamps.popleft()

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        self._prune(now)
        if len(self._stamps) < self.limit:
            return 0.0
        oldest_blocking = self._stamps[len(self._stamps) - self.limit]
        return max(oldest_blocking + self.length - now, 0.0)

    def add(self, now: float) -> None:
        self._stamps.append(now)


class FloodLimiter:
    """Checks and records counted calls; rejected calls are never recorded.

    The check and the record are separate so the server can refuse a call, or let it fail
    for another reason (unknown chat, bad parameters), without using up a slot.
    """

    def __init__(self, limits: FloodLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global = _Window(limits.global_per_second, 1.0)
        self._chats: dict[int, _Window] = {}

    def _chat_window(self, chat_id: int) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if chat_id > 0:
                window = _Window(self.limits.private_per_second, 1.0)
            else:
                window = _Window(self.limits.group_per_minute, 60.0)
            self._chats[chat_id] = window
        return window

    def retry_after(self, chat_id: int | None) -> int | None:
        """Whole seconds (>= 1) to wait before this call may pass, or ``None`` if it may now."""
        if not self.limits.enabled:
            return None
        now = self._clock()
        wait = self._global.wait(now)
        if chat_id is not None:
            wait = max(wait, self._chat_window(chat_id).wait(now))
        if wait <= 0:
            return None
        return max(1, math.ceil(wait))

    def record(self, chat_id: int | None) -> None:
        """Count one accepted call."""
        if not self.limits.enabled:
            return
        now = self._clock()
        self._global.add(now)
        if chat_id is not None:
            self._chat_window(chat_id).add(now)

"""Telegram's flood limits as sliding windows; time is passed in, nothing sleeps here.

About 30 messages a second overall, one a second per private chat, 20 a minute per group or
channel (telegram.constants.FloodLimit). Private chats have positive ids, groups negative ones.
In a group, edits leave the last few slots of the window to new messages.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    """How many calls fit in which window."""

    global_per_second: float = 30.0
    private_per_second: float = 1.0
    group_per_minute: float = 20.0
    # Slots of a group's window that edits may not take: kept for new messages, so a new
    # alert goes out at once however often the alerts before it are being edited.
    group_kept_for_new: int = 5


@dataclass(slots=True)
class _Window:
    capacity: int
    length: float
    stamps: deque[float] = field(default_factory=deque)

    def wait(self, now: float, kept: int = 0) -> float:
        """Seconds until a call fits with ``kept`` slots still free after it."""
        while self.stamps and self.stamps[0] <= now - self.length:
            self.stamps.popleft()
        usable = max(1, self.capacity - kept)
        if len(self.stamps) < usable:
            return 0.0
        return self.stamps[len(self.stamps) - usable] + self.length - now


# Calls are spaced evenly at this share of the global limit, not sent in bursts: a call booked
# here reaches Telegram a few milliseconds later, by a varying amount, and a window filled to
# the brim here would then hold one call too many there (a 429 for everyone). The paced slots
# leave about 29 ms of difference in transit between two calls a second apart; the local
# window is stretched too, so that a call made late, with the schedule catching up behind it,
# still leaves 20 ms.
PACING_SHARE = 0.972
GLOBAL_WINDOW = 1.02
_PRIVATE_WINDOW = 1.0  # seconds of a private chat's window


class FloodGate:
    """Says how long to wait before a call to a chat, and books the call when it may go now."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self._limits = limits
        self._global = _Window(capacity=max(1, int(limits.global_per_second)), length=GLOBAL_WINDOW)
        self._interval = 1.0 / (limits.global_per_second * PACING_SHARE)
        self._next_global = float("-inf")
        self._chats: dict[int, _Window] = {}
        self._paused_until: dict[int, float] = {}
        # Private chats booked within the last second, the only ones their window may hold:
        # asking every chat of the last minute (10,000s in a broadcast) cost milliseconds a
        # claim. Groups (a minute's window) are few and asked each time.
        self._recent: deque[tuple[float, int]] = deque()
        self._groups: set[int] = set()

    def _chat_window(self, chat_id: int) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if chat_id > 0:
                window = _Window(
                    capacity=max(1, int(self._limits.private_per_second)), length=_PRIVATE_WINDOW
                )
            else:
                window = _Window(capacity=max(1, int(self._limits.group_per_minute)), length=60.0)
                self._groups.add(chat_id)
            self._chats[chat_id] = window
        return window

    def chat_wait(self, chat_id: int, now: float, *, edit: bool = False) -> float:
        """Seconds until ``chat_id`` may receive another call (0 when it may now).

        An ``edit`` of a message in a group leaves the slots kept for new messages free.
        """
        paused = self._paused_until.get(chat_id, 0.0) - now
        return max(paused, self._chat_window(chat_id).wait(now, self._kept(chat_id, edit=edit)))

    def _kept(self, chat_id: int, *, edit: bool) -> int:
        return self._limits.group_kept_for_new if edit and chat_id < 0 else 0

    @property
    def interval(self) -> float:
        """Seconds between two paced calls at the global limit."""
        return self._interval

    def global_wait(self, now: float) -> float:
        """Seconds until the bot as a whole may make another call."""
        return max(self._global.wait(now), self._next_global - now, 0.0)

    def book(self, chat_id: int, now: float) -> None:
        """Count a call that is being made now."""
        self._global.stamps.append(now)
        # Keep to the schedule: a call made a little late (the loop was busy) does not push
        # every later slot back, which would lose a share of the rate for good; after a long
        # pause (or at the first call) the schedule starts afresh from now.
        slot = self._next_global
        if slot < now - self._interval / 2:
            slot = now
        self._next_global = slot + self._interval
        self._chat_window(chat_id).stamps.append(now)
        if chat_id > 0:
            self._recent.append((now, chat_id))

    def held(self, now: float) -> set[int]:
        """Chats that may not receive a call right now (their window is full, or a 429).

        The dispatcher leaves their calls in the queue instead of claiming them only to put
        them back: a group with a backlog would otherwise be claimed and put back all day.
        """
        held = {chat for chat, until in self._paused_until.items() if until > now}
        recent = self._recent
        while recent and recent[0][0] <= now - _PRIVATE_WINDOW:
            recent.popleft()
        for chat in {chat for _stamp, chat in recent} | self._groups:
            window = self._chats.get(chat)
            if window is not None and window.wait(now) > 0:
                held.add(chat)
        return held

    def edits_held(self, now: float) -> set[int]:
        """Groups where only new messages may go now: the rest of their window is kept."""
        return {
            chat
            for chat in self._groups
            if self._chats[chat].wait(now, self._kept(chat, edit=True)) > 0
        }

    def pause(self, chat_id: int, until: float) -> None:
        """Hold a chat after Telegram answered 429 with retry_after."""
        self._paused_until[chat_id] = max(until, self._paused_until.get(chat_id, 0.0))

    def forget_idle(self, now: float) -> None:
        """Drop windows of chats that have been quiet for a minute, so memory stays flat."""
        for chat_id in [c for c, w in self._chats.items() if w.wait(now) == 0 and not w.stamps]:
            del self._chats[chat_id]
            self._groups.discard(chat_id)
        for chat_id in [c for c, until in self._paused_until.items() if until <= now]:
            del self._paused_until[chat_id]

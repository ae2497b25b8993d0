"""When to survey, and when not to: the rules the best NPS tools follow, with time passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.tickets import TicketClosed

# What storage keeps of a skip reason (``survey.skip_reason``): a tag may be 100 characters.
MAX_REASON = 64


def _reason(kind: str, value: str) -> str:
    """``kind:value``, cut to what is stored: the reason is for people reading it, not a key."""
    return f"{kind}:{value}"[:MAX_REASON]


@dataclass(frozen=True, slots=True)
class SurveyRules:
    """The operator's settings for timing and frequency (see README for defaults)."""

    delay: timedelta = timedelta(minutes=30)
    throttle: timedelta = timedelta(days=30)
    reminder_after: timedelta | None = timedelta(hours=24)
    lifetime: timedelta = timedelta(days=7)
    skip_tags: frozenset[str] = field(default_factory=frozenset)
    skip_channels: frozenset[str] = field(default_factory=frozenset)

    def due_at(self, closed_at: datetime) -> datetime:
        """When the survey of a closing may go out: after the delay, not at once."""
        return closed_at + self.delay

    def skip_reason(self, event: TicketClosed) -> str | None:
        """Why a closing must never be surveyed (spam, auto-closed, ...), or None."""
        for tag in event.tags:
            if tag.lower() in self.skip_tags:
                return _reason("tag", tag.lower())
        if event.channel and event.channel.lower() in self.skip_channels:
            return _reason("channel", event.channel.lower())
        return None

    def throttle_free_since(self, now: datetime) -> datetime:
        """A customer last surveyed before this moment may be surveyed again (one per period)."""
        return now - self.throttle

    def reminder_due_before(self, now: datetime) -> datetime | None:
        """Surveys sent before this moment and still unanswered get their one reminder."""
        return None if self.reminder_after is None else now - self.reminder_after

    def expiry_cutoff(self, now: datetime) -> datetime:
        """Surveys sent (or due) before this moment are over: buttons record nothing."""
        return now - self.lifetime

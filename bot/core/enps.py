"""Employee NPS rules: when a round opens, reminds and closes, and what may be reported of it.

Pure: no I/O, time passed in. The cron arithmetic itself lives with APScheduler in
``bot.enps.schedule``; here a round is planned from the moment its schedule fired.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.nps import NpsChange, NpsSummary, compare, summarize

# Below three answers an "average" is one person's score, or two people who can tell each
# other's: no campaign may report smaller groups, whatever the operator configures.
MIN_ANONYMOUS_GROUP = 3
DEFAULT_COMMENTS_SHOWN = 5


class MemberStatus(enum.StrEnum):
    """Whether a campaign member can be asked."""

    INVITED = "invited"  # added by id; has not opened the campaign's link yet
    JOINED = "joined"  # opened the link: the bot may write to them
    UNREACHABLE = "unreachable"  # Telegram refused a question; asked again only after rejoining


# Members asked when a round opens. An invited member may have started the bot for another
# reason, so they are tried once; a refusal marks them unreachable until they open the link.
ASKED = frozenset({MemberStatus.INVITED, MemberStatus.JOINED})


class InvitationStatus(enum.StrEnum):
    """One member's place in one round; it never holds the score."""

    QUEUED = "queued"  # the question is in the outbox
    SENT = "sent"  # the question is in the member's chat
    SCORED = "scored"  # a score was stored (anonymously); the comment is awaited
    ANSWERED = "answered"  # comment given or skipped, or the round closed after the score
    EXPIRED = "expired"  # the round closed without a score
    UNREACHABLE = "unreachable"  # Telegram refused the question


OPEN_FOR_SCORE = frozenset({InvitationStatus.QUEUED, InvitationStatus.SENT})
RESPONDED = frozenset({InvitationStatus.SCORED, InvitationStatus.ANSWERED})


class RoundStatus(enum.StrEnum):
    """A round takes answers until it closes; its digest is posted as it closes."""

    OPEN = "open"
    CLOSED = "closed"


def effective_min_group(configured: int) -> int:
    """The smallest group a campaign reports on: the operator's choice, never below three."""
    return max(MIN_ANONYMOUS_GROUP, configured)


@dataclass(frozen=True, slots=True)
class RoundPlan:
    """When a round opened, when its one reminder goes and when it closes."""

    scheduled_for: datetime
    opened_at: datetime
    remind_at: datetime | None
    closes_at: datetime


def plan_round(
    *,
    scheduled_for: datetime,
    now: datetime,
    duration: timedelta,
    remind_after: timedelta | None,
) -> RoundPlan:
    """Times of a round opened ``now`` for the run due at ``scheduled_for``.

    A round caught up after downtime closes when it would have closed on time, so a late start
    shortens it rather than pushing the next round's digest into this one's. A reminder that
    would come at or after the close is dropped.
    """
    if duration <= timedelta(0):
        raise ValueError("a round must last some time")
    closes_at = max(scheduled_for + duration, now)
    remind_at = None
    if remind_after is not None and remind_after > timedelta(0):
        candidate = max(scheduled_for + remind_after, now)
        remind_at = candidate if candidate < closes_at else None
    return RoundPlan(scheduled_for, now, remind_at, closes_at)


def round_to_open(
    last_fire: datetime | None, *, created_at: datetime, now: datetime, duration: timedelta
) -> datetime | None:
    """The scheduled run a round should be opened for now, or None.

    ``last_fire`` is the latest time the campaign's schedule fired up to ``now``. A run before
    the campaign existed is not its round. A run missed while the bot was down is caught up
    while its round would still be open; once that time has passed it is skipped (asking
    about a period long gone would mislead), and the next run opens the next round. Whether
    the round exists already is the storage's question (a unique row).
    """
    if last_fire is None or last_fire < created_at or last_fire > now:
        return None
    if now >= last_fire + duration:
        return None
    return last_fire


@dataclass(frozen=True, slots=True)
class RoundFigures:
    """What a round's digest may say, once the anonymity rule has been applied.

    ``summary`` and ``distribution`` are None when fewer than the minimum answered, and so is
    ``change`` unless both rounds met it: a difference against a small round would give away
    that round's score.
    """

    invited: int
    answered: int
    unreachable: int
    min_group: int
    summary: NpsSummary | None
    distribution: tuple[int, ...] | None
    change: NpsChange | None
    previous_reportable: bool
    had_previous: bool

    @property
    def response_rate(self) -> float | None:
        """Answered of invited (those the question reached), or None when nobody was."""
        return self.answered / self.invited if self.invited else None

    @property
    def reportable(self) -> bool:
        """Whether scores, distribution and comments may be shown."""
        return self.summary is not None


def reportable(answers: int, min_group: int) -> bool:
    """Whether a group of ``answers`` is large enough to report without pointing at anyone."""
    return answers >= effective_min_group(min_group)


def round_figures(
    *,
    scores: Sequence[int],
    invited: int,
    answered: int,
    unreachable: int,
    min_group: int,
    previous_scores: Sequence[int] | None,
) -> RoundFigures:
    """A round's numbers, withheld below the minimum group; ``previous_scores`` None: none."""
    minimum = effective_min_group(min_group)
    shown = reportable(len(scores), minimum)
    previous_ok = previous_scores is not None and reportable(len(previous_scores), minimum)
    summary = summarize(list(scores)) if shown else None
    distribution = tuple(list(scores).count(score) for score in range(11)) if shown else None
    change = None
    if summary is not None and previous_ok and previous_scores is not None:
        change = compare(summary, summarize(list(previous_scores)))
    return RoundFigures(
        invited=invited,
        answered=answered,
        unreachable=unreachable,
        min_group=minimum,
        summary=summary,
        distribution=distribution,
        change=change,
        previous_reportable=previous_ok,
        had_previous=previous_scores is not None,
    )

"""What to do after a Bot API error: retry later, wait out a flood limit, or give up."""

from __future__ import annotations

import enum
import random
import warnings
from dataclasses import dataclass
from datetime import timedelta

from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

MAX_BACKOFF_SECONDS = 300.0


class Verdict(enum.StrEnum):
    """The outcomes of a failed call."""

    RETRY = "retry"  # transient: try again after ``delay``
    FLOOD = "flood"  # 429: wait ``delay`` for this chat, not counted as an attempt
    DELIVERED = "delivered"  # Telegram already has what we wanted (edit "not modified")
    GIVE_UP = "give_up"  # permanent: blocked bot, unknown chat, malformed call


class Cause(enum.StrEnum):
    """Why a call was given up, which decides what happens to what it carried."""

    NONE = "none"
    BLOCKED = "blocked"  # Forbidden: the client blocked the bot (or it was removed from a group)
    NO_CHAT = "no_chat"  # the client never started the bot: Telegram knows no chat with them
    REJECTED = "rejected"  # Telegram refused the call itself (a bug on our side, a moved group)
    EXPIRED = "expired"  # transient failures went on for longer than the call may wait


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict, how long to wait before retrying, and a reason fit for logs (no personal data)."""

    verdict: Verdict
    delay: float
    reason: str
    cause: Cause = Cause.NONE


def backoff(attempts: int, *, rng: random.Random | None = None) -> float:
    """Capped exponential backoff with jitter, so many retries after an outage do not stampede."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 16))
    return (rng or random.Random()).uniform(ceiling / 2, ceiling)  # noqa: S311  (jitter, not crypto)


def retry_after_seconds(error: RetryAfter) -> float:
    """RetryAfter's wait in seconds, whether PTB gives an int or (PTB_TIMEDELTA) a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns that the int form will become a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _forbidden(error: Forbidden) -> Decision:
    if "can't initiate conversation" in error.message.lower():
        return Decision(Verdict.GIVE_UP, 0.0, "user never started the bot", Cause.NO_CHAT)
    return Decision(Verdict.GIVE_UP, 0.0, "forbidden", Cause.BLOCKED)


def _bad_request(error: BadRequest) -> Decision:
    text = error.message.lower()
    if "message is not modified" in text:
        return Decision(Verdict.DELIVERED, 0.0, "not modified")
    if "chat not found" in text or "user not found" in text:
        return Decision(Verdict.GIVE_UP, 0.0, "chat not found", Cause.NO_CHAT)
    return Decision(Verdict.GIVE_UP, 0.0, f"bad request: {error.message}", Cause.REJECTED)


def judge(  # noqa: PLR0911  (one return per kind of error reads best)
    error: Exception, *, attempts: int, age: timedelta, max_age: timedelta
) -> Decision:
    """Classify an exception raised by a Bot API call made for the outbox.

    Transient errors are retried for as long as the call is younger than ``max_age``, so an
    outage of hours loses nothing; only the age, not a count of attempts, ends the retries.
    """
    if isinstance(error, RetryAfter):
        return Decision(Verdict.FLOOD, retry_after_seconds(error), "flood limit (429)")
    if isinstance(error, Forbidden):
        return _forbidden(error)
    if isinstance(error, ChatMigrated):
        reason = f"group became supergroup {error.new_chat_id}: update the configured chat id"
        return Decision(Verdict.GIVE_UP, 0.0, reason, Cause.REJECTED)
    if isinstance(error, BadRequest):
        return _bad_request(error)
    if isinstance(error, TelegramError):  # NetworkError, TimedOut, 5xx: Telegram or the way to it
        if age >= max_age:
            return Decision(Verdict.GIVE_UP, 0.0, f"still failing after {age}", Cause.EXPIRED)
        return Decision(Verdict.RETRY, backoff(attempts), f"transient: {type(error).__name__}")
    # Not Telegram's answer but our own bug (a malformed stored call): retrying cannot help.
    return Decision(Verdict.GIVE_UP, 0.0, f"internal error: {type(error).__name__}", Cause.REJECTED)

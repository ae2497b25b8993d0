"""Survey life cycle: the states a survey moves through and who may move it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

MAX_SURVEY_ID = 2**31 - 1  # survey ids are 32-bit in every supported database


class SurveyStatus(enum.StrEnum):
    """Where a survey is; the database is the only place that remembers it."""

    PENDING = "pending"  # waiting for its due time or for the client to link Telegram
    QUEUED = "queued"  # handed to the outbox, not yet delivered
    SENT = "sent"  # the question is in the client's chat, waiting for a score
    ANSWERED = "answered"  # score stored, waiting for an optional comment
    COMPLETED = "completed"  # comment stored or skipped
    UNREACHABLE = "unreachable"  # Telegram refused delivery (the client blocked the bot)
    CANCELLED = "cancelled"  # the ticket was reopened before the survey went out
    SKIPPED = "skipped"  # a rule said not to survey (throttled, tag, channel, opted out)
    EXPIRED = "expired"  # no score within the survey's lifetime


# QUEUED too: Telegram may deliver the question and the client's tap before the dispatcher has
# recorded the delivery; the press itself then tells which message it was.
OPEN_FOR_SCORE = frozenset({SurveyStatus.QUEUED, SurveyStatus.SENT})
CLOSED = frozenset({SurveyStatus.CANCELLED, SurveyStatus.SKIPPED, SurveyStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class SurveyView:
    """The facts a press or a message is checked against."""

    survey_id: int
    status: SurveyStatus
    client_user_id: int | None
    message_id: int | None
    expires_at: datetime | None = None  # when the question stops taking answers


def press_rejection(  # noqa: PLR0911  (one reason per line reads best)
    survey: SurveyView | None, *, presser_id: int, message_id: int, now: datetime
) -> str | None:
    """Say why a score press must change nothing, or None when it may be recorded.

    callback_data can be forged by anyone, so the press must come from the survey's own client,
    on the survey's own message, while the survey still waits for a score.
    """
    if survey is None:
        return "unknown"
    if survey.client_user_id != presser_id:
        return "not_yours"
    expired = survey.expires_at is not None and now >= survey.expires_at
    if survey.status == SurveyStatus.EXPIRED or (expired and survey.status in OPEN_FOR_SCORE):
        return "expired"  # the sweep may not have marked it yet: the time decides
    if survey.status in CLOSED:
        return "unknown"  # cancelled or skipped: no longer available
    if survey.status not in OPEN_FOR_SCORE:
        return "already_answered"
    if survey.message_id is not None and survey.message_id != message_id:
        return "unknown"  # a button of another message carrying this survey's id: forged
    return None

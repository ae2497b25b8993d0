"""Historical NPS answers from another tool: the columns of an import and the rules for a row.

Pure: a row is a mapping of column name to the text in the file, and the result is either an
``ImportedAnswer`` or a ``RowError`` that says, without quoting the client's words, what is
wrong. The current time and the team's time zone are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from bot.core.nps import MAX_SCORE, MIN_SCORE

COLUMNS: Final = (
    "ticket_id",
    "answered_at",
    "score",
    "comment",
    "customer_id",
    "agent",
    "team",
    "channel",
    "company",
    "language",
)
REQUIRED: Final = ("ticket_id", "answered_at", "score")
# The database's column widths (storage.models): longer text would be refused by PostgreSQL.
_LIMITS: Final = {
    "ticket_id": 255,
    "customer_id": 255,
    "agent": 255,
    "team": 255,
    "channel": 255,
    "company": 255,
    "language": 16,
}
_SCORE: Final = re.compile(r"[0-9]{1,2}")
# NPS dates from 2003; an earlier year is a typo, and year 1 with an offset is not even a UTC time.
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class RowError(ValueError):
    """Why a row cannot be imported; the message names the column, never the client's text."""


@dataclass(frozen=True, slots=True)
class ImportedAnswer:
    """One past answer, attributed as a live one would be."""

    ticket_id: str
    answered_at: datetime  # aware
    score: int
    comment: str | None = None
    customer_id: str | None = None
    agent: str | None = None
    team: str | None = None
    channel: str | None = None
    company: str | None = None
    language: str | None = None


def _text(row: Mapping[str, str], name: str) -> str | None:
    """A trimmed optional value; None when empty; refused when wider than its column."""
    value = (row.get(name) or "").replace("\x00", "").strip()
    if not value:
        return None
    limit = _LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise RowError(f"{name} is longer than {limit} characters")
    return value


def parse_answered_at(text: str, *, tz: ZoneInfo, now: datetime) -> datetime:
    """ISO 8601 with an offset (``...+03:00``, ``...Z``), or a date: local midnight in ``tz``."""
    value = text.strip()
    if not value:
        raise RowError("answered_at is empty")
    try:
        if _DATE.fullmatch(value):
            moment = datetime.combine(date.fromisoformat(value), time(), tzinfo=tz)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(
            "answered_at is not an ISO 8601 time or date (e.g. 2026-10-01T12:30:00+03:00)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RowError("answered_at has no UTC offset: add one (+03:00, Z) or give just a date")
    if moment.year < EARLIEST.year or moment < EARLIEST:
        raise RowError("answered_at is before the year 2000")
    if moment > now:
        raise RowError("answered_at is in the future")
    return moment


def parse_score(text: str) -> int:
    """A whole number from 0 to 10."""
    value = text.strip()
    if not value:
        raise RowError("score is empty")
    if not _SCORE.fullmatch(value) or not MIN_SCORE <= int(value) <= MAX_SCORE:
        raise RowError(f"score must be a whole number from {MIN_SCORE} to {MAX_SCORE}")
    return int(value)


def parse_row(row: Mapping[str, str], *, tz: ZoneInfo, now: datetime) -> ImportedAnswer:
    """Check one row; raises ``RowError`` with the first problem found."""
    ticket_id = _text(row, "ticket_id")
    if ticket_id is None:
        raise RowError("ticket_id is empty")
    answered_at = parse_answered_at(row.get("answered_at") or "", tz=tz, now=now)
    score = parse_score(row.get("score") or "")
    # The comment is kept as typed (as live comments are), only NUL is dropped: PostgreSQL
    # refuses it and no person types it.
    comment = (row.get("comment") or "").replace("\x00", "")
    return ImportedAnswer(
        ticket_id=ticket_id,
        answered_at=answered_at,
        score=score,
        comment=comment if comment.strip() else None,
        customer_id=_text(row, "customer_id"),
        agent=_text(row, "agent"),
        team=_text(row, "team"),
        channel=_text(row, "channel"),
        company=_text(row, "company"),
        language=_text(row, "language"),
    )

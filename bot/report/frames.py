"""Surveys of a time window as a pandas DataFrame with the same dtypes on SQLite and PostgreSQL.

One row per survey, text included: what the digest was once computed from, and what
``bot.report.tally.count_frame`` counts to check the database's counts (``bot.report.aggregates``).
The digest itself no longer reads these rows: a million of them took a gigabyte of memory.

The loader is synchronous on purpose: ``pandas.read_sql`` only understands sync connections, so
async callers hand it one through ``AsyncConnection.run_sync``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import pandas as pd
from sqlalchemy import Select, Table, and_, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Survey, Ticket
from storage.tables import table_of

COLUMNS: Final = (
    "survey_id",
    "ticket",
    "agent",
    "team",
    "company",
    "channel",
    "sent_at",
    "answered_at",
    "score",
    "comment",
    "commented_at",
    "themes",
)
DATETIME_COLUMNS: Final = ("sent_at", "answered_at", "commented_at")
TEXT_COLUMNS: Final = ("ticket", "agent", "team", "company", "channel", "comment", "themes")

# pandas 3 infers microseconds from Python datetimes but seconds for an all-NULL column; one
# fixed unit keeps frames from different weeks and backends comparable and concatenable.
DATETIME_DTYPE: Final = "datetime64[us, UTC]"
# "string" rather than pandas 3's default "str": its missing value is pd.NA, like Int64's.
TEXT_DTYPE: Final = "string"

_SURVEY: Final[Table] = table_of(Survey)
_TICKET: Final[Table] = table_of(Ticket)


def _within(column: ColumnElement[Any], start: datetime, end: datetime) -> ColumnElement[bool]:
    """Half-open [start, end): a boundary instant belongs to exactly one week."""
    return and_(column >= start, column < end)


def survey_window_query(*, start: datetime, end: datetime) -> Select[Any]:
    """Surveys touched in [start, end): sent, scored or commented on in the window.

    All three count because a digest needs this week's answers to last week's surveys, and the
    fate of this week's surveys, from a single read.
    """
    survey = _SURVEY.c
    ticket = _TICKET.c
    return (
        select(
            survey.id.label("survey_id"),
            ticket.external_id.label("ticket"),
            survey.agent.label("agent"),  # attribution frozen at closing time
            survey.team.label("team"),
            survey.company.label("company"),
            survey.channel.label("channel"),
            survey.sent_at.label("sent_at"),
            survey.answered_at.label("answered_at"),
            survey.score.label("score"),
            survey.comment.label("comment"),
            survey.commented_at.label("commented_at"),
            survey.themes.label("themes"),
        )
        .join_from(_SURVEY, _TICKET, survey.ticket_id == ticket.id)
        .where(
            or_(
                _within(survey.sent_at, start, end),
                _within(survey.answered_at, start, end),
                _within(survey.commented_at, start, end),
            )
        )
        .order_by(survey.id)
    )


def normalize_survey_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Give the raw query result fixed dtypes whatever the backend and however many rows.

    read_sql infers dtypes from the values it sees, so an empty week or a column that is NULL
    everywhere would otherwise come back as ``object`` and break comparisons downstream.
    """
    columns: dict[str, pd.Series[Any]] = {
        "survey_id": frame["survey_id"].astype("int64"),
        "score": frame["score"].astype("Int64"),
    }
    for name in TEXT_COLUMNS:
        columns[name] = frame[name].astype(TEXT_DTYPE)
    for name in DATETIME_COLUMNS:
        # utc=True makes SQLite's naive UTC and PostgreSQL's timestamptz the same dtype.
        columns[name] = pd.to_datetime(frame[name], utc=True).astype(DATETIME_DTYPE)
    return pd.DataFrame({name: columns[name] for name in COLUMNS}).reset_index(drop=True)


def load_survey_frame(connection: Connection, *, start: datetime, end: datetime) -> pd.DataFrame:
    """Read the surveys sent, answered or commented on in [start, end), one row per survey.

    Columns (see ``COLUMNS``): ``survey_id`` int64; ``ticket`` (the helpdesk's id), ``agent``,
    ``team``, ``company``, ``channel`` and ``comment`` as ``string`` with pd.NA for missing;
    ``score`` Int64;
    ``sent_at``, ``answered_at`` and ``commented_at`` as ``datetime64[us, UTC]`` with NaT.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end < start:
        raise ValueError("end must not be before start")
    raw = pd.read_sql(survey_window_query(start=start, end=end), connection)
    return normalize_survey_frame(raw)

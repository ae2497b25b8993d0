"""The digest's counts made by the database: a few hundred rows instead of a million.

Reading every survey of two weeks into pandas took longer than the read alone and a gigabyte of
memory (docs/benchmarks.md, "Digest"). The figures only need counts, so the database groups the
answers by slice and score, the sent surveys by slice, and the period's answers by attribution
and score; only the period's comments come back as rows, because the digest quotes them. The
result is the ``bot.report.tally.DigestCounts`` that ``bot.report.tally`` makes from rows, with
the same values and dtypes on SQLite and PostgreSQL.

Text is grouped exactly as stored (no TRIM in SQL: its idea of white space is not Python's), so
names that differ only by spaces are merged afterwards in pandas, as they always were. Loaders
are synchronous for ``AsyncConnection.run_sync``, like ``bot.report.frames``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import pandas as pd
from sqlalchemy import Select, Table, and_, case, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from bot.core.nps import DETRACTOR_MAX
from bot.core.periods import Period
from bot.report.frames import DATETIME_DTYPE, TEXT_DTYPE
from bot.report.tally import (
    COMMENT_COLUMNS,
    GROUP_COLUMNS,
    Bounds,
    DigestCounts,
    normalize_groups,
    normalize_themes,
    per_slice,
    slice_bounds,
)
from storage.models import Survey, SurveyRating, Ticket
from storage.tables import table_of

_SURVEY: Final[Table] = table_of(Survey)
_TICKET: Final[Table] = table_of(Ticket)
_RATING: Final[Table] = table_of(SurveyRating)


def _within(column: ColumnElement[Any], period: Period) -> ColumnElement[bool]:
    """Half-open [start, end), as everywhere in the report."""
    return and_(column >= period.start, column < period.end)


def _sliced(column: ColumnElement[Any], bounds: Bounds) -> tuple[Any, ColumnElement[bool]]:
    """The slice number of ``column`` and the condition that it falls in some slice.

    The numbers are inlined integer literals rather than parameters, so the slice comes back
    as an integer from both drivers without relying on how they type a parameter in a CASE.
    """
    moments = [bound.to_pydatetime() for bound in bounds]
    number = case(
        *((column < moment, literal_column(str(i))) for i, moment in enumerate(moments[1:])),
    )
    return number, and_(column >= moments[0], column < moments[-1])


def _read_slices(
    connection: Connection, query: Select[Any], bounds: Bounds, values: Sequence[str]
) -> pd.DataFrame:
    """Sum ``values`` of ``query`` (``slice``, keys, values) per slice and key, and read it.

    The grouping is done over a subquery so that GROUP BY names the slice column instead of
    repeating the CASE, whose bounds are parameters.
    """
    if len(bounds) < 2:  # no slice at all: every period is empty
        names = [column.name for column in query.selected_columns]
        return per_slice(pd.DataFrame(columns=names), bounds, values)
    inner = query.subquery()
    keys = [column for column in inner.columns if column.name not in values]
    grouped = select(*keys, *(func.sum(inner.c[name]).label(name) for name in values)).group_by(
        *keys
    )
    raw = pd.read_sql(grouped, connection)
    return per_slice(raw.loc[:, [column.name for column in keys] + list(values)], bounds, values)


def load_answer_counts(connection: Connection, bounds: Bounds) -> pd.DataFrame:
    """Scores given per slice of ``bounds`` (``DigestCounts.answers``)."""
    survey = _SURVEY.c
    number, inside = _sliced(survey.answered_at, bounds)
    query = select(
        number.label("slice"), survey.score.label("score"), literal_column("1").label("answers")
    ).where(inside, survey.score.is_not(None))
    return _read_slices(connection, query, bounds, ["answers"])


def load_sent_counts(connection: Connection, bounds: Bounds) -> pd.DataFrame:
    """Surveys sent per slice, and how many of them have a score (``DigestCounts.sent``)."""
    survey = _SURVEY.c
    number, inside = _sliced(survey.sent_at, bounds)
    scored = case((survey.score.is_not(None), literal_column("1")), else_=literal_column("0"))
    query = select(
        number.label("slice"), literal_column("1").label("sent"), scored.label("scored")
    ).where(inside)
    return _read_slices(connection, query, bounds, ["sent", "scored"])


def load_group_counts(connection: Connection, period: Period) -> pd.DataFrame:
    """The period's answers per attribution and score (``DigestCounts.groups``)."""
    survey = _SURVEY.c
    keys = [survey[name] for name in GROUP_COLUMNS] + [survey.score]
    query = (
        select(*keys, func.count().label("answers"))
        .where(_within(survey.answered_at, period), survey.score.is_not(None))
        .group_by(*keys)
    )
    return normalize_groups(pd.read_sql(query, connection))


def load_theme_counts(connection: Connection, period: Period) -> pd.DataFrame:
    """The period's answers per score and stored themes (``DigestCounts.themes``)."""
    survey = _SURVEY.c
    query = (
        select(survey.score, survey.themes, func.count().label("answers"))
        .where(_within(survey.answered_at, period), survey.score.is_not(None))
        .group_by(survey.score, survey.themes)
    )
    return normalize_themes(pd.read_sql(query, connection))


def load_detractor_comments(
    connection: Connection, since: datetime, until: datetime, *, most: int
) -> list[str]:
    """The newest ``most`` detractors' comments written in [since, until), for emerging words."""
    survey = _SURVEY.c
    query = (
        select(survey.comment)
        .where(
            survey.commented_at >= since,
            survey.commented_at < until,
            survey.comment.is_not(None),
            survey.score <= DETRACTOR_MAX,
        )
        .order_by(survey.commented_at.desc())
        .limit(most)
    )
    return [str(text) for text in connection.execute(query).scalars()]


def load_comment_frame(connection: Connection, period: Period) -> pd.DataFrame:
    """Scored surveys commented on in the period, newest first (``DigestCounts.comments``).

    Blank comments are still here: which ones are blank is decided in pandas, with Python's
    idea of white space.
    """
    survey, ticket = _SURVEY.c, _TICKET.c
    query = (
        select(
            survey.id.label("survey_id"),
            ticket.external_id.label("ticket"),
            survey.score.label("score"),
            survey.comment.label("comment"),
            survey.commented_at.label("commented_at"),
            survey.themes.label("themes"),
        )
        .join_from(_SURVEY, _TICKET, survey.ticket_id == ticket.id)
        .where(
            _within(survey.commented_at, period),
            survey.comment.is_not(None),
            survey.score.is_not(None),
        )
        .order_by(survey.commented_at.desc(), survey.id.desc())
    )
    raw = pd.read_sql(query, connection)
    columns: dict[str, Any] = {
        "survey_id": raw["survey_id"].astype("int64"),
        "ticket": raw["ticket"].astype(TEXT_DTYPE),
        "score": raw["score"].astype("Int64"),
        "comment": raw["comment"].astype(TEXT_DTYPE),
        "commented_at": pd.to_datetime(raw["commented_at"], utc=True).astype(DATETIME_DTYPE),
        "themes": raw["themes"].astype(TEXT_DTYPE),
    }
    return pd.DataFrame({name: columns[name] for name in COMMENT_COLUMNS})


def load_digest_counts(
    connection: Connection, *, period: Period, previous: Period, trend: Sequence[Period] = ()
) -> DigestCounts:
    """Everything ``digest_from_counts`` needs for ``period``, ``previous`` and the trend."""
    answer_bounds = slice_bounds([period, previous, *trend])
    sent_bounds = slice_bounds([period, previous])
    return DigestCounts(
        answer_bounds=answer_bounds,
        answers=load_answer_counts(connection, answer_bounds),
        sent_bounds=sent_bounds,
        sent=load_sent_counts(connection, sent_bounds),
        groups=load_group_counts(connection, period),
        comments=load_comment_frame(connection, period),
        themes=load_theme_counts(connection, period),
    )


def load_rating_counts(connection: Connection, period: Period) -> pd.DataFrame:
    """Extra 1..5 answers given in the period: sum and count per question position and label.

    Sums, not averages: SQL's AVG is NUMERIC on PostgreSQL and REAL on SQLite, while an integer
    sum is exact on both, so pandas divides and the mean is the same to the last bit.
    """
    rating = _RATING.c
    query = (
        select(
            rating.question.label("question"),
            rating.label.label("label"),
            func.sum(rating.value).label("total"),
            func.count().label("answers"),
        )
        .where(_within(rating.answered_at, period))
        .group_by(rating.question, rating.label)
        .order_by(rating.question, rating.label)
    )
    raw = pd.read_sql(query, connection)
    return raw.astype(
        {"question": "int64", "label": TEXT_DTYPE, "total": "int64", "answers": "int64"}
    )

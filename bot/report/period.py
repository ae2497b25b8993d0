"""The digest: NPS with its interval, bands, distribution, response rate, breakdowns, the closed
loop and comments of one period against the period before, plus the trend for the chart.

The arithmetic is pandas on counts (``bot.report.tally.DigestCounts``): the database makes them
for ``build_period_digest`` (``bot.report.aggregates``), and ``compute_digest`` makes them from a
frame of rows, so the same functions serve both and are tested without a database. The name is
historical: the period may be a week, a month or any range a manager asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.groups import DEFAULT_MIN_GROUP_SIZE
from bot.core.nps import (
    DETRACTOR_MAX,
    MAX_SCORE,
    MIN_SCORE,
    Interval,
    NpsChange,
    NpsSummary,
    compare,
)
from bot.core.periods import Period
from bot.report.aggregates import (
    load_detractor_comments,
    load_digest_counts,
    load_rating_counts,
)
from bot.report.breakdown import Breakdown, compute_breakdowns
from bot.report.closed_loop import LoopStats, compute_loop, load_case_frame
from bot.report.drivers import Drivers, compute_drivers
from bot.report.frames import COLUMNS
from bot.report.tally import (
    DigestCounts,
    count_answers,
    count_bands,
    count_frame,
    in_period,
    slice_bounds,
    timestamp,
    within,
)
from bot.themes.emerging import EmergingWord, emerging_words
from bot.themes.tagger import Tagger

# Emerging words compare the newest detractors' comments of the period with the earlier ones'.
# A sample this size shows a word that is much more frequent as well as all of them would, and
# keeps the digest's time flat however many comments a period has.
CURRENT_SAMPLE = 2_000
EARLIER_SAMPLE = 10_000


@dataclass(frozen=True, slots=True)
class DigestComment:
    """A client's comment as the digest quotes it."""

    survey_id: int
    ticket: str
    score: int
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """The week's answers to one of the operator's extra 1..5 questions."""

    label: str
    mean: float
    count: int


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One period of the chart: its bands (NPS and interval follow from them)."""

    period: Period
    summary: NpsSummary


@dataclass(frozen=True, slots=True)
class WeeklyDigest:
    """The numbers of one period, with the previous period's for comparison.

    ``nps`` is None rather than 0 when nobody answered: an empty week has no score, and 0 would
    read as "as many detractors as promoters". ``response_rate`` is None when nothing was sent.
    ``previous_bands`` are the previous period's counts, from which ``change`` tells whether the
    difference is beyond noise.
    ``distribution`` counts the answers per score, 0 to 10.
    """

    period: Period
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    surveys_sent: int
    answered_of_sent: int
    response_rate: float | None
    previous_nps: float | None
    nps_change: float | None
    previous_responses: int
    comments: list[DigestComment]
    ratings: tuple[RatingSummary, ...] = ()
    previous_bands: NpsSummary | None = None
    distribution: tuple[int, ...] = (0,) * (MAX_SCORE - MIN_SCORE + 1)
    breakdowns: tuple[Breakdown, ...] = ()
    loop: LoopStats | None = None
    trend: tuple[TrendPoint, ...] = ()
    drivers: Drivers = field(default_factory=Drivers)

    @property
    def summary(self) -> NpsSummary:
        """The period's bands as the core type."""
        return NpsSummary(self.promoters, self.passives, self.detractors)

    @property
    def interval(self) -> Interval | None:
        """The 95% interval of ``nps`` in points; None when nobody answered."""
        return self.summary.interval

    @property
    def change(self) -> NpsChange | None:
        """The change from the previous period and its interval; None when either had no answers."""
        if self.previous_bands is None:
            return None
        return compare(self.summary, self.previous_bands)


@dataclass(frozen=True, slots=True)
class _PeriodFigures:
    """What is computed the same way for the digest's week and the week before."""

    summary: NpsSummary
    surveys_sent: int
    answered_of_sent: int


def _distribution(counts: pd.DataFrame) -> tuple[int, ...]:
    """How many answers gave each score 0..10, zeros included, so the chart has every bar."""
    per_score = counts.groupby("score")["answers"].sum()
    per_score = per_score.reindex(range(MIN_SCORE, MAX_SCORE + 1), fill_value=0)
    return tuple(int(count) for count in per_score.tolist())


def trend_from_counts(counts: DigestCounts, periods: Sequence[Period]) -> tuple[TrendPoint, ...]:
    """Bands per period; ``counts`` must have been made with every one of ``periods``."""
    return tuple(TrendPoint(period, count_bands(counts.answered_in(period))) for period in periods)


def compute_trend(frame: pd.DataFrame, periods: Sequence[Period]) -> tuple[TrendPoint, ...]:
    """Bands per period from rows with ``answered_at`` and ``score`` (``load_score_frame``)."""
    bounds = slice_bounds(periods)
    answers = count_answers(frame, bounds)
    return tuple(
        TrendPoint(period, count_bands(within(answers, bounds, period))) for period in periods
    )


def _figures(counts: DigestCounts, period: Period) -> _PeriodFigures:
    """A score counts in the period it was given; a survey counts as sent in its sending period."""
    sent = counts.sent_in(period)
    return _PeriodFigures(
        summary=count_bands(counts.answered_in(period)),
        surveys_sent=int(sent["sent"].sum()),
        answered_of_sent=int(sent["scored"].sum()),
    )


def _comments(frame: pd.DataFrame, period: Period) -> list[DigestComment]:
    """Non-blank comments written in the period, newest first.

    A comment is only accepted after a score, so a scoreless one is damaged data and is left out
    rather than shown with a made-up score.
    """
    text = frame["comment"].astype("string").str.strip()
    chosen = frame.assign(text=text).loc[
        in_period(frame["commented_at"], period) & text.fillna("").ne("") & frame["score"].notna()
    ]
    chosen = chosen.sort_values(["commented_at", "survey_id"], ascending=False, kind="stable")
    return [
        DigestComment(
            survey_id=int(survey_id),
            ticket=str(ticket),
            score=int(score),
            text=str(comment),
            at=pd.Timestamp(at).to_pydatetime(),
        )
        for survey_id, ticket, score, comment, at in zip(
            chosen["survey_id"].tolist(),
            chosen["ticket"].tolist(),
            chosen["score"].tolist(),
            chosen["text"].tolist(),
            chosen["commented_at"].tolist(),
            strict=True,
        )
    ]


def digest_from_counts(
    counts: DigestCounts,
    *,
    period: Period,
    previous: Period,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> WeeklyDigest:
    """The digest of ``period`` against ``previous`` from counts made for both periods."""
    current = _figures(counts, period)
    before = _figures(counts, previous)
    nps = current.summary.nps
    previous_nps = before.summary.nps
    return WeeklyDigest(
        period=period,
        responses=current.summary.responses,
        promoters=current.summary.promoters,
        passives=current.summary.passives,
        detractors=current.summary.detractors,
        nps=nps,
        surveys_sent=current.surveys_sent,
        answered_of_sent=current.answered_of_sent,
        response_rate=(
            current.answered_of_sent / current.surveys_sent if current.surveys_sent else None
        ),
        previous_nps=previous_nps,
        nps_change=nps - previous_nps if nps is not None and previous_nps is not None else None,
        previous_responses=before.summary.responses,
        comments=_comments(counts.comments, period),
        previous_bands=before.summary,
        distribution=_distribution(counts.answered_in(period)),
        breakdowns=compute_breakdowns(counts.groups, min_group_size=min_group_size),
        drivers=compute_drivers(counts.themes, counts.comments),
    )


def compute_digest(
    frame: pd.DataFrame,
    *,
    period: Period,
    previous: Period,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> WeeklyDigest:
    """Compute the digest of ``period`` from a frame of rows covering [previous.start, period.end).

    The frame must include every survey sent, answered or commented on in that span (what
    ``load_survey_frame`` returns); rows outside both periods are ignored, so a wider frame is fine.
    The rows are counted first, exactly as the database counts them for ``build_period_digest``.
    """
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"survey frame lacks columns: {', '.join(missing)}")
    counts = count_frame(frame, period=period, previous=previous)
    return digest_from_counts(
        counts, period=period, previous=previous, min_group_size=min_group_size
    )


async def build_period_digest(
    engine: AsyncEngine,
    *,
    period: Period,
    previous: Period,
    trend: Sequence[Period] = (),
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    tagger: Tagger | None = None,
) -> WeeklyDigest:
    """Let the database count both periods and the trend, then compute the digest from counts.

    ``trend`` lists the periods of the chart, oldest first (empty: no trend). Only counts, the
    period's comments and its cases are read, so time and memory hardly grow with the answers.
    With a ``tagger``, the detractors' comments of the trend's periods before this one are read
    too, for the emerging words (``bot.themes.emerging``).
    """
    for moment in (period.start, period.end, previous.start, previous.end):
        timestamp(moment)  # refuse naive bounds before any query
    async with engine.connect() as conn:
        counts = await conn.run_sync(
            lambda sync_conn: load_digest_counts(
                sync_conn, period=period, previous=previous, trend=trend
            )
        )
        ratings = await conn.run_sync(lambda sync_conn: load_rating_counts(sync_conn, period))
        cases = await conn.run_sync(lambda sync_conn: load_case_frame(sync_conn, period=period))
        since = min([previous.start, *(p.start for p in trend)])
        earlier = (
            await conn.run_sync(
                lambda sync_conn: load_detractor_comments(
                    sync_conn, since, period.start, most=EARLIER_SAMPLE
                )
            )
            if tagger is not None
            else []
        )
    digest = digest_from_counts(
        counts, period=period, previous=previous, min_group_size=min_group_size
    )
    emerging: tuple[EmergingWord, ...] = ()
    if tagger is not None:
        current = [c.text for c in digest.comments if c.score <= DETRACTOR_MAX][:CURRENT_SAMPLE]
        emerging = emerging_words(current, earlier, tagger)
    return replace(
        digest,
        ratings=summarize_ratings(ratings),
        loop=compute_loop(cases, period),
        trend=trend_from_counts(counts, trend),
        drivers=replace(digest.drivers, emerging=emerging),
    )


def summarize_ratings(frame: pd.DataFrame) -> tuple[RatingSummary, ...]:
    """Mean and count per extra question, in the order the questions are asked.

    ``frame`` has ``question``, ``label``, ``total`` and ``answers`` (``load_rating_counts``); a
    label asked at two positions is one question, placed at the first.
    """
    if frame.empty:
        return ()
    grouped = frame.groupby("label", sort=False).agg(
        total=("total", "sum"), count=("answers", "sum"), order=("question", "min")
    )
    grouped = grouped.sort_values("order", kind="stable")
    return tuple(
        RatingSummary(
            label=str(label),
            mean=float(row["total"]) / float(row["count"]),
            count=int(row["count"]),
        )
        for label, row in grouped.iterrows()
    )

"""The digest: NPS with its margin, bands, distribution, response rate, breakdowns, the closed
loop and comments of one period against the period before, plus the trend for the chart.

Everything except ``build_weekly_digest`` is a pure function of frames (see
``bot.report.frames``), so the arithmetic is tested without a database. The name is historical:
the period may be a week, a month or any range a manager asks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.nps import (
    DETRACTOR_MAX,
    MAX_SCORE,
    MIN_SCORE,
    PROMOTER_MIN,
    NpsChange,
    NpsSummary,
    compare,
)
from bot.core.periods import Period
from bot.report.breakdown import Breakdown, compute_breakdowns
from bot.report.frames import COLUMNS, load_rating_frame, load_score_frame, load_survey_frame
from bot.report.loop import LoopStats, compute_loop, load_case_frame

DEFAULT_MIN_GROUP_SIZE = 5


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
    """One period of the chart: its bands (NPS and margin follow from them)."""

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

    @property
    def summary(self) -> NpsSummary:
        """The period's bands as the core type."""
        return NpsSummary(self.promoters, self.passives, self.detractors)

    @property
    def margin(self) -> float | None:
        """The 95% margin of ``nps`` in points; None when nobody answered."""
        return self.summary.margin

    @property
    def change(self) -> NpsChange | None:
        """The change from the previous period and its margin; None when either had no answers."""
        if self.previous_bands is None:
            return None
        return compare(self.summary, self.previous_bands)


@dataclass(frozen=True, slots=True)
class _PeriodFigures:
    """What is computed the same way for the digest's week and the week before."""

    summary: NpsSummary
    surveys_sent: int
    answered_of_sent: int


def _timestamp(moment: datetime) -> pd.Timestamp:
    """A period bound as a UTC Timestamp; naive bounds are refused, not guessed."""
    if moment.tzinfo is None:
        raise ValueError("period bounds must be timezone-aware")
    return pd.Timestamp(moment).tz_convert("UTC")


def _in_period(moments: pd.Series[pd.Timestamp], period: Period) -> pd.Series[bool]:
    """Rows whose time is in [start, end); NaT compares False, so missing times never count."""
    return (moments >= _timestamp(period.start)) & (moments < _timestamp(period.end))


def _bands(scores: pd.Series[int]) -> NpsSummary:
    """Count scores into bands with the limits of ``bot.core.nps`` (same answer as classify)."""
    invalid = scores[(scores < MIN_SCORE) | (scores > MAX_SCORE)]
    if not invalid.empty:
        # classify() refuses such scores; counting them anywhere would skew the NPS silently.
        raise ValueError(
            f"score must be between {MIN_SCORE} and {MAX_SCORE}, got {int(invalid.iloc[0])}"
        )
    promoters = int((scores >= PROMOTER_MIN).sum())
    detractors = int((scores <= DETRACTOR_MAX).sum())
    return NpsSummary(
        promoters=promoters,
        passives=len(scores) - promoters - detractors,
        detractors=detractors,
    )


def _distribution(scores: pd.Series[int]) -> tuple[int, ...]:
    """How many answers gave each score 0..10, zeros included, so the chart has every bar."""
    counts = scores.value_counts().reindex(range(MIN_SCORE, MAX_SCORE + 1), fill_value=0)
    return tuple(int(count) for count in counts.tolist())


def _answered(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Rows whose score was given in the period: the answers every figure of it is made of."""
    return frame.loc[_in_period(frame["answered_at"], period) & frame["score"].notna()]


def compute_trend(frame: pd.DataFrame, periods: Sequence[Period]) -> tuple[TrendPoint, ...]:
    """Bands per period from a frame with ``answered_at`` and ``score`` (``load_score_frame``)."""
    return tuple(
        TrendPoint(period, _bands(_answered(frame, period)["score"].astype("int64")))
        for period in periods
    )


def _figures(frame: pd.DataFrame, period: Period) -> _PeriodFigures:
    """A score counts in the period it was given; a survey counts as sent in its sending period."""
    scored = frame["score"].notna()
    answered = _in_period(frame["answered_at"], period) & scored
    sent = _in_period(frame["sent_at"], period)
    return _PeriodFigures(
        summary=_bands(frame.loc[answered, "score"].astype("int64")),
        surveys_sent=int(sent.sum()),
        answered_of_sent=int((sent & scored).sum()),
    )


def _comments(frame: pd.DataFrame, period: Period) -> list[DigestComment]:
    """Non-blank comments written in the period, newest first.

    A comment is only accepted after a score, so a scoreless one is damaged data and is left out
    rather than shown with a made-up score.
    """
    text = frame["comment"].astype("string").str.strip()
    chosen = frame.assign(text=text).loc[
        _in_period(frame["commented_at"], period) & text.fillna("").ne("") & frame["score"].notna()
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


def compute_digest(
    frame: pd.DataFrame,
    *,
    period: Period,
    previous: Period,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> WeeklyDigest:
    """Compute the digest of ``period`` from a frame covering [previous.start, period.end).

    The frame must include every survey sent, answered or commented on in that span (what
    ``load_survey_frame`` returns); rows outside both periods are ignored, so a wider frame is fine.
    """
    missing = [name for name in COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"survey frame lacks columns: {', '.join(missing)}")
    current = _figures(frame, period)
    before = _figures(frame, previous)
    nps = current.summary.nps
    previous_nps = before.summary.nps
    answered = _answered(frame, period)
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
        comments=_comments(frame, period),
        previous_bands=before.summary,
        distribution=_distribution(answered["score"].astype("int64")),
        breakdowns=compute_breakdowns(answered, min_group_size=min_group_size),
    )


async def build_weekly_digest(
    engine: AsyncEngine,
    *,
    period: Period,
    previous: Period,
    trend: Sequence[Period] = (),
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> WeeklyDigest:
    """Load both periods in one read, the trend's scores in another, and compute the digest.

    ``trend`` lists the periods of the chart, oldest first (empty: no trend is loaded).
    """
    async with engine.connect() as conn:
        frame = await conn.run_sync(
            lambda sync_conn: load_survey_frame(sync_conn, start=previous.start, end=period.end)
        )
        ratings = await conn.run_sync(
            lambda sync_conn: load_rating_frame(sync_conn, start=period.start, end=period.end)
        )
        cases = await conn.run_sync(lambda sync_conn: load_case_frame(sync_conn, period=period))
        scores = None
        if trend:
            scores = await conn.run_sync(
                lambda sync_conn: load_score_frame(
                    sync_conn, start=trend[0].start, end=trend[-1].end
                )
            )
    digest = compute_digest(frame, period=period, previous=previous, min_group_size=min_group_size)
    return replace(
        digest,
        ratings=summarize_ratings(ratings),
        loop=compute_loop(cases, period),
        trend=() if scores is None else compute_trend(scores, trend),
    )


def summarize_ratings(frame: pd.DataFrame) -> tuple[RatingSummary, ...]:
    """Mean and count per extra question, in the order the questions are asked."""
    if frame.empty:
        return ()
    grouped = frame.groupby("label", sort=False).agg(
        mean=("value", "mean"), count=("value", "size"), order=("question", "min")
    )
    grouped = grouped.sort_values("order")
    return tuple(
        RatingSummary(label=str(label), mean=float(row["mean"]), count=int(row["count"]))
        for label, row in grouped.iterrows()
    )

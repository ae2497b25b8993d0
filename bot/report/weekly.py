"""The weekly digest: NPS, bands, response rate and comments of one week against the week before.

Everything except ``build_weekly_digest`` is a pure function of a survey frame (see
``bot.report.frames``), so the arithmetic is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.nps import DETRACTOR_MAX, MAX_SCORE, MIN_SCORE, PROMOTER_MIN, NpsSummary
from bot.core.periods import Period
from bot.report.frames import COLUMNS, load_rating_frame, load_survey_frame


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
class WeeklyDigest:
    """The numbers of one period, with the previous period's for comparison.

    ``nps`` is None rather than 0 when nobody answered: an empty week has no score, and 0 would
    read as "as many detractors as promoters". ``response_rate`` is None when nothing was sent.
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


def compute_digest(frame: pd.DataFrame, *, period: Period, previous: Period) -> WeeklyDigest:
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
    )


async def build_weekly_digest(
    engine: AsyncEngine, *, period: Period, previous: Period
) -> WeeklyDigest:
    """Load both weeks in one read and compute the digest of ``period``."""
    async with engine.connect() as conn:
        frame = await conn.run_sync(
            lambda sync_conn: load_survey_frame(sync_conn, start=previous.start, end=period.end)
        )
        ratings = await conn.run_sync(
            lambda sync_conn: load_rating_frame(sync_conn, start=period.start, end=period.end)
        )
    digest = compute_digest(frame, period=period, previous=previous)
    return replace(digest, ratings=summarize_ratings(ratings))


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

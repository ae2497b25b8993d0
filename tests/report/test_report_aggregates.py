"""The database's counts against pandas counting the rows, on SQLite and on PostgreSQL.

The digest is built from counts the database makes (bot.report.aggregates); the hand-computed
tests go through the row path (compute_digest). This data set holds the two to the same numbers
at the edges: period bounds to the microsecond, names that differ only by white space, missing
names, blank comments by Python's definition, comments at one instant, damaged rows, answers
weeks back for the trend.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.nps import NpsSummary
from bot.core.periods import Period, periods_up_to
from bot.report.aggregates import load_digest_counts, load_rating_counts
from bot.report.frames import load_survey_frame
from bot.report.period import (
    RatingSummary,
    build_period_digest,
    compute_digest,
    compute_trend,
    summarize_ratings,
)
from bot.report.tally import DigestCounts, count_answers, count_frame
from storage.db import make_session_factory
from storage.models import SurveyRating

from .helpers import PREVIOUS_WEEK, WEEK, at, insert_surveys

MICROSECOND = timedelta(microseconds=1)
TREND = periods_up_to(WEEK, ZoneInfo("UTC"), 4)  # 16 Dec, 23 Dec, 30 Dec, 6 Jan
EARLY = at(17, month=12, year=2024)


def rows() -> list[dict[str, object]]:
    """Answers this week, the week before and two weeks back, with every awkward case."""
    return [
        # This week; " bob " and "bob" are one agent, "Bob" is another.
        {"ticket": "w1", "sent_at": WEEK.start, "answered_at": WEEK.start, "score": 10,
         "agent": "bob", "company": "ACME", "comment": "Great", "commented_at": at(7, 9)},
        {"ticket": "w2", "sent_at": at(6, 13), "answered_at": at(7), "score": 9,
         "agent": " bob ", "company": " ACME", "comment": " \u00a0\t", "commented_at": at(7, 9)},
        {"ticket": "w3", "sent_at": at(7), "answered_at": WEEK.end - MICROSECOND, "score": 3,
         "agent": "Bob", "team": None, "channel": None, "comment": "Slow",
         "commented_at": at(7, 9)},
        {"ticket": "w4", "sent_at": at(8), "answered_at": at(8, 13), "score": 7, "agent": None,
         "team": "", "comment": "ok\n", "commented_at": WEEK.end - MICROSECOND},
        {"ticket": "w5", "sent_at": at(8), "answered_at": at(9), "score": 0, "agent": "",
         "team": "  "},
        {"ticket": "w6", "sent_at": at(9), "answered_at": at(9), "score": 6, "agent": "cid",
         "channel": "chat", "comment": "", "commented_at": at(9, 1)},
        {"ticket": "w7", "sent_at": at(9)},  # sent, never answered
        {"ticket": "w8", "sent_at": at(10), "answered_at": WEEK.end, "score": 8,
         "comment": "next week", "commented_at": WEEK.end},  # scored after the week
        {"ticket": "w9", "sent_at": at(10), "comment": "no score", "commented_at": at(10, 1)},
        {"ticket": "w10", "sent_at": at(11), "answered_at": at(11), "status": "answered"},
        # Damaged: a score without an answer time counts as scored, never as an answer.
        {"ticket": "w11", "sent_at": at(11), "score": 5},
        # The week before, one answered this week with a later thought this week.
        {"ticket": "p1", "sent_at": at(31, month=12, year=2024), "score": 9,
         "answered_at": at(31, 13, month=12, year=2024)},
        {"ticket": "p2", "sent_at": at(5, 23), "answered_at": at(6, 1), "score": 2,
         "agent": "bob", "comment": "later thought", "commented_at": at(8)},
        {"ticket": "p3", "sent_at": WEEK.start - MICROSECOND, "score": 10,
         "answered_at": WEEK.start - MICROSECOND},
        {"ticket": "p4", "sent_at": PREVIOUS_WEEK.start},
        # Before both: only the trend sees them.
        {"ticket": "e1", "sent_at": EARLY, "answered_at": EARLY, "score": 4},
        {"ticket": "e2", "sent_at": EARLY, "answered_at": at(24, month=12, year=2024),
         "score": 10, "comment": "old", "commented_at": at(24, month=12, year=2024)},
        {"ticket": "e3", "sent_at": EARLY, "answered_at": TREND[0].start - MICROSECOND,
         "score": 0},
    ]  # fmt: skip


async def seed(engine: AsyncEngine) -> None:
    ids = await insert_surveys(engine, rows())
    ratings = [("w1", 0, "Speed", 5), ("w2", 0, "Speed", 4), ("w1", 1, "Quality", 3),
               ("w4", 2, "Speed", 1), ("p1", 0, "Speed", 1)]  # fmt: skip
    async with make_session_factory(engine)() as session:
        for ticket, question, label, value in ratings:
            answered = at(1) if ticket.startswith("p") else at(9)
            session.add(
                SurveyRating(
                    survey_id=ids[ticket],
                    question=question,
                    label=label,
                    value=value,
                    answered_at=answered,
                )
            )
        await session.commit()


async def row_frame(engine: AsyncEngine, start: Period, end: Period) -> pd.DataFrame:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: load_survey_frame(sync, start=start.start, end=end.end)
        )


async def database_counts(engine: AsyncEngine) -> DigestCounts:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: load_digest_counts(sync, period=WEEK, previous=PREVIOUS_WEEK, trend=TREND)
        )


def by_comment(frame: pd.DataFrame) -> pd.DataFrame:
    ordered = frame.sort_values(["commented_at", "survey_id"], ascending=False)
    return ordered.reset_index(drop=True)


def by_group(frame: pd.DataFrame) -> pd.DataFrame:
    keys = list(frame.columns[:-1])
    return frame.sort_values(keys, na_position="first").reset_index(drop=True)


async def test_database_counts_are_the_rows_counted(engine: AsyncEngine) -> None:
    await seed(engine)
    frame = await row_frame(engine, PREVIOUS_WEEK, WEEK)
    wide = await row_frame(engine, TREND[0], WEEK)

    counted = await database_counts(engine)
    expected = count_frame(frame, period=WEEK, previous=PREVIOUS_WEEK)

    pd.testing.assert_frame_equal(counted.answers, count_answers(wide, counted.answer_bounds))
    pd.testing.assert_frame_equal(counted.sent, expected.sent)
    pd.testing.assert_frame_equal(by_group(counted.groups), by_group(expected.groups))
    scored = expected.comments.loc[expected.comments["score"].notna()]
    expected_comments = by_comment(scored.loc[scored["comment"].notna()])
    pd.testing.assert_frame_equal(by_comment(counted.comments), expected_comments)
    assert counted.comments["survey_id"].tolist() == expected_comments["survey_id"].tolist()


async def test_built_digest_equals_the_row_digest(engine: AsyncEngine) -> None:
    await seed(engine)
    frame = await row_frame(engine, PREVIOUS_WEEK, WEEK)
    wide = await row_frame(engine, TREND[0], WEEK)

    built = await build_period_digest(engine, period=WEEK, previous=PREVIOUS_WEEK, trend=TREND)

    from_rows = compute_digest(frame, period=WEEK, previous=PREVIOUS_WEEK)
    assert replace(built, ratings=(), loop=None, trend=()) == from_rows
    assert built.trend == compute_trend(wide, TREND)


async def test_built_digest_by_hand(engine: AsyncEngine) -> None:
    await seed(engine)

    built = await build_period_digest(engine, period=WEEK, previous=PREVIOUS_WEEK, trend=TREND)

    # Answered this week: w1 10, w2 9, w3 3, w4 7, w5 0, w6 6, p2 2 -> 2 P, 1 Pa, 4 D of 7.
    assert (built.promoters, built.passives, built.detractors) == (2, 1, 4)
    assert built.distribution == (1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1)
    # Sent this week: w1-w11 = 11; scored (whenever): w1-w6, w8, w11 = 8.
    assert (built.surveys_sent, built.answered_of_sent) == (11, 8)
    # The week before: p1 9, p3 10 answered; sent p1, p2, p3, p4, all but p4 scored.
    assert built.previous_bands == NpsSummary(promoters=2, passives=0, detractors=0)
    assert built.previous_responses == 2
    # Blank by Python's idea of white space (the no-break space too) and unscored: left out.
    # w1 and w3 share an instant: the higher survey id first.
    assert [c.ticket for c in built.comments] == ["w4", "p2", "w3", "w1"]
    assert [c.text for c in built.comments] == ["ok", "later thought", "Slow", "Great"]
    agents = {g.name: g.responses for g in built.breakdowns[0].groups}
    other, not_set = built.breakdowns[0].other, built.breakdowns[0].not_set
    assert agents == {}  # bob (w1, w2, p2), Bob and cid: every named group is under 5
    assert other is not None and (other.responses, built.breakdowns[0].other_groups) == (5, 3)
    assert not_set is not None and not_set.responses == 2  # w4 and w5: never folded or compared
    assert [p.summary for p in built.trend] == [
        NpsSummary(promoters=0, passives=0, detractors=1),  # e1
        NpsSummary(promoters=1, passives=0, detractors=0),  # e2; e3 is before the trend
        NpsSummary(promoters=2, passives=0, detractors=0),
        NpsSummary(promoters=2, passives=1, detractors=4),
    ]
    # Speed at position 0 (5, 4) and 2 (1) is one question; the week before's 1 is not.
    assert built.ratings == (
        RatingSummary(label="Speed", mean=10 / 3, count=3),
        RatingSummary(label="Quality", mean=3.0, count=1),
    )


async def test_groups_merge_names_that_differ_by_white_space(engine: AsyncEngine) -> None:
    await seed(engine)

    built = await build_period_digest(engine, period=WEEK, previous=PREVIOUS_WEEK, min_group_size=1)

    def named(index: int) -> dict[str | None, tuple[int, int, int]]:
        breakdown = built.breakdowns[index]
        groups = [*breakdown.groups, *([breakdown.not_set] if breakdown.not_set else [])]
        return {g.name: (g.responses, g.promoters, g.detractors) for g in groups}

    # None is "not set": w4 (None) and w5 ("") together.
    assert named(0) == {"bob": (3, 2, 1), "Bob": (1, 0, 1), "cid": (1, 0, 1), None: (2, 0, 1)}
    assert {name: counts[0] for name, counts in named(2).items()} == {"ACME": 2, None: 5}
    assert {name: counts[0] for name, counts in named(1).items()} == {"tier-1": 4, None: 3}
    assert built.trend == ()


async def test_ratings_are_means_of_the_period(engine: AsyncEngine) -> None:
    await seed(engine)

    async with engine.connect() as conn:
        counts = await conn.run_sync(lambda sync: load_rating_counts(sync, PREVIOUS_WEEK))

    assert summarize_ratings(counts) == (RatingSummary(label="Speed", mean=1.0, count=1),)


async def test_empty_periods_read_nothing(engine: AsyncEngine) -> None:
    await seed(engine)
    instant = Period(start=WEEK.start, end=WEEK.start)

    built = await build_period_digest(engine, period=instant, previous=instant, trend=[instant])

    assert (built.responses, built.surveys_sent, built.comments) == (0, 0, [])
    assert built.nps is None
    assert built.trend[0].summary.responses == 0


async def test_naive_bounds_are_refused_before_reading(engine: AsyncEngine) -> None:
    naive = Period(start=WEEK.start.replace(tzinfo=None), end=WEEK.end)

    with pytest.raises(ValueError, match="timezone-aware"):
        await build_period_digest(engine, period=naive, previous=PREVIOUS_WEEK)

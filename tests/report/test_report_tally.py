"""Slices: periods that touch, overlap or leave gaps are each the sum of their slices."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from bot.core.nps import NpsSummary
from bot.core.periods import Period
from bot.report.period import compute_trend
from bot.report.tally import count_answers, count_frame, slice_bounds, slice_index

from .helpers import PREVIOUS_WEEK, WEEK, at, make_frame

MICROSECOND = timedelta(microseconds=1)


def test_slice_index_is_half_open_and_ignores_nat() -> None:
    bounds = slice_bounds([PREVIOUS_WEEK, WEEK])
    moments = pd.Series(
        pd.to_datetime(
            [PREVIOUS_WEEK.start - MICROSECOND, PREVIOUS_WEEK.start, WEEK.start - MICROSECOND,
             WEEK.start, WEEK.end - MICROSECOND, WEEK.end, None],
            utc=True,
        )
    )  # fmt: skip

    assert slice_index(moments, bounds).tolist() == [-1, 0, 0, 1, 1, -1, -1]


def test_overlapping_and_gapped_periods_count_each_answer_in_each_of_its_periods() -> None:
    monday_to_thursday = Period(start=at(6), end=at(9))
    wednesday_to_saturday = Period(start=at(8), end=at(11))
    sunday = Period(start=at(12), end=at(13))  # a gap before it
    frame = make_frame(
        [
            {"survey_id": 1, "answered_at": at(6, 13), "score": 10},
            {"survey_id": 2, "answered_at": at(8, 13), "score": 0},  # in both
            {"survey_id": 3, "answered_at": at(11, 13), "score": 9},  # in the gap
            {"survey_id": 4, "answered_at": at(12, 13), "score": 7},
        ]
    )

    trend = compute_trend(frame, [monday_to_thursday, wednesday_to_saturday, sunday])

    assert [point.summary for point in trend] == [
        NpsSummary(promoters=1, passives=0, detractors=1),
        NpsSummary(promoters=0, passives=0, detractors=1),
        NpsSummary(promoters=0, passives=1, detractors=0),
    ]


def test_counts_refuse_a_period_they_were_not_made_for() -> None:
    counts = count_frame(make_frame([]), period=WEEK, previous=PREVIOUS_WEEK)
    half = Period(start=WEEK.start, end=WEEK.start + timedelta(days=3))

    with pytest.raises(ValueError, match="not made for this period"):
        counts.answered_in(half)
    with pytest.raises(ValueError, match="not made for this period"):
        counts.sent_in(half)


def test_empty_frame_counts_keep_their_columns_and_dtypes() -> None:
    bounds = slice_bounds([WEEK])
    answers = count_answers(make_frame([]), bounds)

    assert list(answers.columns) == ["start", "end", "score", "answers"]
    assert str(answers["start"].dtype) == "datetime64[us, UTC]"
    assert answers["answers"].dtype == "int64"

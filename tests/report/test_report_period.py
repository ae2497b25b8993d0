"""compute_digest against numbers worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.nps import summarize
from bot.core.periods import Period
from bot.report.period import DigestComment, compute_digest

from .helpers import PREVIOUS_WEEK, WEEK, at, make_frame

MICROSECOND = timedelta(microseconds=1)


def ten_answers_this_week() -> list[dict[str, object]]:
    """5 promoters (10, 10, 9, 9, 9), 2 passives (8, 7), 3 detractors (6, 3, 0)."""
    scores = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]
    return [
        {"survey_id": number, "sent_at": at(7, 9), "answered_at": at(7, 10 + number), "score": s}
        for number, s in enumerate(scores, start=1)
    ]


def two_weeks() -> list[dict[str, object]]:
    """A previous week and this week with the cases that cross the boundary.

    Previous week: 101 (9), 102 (3), 103 (10), 104 (8) answered in it -> 2 P, 1 Pa, 1 D, NPS 25.0;
    sent in it: 101-106 = 6, of which scored (whenever) 101-105 = 5.
    This week: 201 (10), 202 (2) and 105 (6, sent last week) answered -> 1 P, 0 Pa, 2 D,
    NPS -33.3; sent in it: 201-204 = 4, of which scored 201, 202, 204 (answered next week) = 3.
    """
    return [
        {"survey_id": 101, "sent_at": at(31, month=12, year=2024), "score": 9,
         "answered_at": at(31, 13, month=12, year=2024)},
        {"survey_id": 102, "sent_at": at(1), "answered_at": at(1, 13), "score": 3,
         "comment": "late note", "commented_at": WEEK.start},
        {"survey_id": 103, "sent_at": at(2), "answered_at": at(2, 13), "score": 10},
        {"survey_id": 104, "sent_at": at(3), "answered_at": at(3, 13), "score": 8,
         "comment": "old", "commented_at": at(3, 14)},
        {"survey_id": 105, "sent_at": at(5, 23), "answered_at": at(6, 9), "score": 6,
         "comment": "   ", "commented_at": at(6, 9, 5)},
        {"survey_id": 106, "sent_at": at(4)},
        {"survey_id": 201, "sent_at": at(7), "answered_at": at(7, 13), "score": 10,
         "comment": "Quick and friendly", "commented_at": at(7, 14)},
        {"survey_id": 202, "sent_at": at(8), "answered_at": at(8, 13), "score": 2,
         "comment": "  Slow  ", "commented_at": at(8, 14)},
        {"survey_id": 203, "sent_at": at(9)},
        {"survey_id": 204, "sent_at": WEEK.end - MICROSECOND, "answered_at": WEEK.end,
         "score": 9, "comment": "next week", "commented_at": WEEK.end},
    ]  # fmt: skip


def test_ten_answers_give_nps_20() -> None:
    digest = compute_digest(
        make_frame(ten_answers_this_week()), period=WEEK, previous=PREVIOUS_WEEK
    )

    assert (digest.promoters, digest.passives, digest.detractors) == (5, 2, 3)
    assert digest.responses == 10
    assert digest.nps == pytest.approx(20.0)
    assert digest.surveys_sent == 10
    assert digest.answered_of_sent == 10
    assert digest.response_rate == pytest.approx(1.0)
    assert digest.previous_nps is None
    assert digest.nps_change is None
    assert digest.previous_responses == 0
    assert digest.comments == []
    assert digest.period == WEEK


def test_week_against_previous_week() -> None:
    digest = compute_digest(make_frame(two_weeks()), period=WEEK, previous=PREVIOUS_WEEK)

    assert (digest.promoters, digest.passives, digest.detractors) == (1, 0, 2)
    assert digest.responses == 3
    assert digest.nps == pytest.approx(-100 / 3)
    assert digest.previous_nps == pytest.approx(25.0)
    assert digest.nps_change == pytest.approx(-100 / 3 - 25.0)
    assert digest.previous_responses == 4
    assert digest.surveys_sent == 4
    assert digest.answered_of_sent == 3
    assert digest.response_rate == pytest.approx(0.75)


def test_previous_week_rate_counts_answers_given_later() -> None:
    digest = compute_digest(make_frame(two_weeks()), period=PREVIOUS_WEEK, previous=WEEK)

    # Same frame read the other way round: 6 sent, 5 scored (105 only this week).
    assert digest.surveys_sent == 6
    assert digest.answered_of_sent == 5
    assert digest.response_rate == pytest.approx(5 / 6)
    assert digest.nps == pytest.approx(25.0)


def test_comments_of_the_week_newest_first_and_stripped() -> None:
    digest = compute_digest(make_frame(two_weeks()), period=WEEK, previous=PREVIOUS_WEEK)

    assert digest.comments == [
        DigestComment(survey_id=202, ticket="T-202", score=2, text="Slow", at=at(8, 14)),
        DigestComment(
            survey_id=201, ticket="T-201", score=10, text="Quick and friendly", at=at(7, 14)
        ),
        DigestComment(survey_id=102, ticket="T-102", score=3, text="late note", at=WEEK.start),
    ]
    assert all(comment.at.tzinfo is not None for comment in digest.comments)


def test_comment_without_score_is_left_out() -> None:
    frame = make_frame([{"survey_id": 1, "comment": "no score?", "commented_at": at(7)}])

    assert compute_digest(frame, period=WEEK, previous=PREVIOUS_WEEK).comments == []


def test_week_without_answers_has_no_nps() -> None:
    rows = [row for row in two_weeks() if int(str(row["survey_id"])) < 200]
    rows = [row for row in rows if row["survey_id"] != 105]
    rows.append({"survey_id": 301, "sent_at": at(10)})

    digest = compute_digest(make_frame(rows), period=WEEK, previous=PREVIOUS_WEEK)

    assert digest.responses == 0
    assert (digest.promoters, digest.passives, digest.detractors) == (0, 0, 0)
    assert digest.nps is None
    assert digest.nps_change is None
    assert digest.previous_nps == pytest.approx(25.0)
    assert digest.surveys_sent == 1
    assert digest.answered_of_sent == 0
    assert digest.response_rate == 0.0


def test_empty_frame() -> None:
    digest = compute_digest(make_frame([]), period=WEEK, previous=PREVIOUS_WEEK)

    assert digest.responses == 0
    assert digest.nps is None
    assert digest.previous_nps is None
    assert digest.surveys_sent == 0
    assert digest.response_rate is None
    assert digest.comments == []


def test_period_bounds_are_start_inclusive_end_exclusive() -> None:
    frame = make_frame(
        [
            {"survey_id": 1, "sent_at": WEEK.start, "answered_at": WEEK.start, "score": 10},
            {"survey_id": 2, "sent_at": WEEK.end, "answered_at": WEEK.end, "score": 0},
            {"survey_id": 3, "sent_at": WEEK.start - MICROSECOND, "score": 0,
             "answered_at": WEEK.start - MICROSECOND},
        ]
    )  # fmt: skip

    digest = compute_digest(frame, period=WEEK, previous=PREVIOUS_WEEK)

    assert digest.responses == 1
    assert digest.nps == pytest.approx(100.0)
    assert digest.surveys_sent == 1
    assert digest.previous_nps == pytest.approx(-100.0)


def test_period_in_another_time_zone_is_the_same_instants() -> None:
    tz = ZoneInfo("Europe/Moscow")
    moscow = Period(start=WEEK.start.astimezone(tz), end=WEEK.end.astimezone(tz))
    frame = make_frame(two_weeks())

    assert compute_digest(frame, period=moscow, previous=PREVIOUS_WEEK) == compute_digest(
        frame, period=WEEK, previous=PREVIOUS_WEEK
    )


def test_out_of_range_score_is_refused() -> None:
    frame = make_frame([{"survey_id": 1, "answered_at": at(7), "score": 11}])

    with pytest.raises(ValueError, match="between 0 and 10"):
        compute_digest(frame, period=WEEK, previous=PREVIOUS_WEEK)


def test_naive_period_is_refused() -> None:
    naive = Period(start=datetime(2025, 1, 6), end=datetime(2025, 1, 13))  # noqa: DTZ001

    with pytest.raises(ValueError, match="timezone-aware"):
        compute_digest(make_frame([]), period=naive, previous=PREVIOUS_WEEK)


def test_frame_without_required_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="score"):
        compute_digest(make_frame([]).drop(columns=["score"]), period=WEEK, previous=PREVIOUS_WEEK)


@given(st.lists(st.integers(min_value=0, max_value=10), max_size=60))
def test_bands_agree_with_core_classify(scores: list[int]) -> None:
    frame = make_frame(
        [
            {"survey_id": number, "answered_at": at(7), "score": score}
            for number, score in enumerate(scores)
        ]
    )

    digest = compute_digest(frame, period=WEEK, previous=PREVIOUS_WEEK)

    expected = summarize(scores)
    assert (digest.promoters, digest.passives, digest.detractors) == (
        expected.promoters,
        expected.passives,
        expected.detractors,
    )
    assert digest.nps == expected.nps

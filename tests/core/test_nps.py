"""NPS bands and score: the arithmetic every report rests on."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.nps import Category, classify, summarize


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, Category.DETRACTOR),
        (6, Category.DETRACTOR),
        (7, Category.PASSIVE),
        (8, Category.PASSIVE),
        (9, Category.PROMOTER),
        (10, Category.PROMOTER),
    ],
)
def test_bands_edges(score: int, category: Category) -> None:
    assert classify(score) is category


@pytest.mark.parametrize("score", [-1, 11, 100])
def test_out_of_range_scores_are_refused(score: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 10"):
        classify(score)


def test_summary_by_hand() -> None:
    summary = summarize([10, 9, 9, 10, 9, 7, 8, 0, 3, 6])  # 5 promoters, 2 passives, 3 detractors
    assert (summary.promoters, summary.passives, summary.detractors) == (5, 2, 3)
    assert summary.nps == pytest.approx(20.0)


def test_no_answers_is_no_score_rather_than_zero() -> None:
    assert summarize([]).nps is None


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1))
def test_nps_is_bounded_and_counts_add_up(scores: list[int]) -> None:
    summary = summarize(scores)
    assert summary.responses == len(scores)
    assert summary.nps is not None
    assert -100.0 <= summary.nps <= 100.0

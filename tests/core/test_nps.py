"""NPS bands and score: the arithmetic every report rests on."""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.nps import (
    Category,
    NpsChange,
    NpsSummary,
    classify,
    compare,
    nps_margin,
    nps_variance,
    summarize,
)


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


def test_margin_by_hand() -> None:
    # 5 P, 2 Pa, 3 D of 10: p=0.5, d=0.3; var = 10000 * (0.8 - 0.04) / 10 = 760
    summary = NpsSummary(promoters=5, passives=2, detractors=3)
    assert nps_variance(5, 3, 10) == pytest.approx(760.0)
    assert summary.margin == pytest.approx(1.96 * math.sqrt(760.0))  # 54.03
    assert summary.margin == pytest.approx(54.034, abs=1e-3)


def test_no_answers_has_no_margin() -> None:
    assert NpsSummary(0, 0, 0).margin is None


def test_unanimous_answers_have_zero_margin() -> None:
    assert nps_margin(4, 0, 4) == 0.0
    assert nps_margin(0, 4, 4) == 0.0


@pytest.mark.parametrize(("promoters", "detractors", "n"), [(1, 0, 0), (-1, 0, 3), (2, 2, 3)])
def test_impossible_counts_are_refused(promoters: int, detractors: int, n: int) -> None:
    with pytest.raises(ValueError, match="response"):
        nps_variance(promoters, detractors, n)


def test_change_by_hand() -> None:
    now = NpsSummary(promoters=5, passives=2, detractors=3)  # NPS 20, var 760
    before = NpsSummary(promoters=1, passives=1, detractors=2)  # NPS -25, var 10000*(0.75-1/16)/4
    change = compare(now, before)
    assert change is not None
    assert change.difference == pytest.approx(45.0)
    assert change.margin == pytest.approx(1.96 * math.sqrt(760.0 + 1718.75))  # 97.58
    assert not change.significant


@pytest.mark.parametrize(
    ("difference", "significant"),
    [(20.0, False), (-20.0, False), (20.001, True), (-20.001, True), (0.0, False)],
)
def test_a_change_exactly_at_the_margin_is_not_called_real(
    difference: float, significant: bool
) -> None:
    assert NpsChange(difference=difference, margin=20.0).significant is significant


def test_a_large_change_on_many_answers_is_beyond_noise() -> None:
    now = NpsSummary(promoters=60, passives=30, detractors=10)  # NPS 50, var 10000*0.45/100 = 45
    before = NpsSummary(promoters=30, passives=30, detractors=40)  # NPS -10, var 69
    change = compare(now, before)
    assert change is not None
    assert change.margin == pytest.approx(1.96 * math.sqrt(45.0 + 69.0))  # 20.93
    assert change.significant


def test_no_change_without_answers_on_either_side() -> None:
    assert compare(NpsSummary(1, 0, 0), NpsSummary(0, 0, 0)) is None
    assert compare(NpsSummary(0, 0, 0), NpsSummary(1, 0, 0)) is None


counts = st.tuples(*(st.integers(min_value=0, max_value=500) for _ in range(3)))


@given(counts)
def test_margin_is_bounded(bands: tuple[int, int, int]) -> None:
    assume(sum(bands) > 0)
    summary = NpsSummary(*bands)
    assert summary.margin is not None
    # The variance of a difference of shares never exceeds 100^2 / n (p + d = 1, p = d).
    assert 0.0 <= summary.margin <= 1.96 * 100.0 / math.sqrt(summary.responses) + 1e-9


@given(counts, st.integers(min_value=2, max_value=20))
def test_more_answers_in_the_same_proportions_shrink_the_margin(
    bands: tuple[int, int, int], factor: int
) -> None:
    assume(sum(bands) > 0)
    small = NpsSummary(*bands)
    large = NpsSummary(*(count * factor for count in bands))
    assert small.margin is not None and large.margin is not None
    assert large.margin == pytest.approx(small.margin / math.sqrt(factor), abs=1e-9)


@given(counts, counts)
def test_change_is_antisymmetric_with_one_margin(
    first: tuple[int, int, int], second: tuple[int, int, int]
) -> None:
    assume(sum(first) > 0 and sum(second) > 0)
    forward = compare(NpsSummary(*first), NpsSummary(*second))
    backward = compare(NpsSummary(*second), NpsSummary(*first))
    assert forward is not None and backward is not None
    assert forward.difference == pytest.approx(-backward.difference)
    assert forward.margin == pytest.approx(backward.margin)
    assert forward.significant == backward.significant

"""NPS bands and score: the arithmetic every report rests on."""

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.nps import (
    Category,
    Interval,
    NpsSummary,
    adjusted_shares,
    classify,
    compare,
    nps_interval,
    summarize,
    whole,
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


def interval_by_the_formula(promoters: int, detractors: int, responses: int) -> tuple[float, float]:
    """The issue's formula, written out again with exact fractions until the square root."""
    n = Fraction(responses + 3)
    p = (promoters + Fraction(3, 4)) / n
    d = (detractors + Fraction(3, 4)) / n
    half = 1.96 * math.sqrt(((p + d) - (p - d) ** 2) / n)
    centre = float(p - d)
    return max(-100.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))


def test_six_answers_give_17_between_minus_44_and_66() -> None:
    summary = summarize([10, 10, 9, 7, 3, 0])
    assert summary.nps is not None and summary.interval is not None
    assert (whole(summary.nps), whole(summary.interval.low), whole(summary.interval.high)) == (
        17,
        -44,
        66,
    )


def test_eight_promoters_of_eight_are_100_between_39_and_100_never_plus_minus_0() -> None:
    summary = summarize([9, 10, 10, 9, 10, 10, 9, 10])
    assert summary.nps == 100.0
    assert summary.interval is not None
    assert whole(summary.interval.low) == 39
    assert summary.interval.high == 100.0  # clipped: the adjusted centre + 1.96 SE is 107


def test_no_answers_has_no_interval() -> None:
    assert NpsSummary(0, 0, 0).interval is None
    with pytest.raises(ValueError, match="at least one response"):
        nps_interval(0, 0, 0)


@pytest.mark.parametrize(("promoters", "detractors", "n"), [(1, 0, 0), (-1, 0, 3), (2, 2, 3)])
def test_impossible_counts_are_refused(promoters: int, detractors: int, n: int) -> None:
    with pytest.raises(ValueError, match="response"):
        adjusted_shares(promoters, detractors, n)


@pytest.mark.parametrize(
    ("value", "shown"), [(16.67, 17), (12.5, 13), (-12.5, -13), (-0.4, 0), (0.5, 1), (-44.4, -44)]
)
def test_whole_numbers_round_halves_away_from_zero(value: float, shown: int) -> None:
    assert whole(value) == shown


def test_change_by_hand() -> None:
    now = NpsSummary(promoters=5, passives=2, detractors=3)  # n' 13: p' 5.75/13, d' 3.75/13
    before = NpsSummary(promoters=1, passives=1, detractors=2)  # n' 7: p' 1.75/7, d' 2.75/7
    change = compare(now, before)
    assert change is not None
    assert change.difference == pytest.approx(45.0)  # the plain scores: 20 - (-25)
    p1, d1, p2, d2 = 5.75 / 13, 3.75 / 13, 1.75 / 7, 2.75 / 7
    v1 = ((p1 + d1) - (p1 - d1) ** 2) / 13
    v2 = ((p2 + d2) - (p2 - d2) ** 2) / 7
    centre = 100 * ((p1 - d1) - (p2 - d2))
    half = 100 * 1.96 * math.sqrt(v1 + v2)
    assert change.interval.low == pytest.approx(centre - half)
    assert change.interval.high == pytest.approx(centre + half)
    assert not change.significant  # about -55 to +105


@pytest.mark.parametrize(
    ("low", "high", "significant"),
    [(0.0, 30.0, False), (-30.0, 0.0, False), (0.001, 30.0, True), (-30.0, -0.001, True)],
)
def test_an_interval_that_ends_at_zero_does_not_exclude_it(
    low: float, high: float, significant: bool
) -> None:
    assert Interval(low, high).excludes_zero is significant


def test_a_large_change_on_many_answers_is_beyond_noise() -> None:
    now = NpsSummary(promoters=60, passives=30, detractors=10)
    before = NpsSummary(promoters=30, passives=30, detractors=40)
    change = compare(now, before)
    assert change is not None
    assert change.significant
    assert change.p_value < 0.05
    assert change.interval.low > 30  # about +39 to +80 around the adjusted +59


def test_no_change_without_answers_on_either_side() -> None:
    assert compare(NpsSummary(1, 0, 0), NpsSummary(0, 0, 0)) is None
    assert compare(NpsSummary(0, 0, 0), NpsSummary(1, 0, 0)) is None


counts = st.tuples(*(st.integers(min_value=0, max_value=500) for _ in range(3)))


@given(counts)
def test_the_interval_holds_the_adjusted_centre_within_100_and_matches_the_formula(
    bands: tuple[int, int, int],
) -> None:
    assume(sum(bands) > 0)
    promoters, _, detractors = bands
    summary = NpsSummary(*bands)
    interval = summary.interval
    assert interval is not None
    centre = 100 * adjusted_shares(promoters, detractors, summary.responses).centre
    assert -100.0 <= interval.low <= centre <= interval.high <= 100.0
    assert interval.low < interval.high  # never "± 0", however unanimous
    low, high = interval_by_the_formula(promoters, detractors, summary.responses)
    assert (interval.low, interval.high) == (pytest.approx(low), pytest.approx(high))


@given(counts, st.integers(min_value=2, max_value=20))
def test_more_answers_in_the_same_proportions_narrow_the_interval(
    bands: tuple[int, int, int], factor: int
) -> None:
    assume(sum(bands) > 0)
    small = NpsSummary(*bands).interval
    large = NpsSummary(*(count * factor for count in bands)).interval
    assert small is not None and large is not None
    assert large.high - large.low <= small.high - small.low + 1e-9


@given(counts, counts)
def test_change_is_antisymmetric_with_one_interval(
    first: tuple[int, int, int], second: tuple[int, int, int]
) -> None:
    assume(sum(first) > 0 and sum(second) > 0)
    forward = compare(NpsSummary(*first), NpsSummary(*second))
    backward = compare(NpsSummary(*second), NpsSummary(*first))
    assert forward is not None and backward is not None
    assert forward.difference == pytest.approx(-backward.difference)
    assert forward.interval.low == pytest.approx(-backward.interval.high)
    assert forward.significant == backward.significant
    # The p-value and the interval tell the same story (away from the boundary's rounding).
    assume(min(abs(forward.interval.low), abs(forward.interval.high)) > 1e-6)
    assert (forward.p_value < 0.05) is forward.significant

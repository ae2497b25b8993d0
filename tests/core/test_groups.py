"""Groups against the rest of their breakdown: marked only beyond noise, Holm-corrected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.groups import Standing, holm, rest_of, standings
from bot.core.nps import NpsSummary, compare


def test_holm_by_hand() -> None:
    # m = 4: the smallest must be under 0.0125, the next under 0.05/3, then 0.025, then 0.05.
    assert holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert holm([0.001, 0.012, 0.02, 0.04]) == [True, True, True, True]
    assert holm([0.0124, 0.9]) == [True, False]
    assert holm([0.025, 0.025]) == [False, False]  # exactly at alpha / (m - k) is not rejected
    assert holm([]) == []


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=30))
def test_holm_is_between_bonferroni_and_uncorrected(p_values: list[float]) -> None:
    rejected = holm(p_values)
    m = len(p_values)
    for p, r in zip(p_values, rejected, strict=True):
        if p < 0.05 / m:
            assert r  # Bonferroni's rejections are always Holm's
        if r:
            assert p < 0.05  # and Holm never rejects what one test alone would keep


def test_a_group_far_below_the_rest_is_marked_and_the_rest_are_not() -> None:
    groups = [
        NpsSummary(promoters=10, passives=30, detractors=60),  # NPS -50 on 100
        NpsSummary(promoters=60, passives=30, detractors=10),  # NPS +50 on 100
        NpsSummary(promoters=30, passives=40, detractors=30),  # NPS 0 on 100, as all the rest
    ]
    total = NpsSummary(promoters=105, passives=105, detractors=105)  # and 15 answers not set
    assert standings(groups, total) == [Standing.BELOW, Standing.ABOVE, Standing.WITHIN_NOISE]


def test_eight_promoters_of_eight_against_a_mixed_rest_are_within_noise() -> None:
    # 100 against the rest's 50 looks like a gulf, but eight answers cannot show it beyond noise
    # among ten groups: this is the "chat: 100.0 ± 0.0" a league table would have put first.
    groups = [NpsSummary(8, 0, 0), *(NpsSummary(6, 3, 1) for _ in range(9))]
    total = NpsSummary(8 + 54, 27, 9)
    assert standings(groups, total) == [Standing.WITHIN_NOISE] * 10


def test_a_group_that_is_the_whole_breakdown_has_nothing_to_be_compared_with() -> None:
    only = NpsSummary(3, 1, 1)
    assert standings([only], only) == [Standing.WITHIN_NOISE]


def test_the_rest_is_every_other_answer() -> None:
    assert rest_of(NpsSummary(1, 2, 3), NpsSummary(10, 20, 30)) == NpsSummary(9, 18, 27)


@pytest.mark.parametrize("groups", [2, 5, 20])
def test_identical_groups_are_never_marked(groups: int) -> None:
    same = NpsSummary(40, 30, 30)
    total = NpsSummary(40 * groups, 30 * groups, 30 * groups)
    assert standings([same] * groups, total) == [Standing.WITHIN_NOISE] * groups


def test_a_difference_one_test_would_call_real_is_noise_among_ten_groups() -> None:
    agent = NpsSummary(promoters=33, passives=12, detractors=5)  # NPS 56 on 50
    others = [NpsSummary(promoters=25, passives=15, detractors=10)] * 9  # NPS 30 on 50 each
    total = NpsSummary(33 + 9 * 25, 12 + 9 * 15, 5 + 9 * 10)
    alone = compare(agent, rest_of(agent, total))
    assert alone is not None and alone.significant  # p about 0.02 on its own
    assert standings([agent, *others], total)[0] is Standing.WITHIN_NOISE  # Holm asks 0.005

"""A theme's impact on the NPS: all answers minus those that do not mention it, with noise."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.drivers import impacts, theme_impact
from bot.core.nps import NpsSummary


def test_impact_by_hand() -> None:
    # 120 answers 50/30/40 (NPS 8.3); 30 mention speed, 25 of them detractors. Without them:
    # 48/27/15 of 90 (NPS 36.7), so speed costs 28.3 points.
    total = NpsSummary(promoters=50, passives=30, detractors=40)
    speed = theme_impact("speed", NpsSummary(promoters=2, passives=3, detractors=25), total)
    assert speed is not None
    assert speed.impact == pytest.approx(100 * 10 / 120 - 100 * 33 / 90)
    assert speed.interval.low < speed.impact < speed.interval.high
    assert speed.interval.high < 0


def test_nothing_to_compare_is_no_impact() -> None:
    total = NpsSummary(3, 1, 1)
    assert theme_impact("speed", NpsSummary(0, 0, 0), total) is None  # nobody mentions it
    everybody = theme_impact("speed", total, total)  # its mentions stay, with no impact
    assert everybody is not None
    assert (everybody.mentioning, everybody.impact, everybody.interval) == (total, None, None)
    (found,) = impacts({"speed": total}, total)
    assert (found.impact, found.beyond_noise) == (None, False)


def test_only_drivers_beyond_noise_after_holm_are_called_drivers() -> None:
    total = NpsSummary(promoters=50, passives=30, detractors=40)
    found = impacts(
        {
            "speed": NpsSummary(2, 3, 25),
            "attitude": NpsSummary(15, 3, 2),
            "price": NpsSummary(1, 1, 2),
        },
        total,
    )
    assert [(i.theme, i.beyond_noise) for i in found] == [
        ("speed", True),
        ("attitude", True),
        ("price", False),  # four answers cannot show anything
    ]
    assert found[1].impact > 0  # attitude lifts the score


bands = st.tuples(*(st.integers(min_value=0, max_value=60) for _ in range(3)))


@given(bands, bands)
def test_impact_is_the_gap_weighted_by_the_share_that_mentions_it(
    mentioning: tuple[int, int, int], rest: tuple[int, int, int]
) -> None:
    assume(sum(mentioning) > 0 and sum(rest) > 0)
    total = NpsSummary(*(a + b for a, b in zip(mentioning, rest, strict=True)))
    group, others = NpsSummary(*mentioning), NpsSummary(*rest)
    impact = theme_impact("t", group, total)
    assert impact is not None and group.nps is not None and others.nps is not None
    weight = group.responses / total.responses
    assert impact.impact == pytest.approx(weight * (group.nps - others.nps))
    assert impact.interval.low <= impact.interval.high
    assert abs(impact.interval.low) <= 200 * weight + 1e-9

"""compute_breakdown and the distribution against hand-counted small data sets."""

from __future__ import annotations

import pytest

from bot.core.groups import Standing
from bot.report.breakdown import compute_breakdown
from bot.report.period import compute_digest

from .helpers import PREVIOUS_WEEK, WEEK, at, make_frame


def answers(rows: list[tuple[str | None, int]]) -> list[dict[str, object]]:
    return [
        {"survey_id": n, "agent": agent, "sent_at": at(7), "answered_at": at(8), "score": score}
        for n, (agent, score) in enumerate(rows, start=1)
    ]


# ann: 10, 9, 9, 7, 3 -> 3P 1D of 5, NPS 40; bob: 10, 10, 10, 9, 9, 8 -> 5P of 6, NPS 83.3;
# cid: 0, 2 (NPS -100) is folded; not set: 9 is listed apart, never folded or compared.
ROWS = [
    *[("ann", s) for s in (10, 9, 9, 7, 3)],
    *[("bob", s) for s in (10, 10, 10, 9, 9, 8)],
    ("cid", 0),
    ("cid", 2),
    (None, 9),
]


def test_groups_are_listed_by_size_and_small_ones_folded() -> None:
    frame = make_frame(answers(ROWS))
    breakdown = compute_breakdown(frame, "agent", min_group_size=5)

    assert [(g.name, g.responses, round(g.nps, 1)) for g in breakdown.groups] == [
        ("bob", 6, 83.3),
        ("ann", 5, 40.0),
    ]
    assert breakdown.other is not None
    assert (breakdown.other.responses, breakdown.other_groups) == (2, 1)
    assert breakdown.other.nps == -100.0
    assert breakdown.not_set is not None and breakdown.not_set.responses == 1
    # ann: n' = 8, p' = 3.75 / 8, d' = 1.75 / 8: 25 ± 1.96 * sqrt((0.6875 - 0.0625) / 8) = 25 ± 54.8
    interval = breakdown.groups[1].interval
    assert (interval.low, interval.high) == (
        pytest.approx(-29.78, abs=0.01),
        pytest.approx(79.78, abs=0.01),
    )
    # Thirteen answers cannot tell 83 from 40 beyond noise: nobody is marked.
    assert [g.standing for g in breakdown.groups] == [Standing.WITHIN_NOISE] * 2
    assert breakdown.marked == ()


def test_a_lower_minimum_compares_every_named_group_but_never_the_unset_one() -> None:
    breakdown = compute_breakdown(make_frame(answers(ROWS)), "agent", min_group_size=1)

    assert [g.name for g in breakdown.groups] == ["bob", "ann", "cid"]
    assert breakdown.other is None
    assert breakdown.not_set is not None and breakdown.not_set.standing is Standing.WITHIN_NOISE


def test_groups_beyond_noise_are_marked_above_and_below_the_rest() -> None:
    rows = [
        *[("ann", 10)] * 40,
        *[("ann", 8)] * 10,
        *[("bob", 0)] * 40,
        *[("bob", 8)] * 10,
        *[("cid", s) for s in (10, 8, 3) * 10],
        *[(None, 0)] * 30,  # not set: the worst of all, and never marked
    ]
    breakdown = compute_breakdown(make_frame(answers(rows)), "agent", min_group_size=5)

    standing = {g.name: g.standing for g in breakdown.groups}
    assert standing == {"ann": Standing.ABOVE, "bob": Standing.BELOW, "cid": Standing.WITHIN_NOISE}
    assert [g.name for g in breakdown.marked] == ["ann", "bob"]


def test_equal_sizes_go_by_name() -> None:
    rows = [("b", 10)] * 3 + [("a", 0)] * 3
    breakdown = compute_breakdown(make_frame(answers(rows)), "agent", min_group_size=1)
    assert [g.name for g in breakdown.groups] == ["a", "b"]


def test_refuses_a_minimum_below_one() -> None:
    with pytest.raises(ValueError, match="min_group_size"):
        compute_breakdown(make_frame(answers(ROWS)), "agent", min_group_size=0)


def test_digest_counts_scores_and_breaks_down_only_this_periods_answers() -> None:
    rows = answers(ROWS)
    rows.append(  # answered the week before: neither in the distribution nor in a group
        {"survey_id": 99, "agent": "dan", "sent_at": at(1), "answered_at": at(2), "score": 4}
    )
    digest = compute_digest(make_frame(rows), period=WEEK, previous=PREVIOUS_WEEK)

    # 0, 2, 3, 7, 8 once; 9 five times (ann 2, bob 2, not set 1); 10 four times (ann 1, bob 3)
    assert digest.distribution == (1, 0, 1, 1, 0, 0, 0, 1, 1, 5, 4)
    assert sum(digest.distribution) == digest.responses == 14
    agents = digest.breakdowns[0]
    assert agents.dimension == "agent"
    assert "dan" not in [g.name for g in agents.groups]
    assert [b.dimension for b in digest.breakdowns] == ["agent", "team", "company", "channel"]
    assert digest.previous_bands is not None and digest.previous_bands.detractors == 1

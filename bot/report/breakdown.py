"""NPS by agent, team, company and channel, with small groups folded so noise is not ranked.

A group of three answers can swing 60 points on one client's mood; ranking it next to a group
of fifty would blame or praise someone for chance. Groups below ``min_group_size`` therefore go
into one "other" group, which is shown but never ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pandas as pd

from bot.core.nps import DETRACTOR_MAX, PROMOTER_MIN, nps_margin

DIMENSIONS: Final = ("agent", "team", "company", "channel")


@dataclass(frozen=True, slots=True)
class GroupScore:
    """One group's answers: ``name`` is None when the helpdesk did not say (or for "other")."""

    name: str | None
    responses: int
    promoters: int
    detractors: int

    @property
    def nps(self) -> float:
        """% promoters minus % detractors; a group exists only with at least one answer."""
        return 100.0 * (self.promoters - self.detractors) / self.responses

    @property
    def margin(self) -> float:
        """The 95% margin of the group's NPS."""
        return nps_margin(self.promoters, self.detractors, self.responses)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The groups of one dimension, best NPS first, and the small ones folded together."""

    dimension: str
    groups: tuple[GroupScore, ...]
    other: GroupScore | None = None
    other_groups: int = 0

    @property
    def informative(self) -> bool:
        """Worth a line: at least one ranked group and something to compare it with."""
        return bool(self.groups) and len(self.groups) + self.other_groups >= 2


def compute_breakdown(answered: pd.DataFrame, dimension: str, *, min_group_size: int) -> Breakdown:
    """Group the period's answers (columns ``score`` and ``dimension``) and rank the groups.

    A row is one answer, or ``answers`` of them when the frame has that column: the database
    sends answers with the same name and score counted together (``bot.report.aggregates``).
    A missing or blank name is a group of its own ("not set"): hiding those answers would make
    the named groups look like the whole story. Ties in NPS go to the larger group, then by name,
    so the order never depends on the database's row order.
    """
    if min_group_size < 1:
        raise ValueError("min_group_size must be positive")
    names = answered[dimension].astype("string").str.strip().fillna("")
    scores = answered["score"].astype("int64")
    if "answers" in answered.columns:
        weights = answered["answers"].astype("int64")
    else:
        weights = pd.Series(1, index=answered.index, dtype="int64")
    counted = pd.DataFrame(
        {
            "name": names,
            "responses": weights,
            "promoters": weights.where(scores >= PROMOTER_MIN, 0),
            "detractors": weights.where(scores <= DETRACTOR_MAX, 0),
        }
    )
    grouped = counted.groupby("name", sort=True)[["responses", "promoters", "detractors"]].sum()
    groups = [
        GroupScore(
            name=str(name) or None,
            responses=int(row["responses"]),
            promoters=int(row["promoters"]),
            detractors=int(row["detractors"]),
        )
        for name, row in grouped.iterrows()
    ]
    ranked = sorted(
        (group for group in groups if group.responses >= min_group_size),
        key=lambda group: (-group.nps, -group.responses, group.name or ""),
    )
    small = [group for group in groups if group.responses < min_group_size]
    other = None
    if small:
        other = GroupScore(
            name=None,
            responses=sum(group.responses for group in small),
            promoters=sum(group.promoters for group in small),
            detractors=sum(group.detractors for group in small),
        )
    return Breakdown(
        dimension=dimension, groups=tuple(ranked), other=other, other_groups=len(small)
    )


def compute_breakdowns(answered: pd.DataFrame, *, min_group_size: int) -> tuple[Breakdown, ...]:
    """Every dimension of ``DIMENSIONS``, in that order."""
    return tuple(
        compute_breakdown(answered, dimension, min_group_size=min_group_size)
        for dimension in DIMENSIONS
    )

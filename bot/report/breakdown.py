"""NPS by agent, team, company and channel: who is above or below the rest beyond noise.

A group of three answers can swing 60 points on one client's mood; ranking it next to a group
of fifty would blame or praise someone for chance. So nothing is ranked: groups below
``min_group_size`` go into one "other" group, the answers without a name into "not set" (both
shown, never compared), and each remaining group is compared with the rest of its breakdown,
marked only when the difference is beyond noise after Holm's correction (``bot.core.groups``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import pandas as pd

from bot.core.groups import Standing, standings
from bot.core.nps import DETRACTOR_MAX, PROMOTER_MIN, Interval, NpsSummary, nps_interval

DIMENSIONS: Final = ("agent", "team", "company", "channel")


@dataclass(frozen=True, slots=True)
class GroupScore:
    """One group's answers: ``name`` is None when the helpdesk did not say (or for "other")."""

    name: str | None
    responses: int
    promoters: int
    detractors: int
    standing: Standing = Standing.WITHIN_NOISE

    @property
    def nps(self) -> float:
        """% promoters minus % detractors; a group exists only with at least one answer."""
        return 100.0 * (self.promoters - self.detractors) / self.responses

    @property
    def interval(self) -> Interval:
        """The 95% adjusted Wald interval of the group's NPS."""
        return nps_interval(self.promoters, self.detractors, self.responses)

    @property
    def summary(self) -> NpsSummary:
        """The group's bands as the core type."""
        return NpsSummary(
            promoters=self.promoters,
            passives=self.responses - self.promoters - self.detractors,
            detractors=self.detractors,
        )


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The compared groups of one dimension, largest first, then "not set" and the small ones.

    The order is by answers, then name: neutral, so a list never reads as a league table.
    """

    dimension: str
    groups: tuple[GroupScore, ...]
    other: GroupScore | None = None
    other_groups: int = 0
    not_set: GroupScore | None = None

    @property
    def informative(self) -> bool:
        """Worth a line: at least one compared group and something to compare it with."""
        others = self.other_groups + (self.not_set is not None)
        return bool(self.groups) and len(self.groups) + others >= 2

    @property
    def marked(self) -> tuple[GroupScore, ...]:
        """The groups above the rest (highest NPS first), then those below it (lowest last)."""
        above = [group for group in self.groups if group.standing is Standing.ABOVE]
        below = [group for group in self.groups if group.standing is Standing.BELOW]
        return (
            *sorted(above, key=lambda group: -group.nps),
            *sorted(below, key=lambda group: -group.nps),
        )


def compute_breakdown(answered: pd.DataFrame, dimension: str, *, min_group_size: int) -> Breakdown:
    """Group the period's answers (columns ``score`` and ``dimension``) and compare the groups.

    A row is one answer, or ``answers`` of them when the frame has that column: the database
    sends answers with the same name and score counted together (``bot.report.aggregates``).
    A missing or blank name is "not set": hiding those answers would make the named groups look
    like the whole story, but they are nobody's, so they are never marked. Each group is compared
    with every other answer of the breakdown, "not set" and the small groups included.
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
        if int(row["responses"]) > 0
    ]
    not_set = next((group for group in groups if group.name is None), None)
    named = [group for group in groups if group.name is not None]
    compared = sorted(
        (group for group in named if group.responses >= min_group_size),
        key=lambda group: (-group.responses, group.name or ""),
    )
    small = [group for group in named if group.responses < min_group_size]
    total = _sum(groups)
    marks = standings([group.summary for group in compared], total.summary) if total else []
    return Breakdown(
        dimension=dimension,
        groups=tuple(
            replace(group, standing=mark) for group, mark in zip(compared, marks, strict=True)
        ),
        other=_sum(small),
        other_groups=len(small),
        not_set=not_set,
    )


def _sum(groups: list[GroupScore]) -> GroupScore | None:
    """Groups counted together, nameless; None for no groups."""
    if not groups:
        return None
    return GroupScore(
        name=None,
        responses=sum(group.responses for group in groups),
        promoters=sum(group.promoters for group in groups),
        detractors=sum(group.detractors for group in groups),
    )


def compute_breakdowns(answered: pd.DataFrame, *, min_group_size: int) -> tuple[Breakdown, ...]:
    """Every dimension of ``DIMENSIONS``, in that order."""
    return tuple(
        compute_breakdown(answered, dimension, min_group_size=min_group_size)
        for dimension in DIMENSIONS
    )

"""Which groups of a breakdown differ from the rest beyond noise, after Holm's correction.

Comparing ten agents with the rest at 95% each calls one of them out by chance about every
other digest. Holm's step-down keeps the chance of any false call at 5% for the whole
breakdown, and is never weaker than Bonferroni. It is eight lines, so it is written here rather
than taken from statsmodels, which the product does not otherwise need.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from bot.core.nps import NpsSummary, compare

ALPHA = 0.05  # the chance of any false "above" or "below" in one breakdown
# Groups with fewer answers go into one "other" group (NPSBOT_DIGEST_MIN_GROUP_SIZE's default).
# Here rather than in bot.report.period so that DigestService can default to it without
# importing pandas at start-up.
DEFAULT_MIN_GROUP_SIZE = 5


class Standing(enum.StrEnum):
    """How a group's NPS compares with the rest of its breakdown."""

    ABOVE = "above"
    BELOW = "below"
    WITHIN_NOISE = "within_noise"


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected, in the order given.

    The k-th smallest p-value (from 0) is rejected when it is below ``alpha / (m - k)`` and every
    smaller one was rejected; the first that is not stops the walk. Strictly below, as a change
    exactly at the margin is not called real elsewhere either.
    """
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    rejected = [False] * len(p_values)
    for step, index in enumerate(order):
        if p_values[index] >= alpha / (len(p_values) - step):
            break
        rejected[index] = True
    return rejected


def rest_of(group: NpsSummary, total: NpsSummary) -> NpsSummary:
    """Every answer of the breakdown that is not the group's."""
    return NpsSummary(
        promoters=total.promoters - group.promoters,
        passives=total.passives - group.passives,
        detractors=total.detractors - group.detractors,
    )


def standings(groups: Sequence[NpsSummary], total: NpsSummary) -> list[Standing]:
    """Each group against the rest of ``total`` (which includes the groups), Holm-corrected.

    A group with nothing to compare with (the rest has no answers) stays within noise.
    """
    changes = [compare(group, rest_of(group, total)) for group in groups]
    tested = [(index, change) for index, change in enumerate(changes) if change is not None]
    rejected = holm([change.p_value for _, change in tested])
    result = [Standing.WITHIN_NOISE] * len(groups)
    for (index, change), differs in zip(tested, rejected, strict=True):
        # The interval too, as everywhere else: at the boundary the two may disagree by rounding.
        if differs and change.significant:
            result[index] = Standing.ABOVE if change.adjusted > 0 else Standing.BELOW
    return result

"""How much a theme moves the NPS: the NPS of all answers minus the NPS of those not mentioning it.

With ``n`` answers of which ``m`` mention the theme, that difference is exactly
``(m / n) * (NPS_mentioning - NPS_rest)``: the gap between the two groups, weighted by how many
answers mention the theme. The interval is that weight times the 95% interval of the gap between
two independent samples (adjusted Wald, ``bot.core.nps.compare``), and a theme is a driver only
when the gaps of all themes, tested together, stay beyond noise after Holm's correction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.core.groups import holm, rest_of
from bot.core.nps import Interval, NpsSummary, compare


@dataclass(frozen=True, slots=True)
class Impact:
    """A theme's effect on the NPS, in points, and whether it is beyond noise."""

    theme: str
    mentioning: NpsSummary
    impact: float | None  # None: every answer mentions it, so there is nothing to compare
    interval: Interval | None
    p_value: float
    beyond_noise: bool = False


def theme_impact(theme: str, mentioning: NpsSummary, total: NpsSummary) -> Impact | None:
    """The impact of one theme; None when no answer mentions it. A theme every answer mentions
    has its mentions and no impact: without other answers there is nothing to compare."""
    if mentioning.responses == 0:
        return None
    rest = rest_of(mentioning, total)
    change = compare(mentioning, rest)
    if change is None or total.nps is None or rest.nps is None:
        return Impact(theme=theme, mentioning=mentioning, impact=None, interval=None, p_value=1.0)
    weight = mentioning.responses / total.responses
    gap = change.interval
    return Impact(
        theme=theme,
        mentioning=mentioning,
        impact=total.nps - rest.nps,
        interval=Interval(low=weight * gap.low, high=weight * gap.high),
        p_value=change.p_value,
    )


def impacts(mentions: Mapping[str, NpsSummary], total: NpsSummary) -> list[Impact]:
    """Every theme's impact, largest effect first, with Holm's correction across the themes."""
    found = [
        impact
        for theme, mentioning in mentions.items()
        if (impact := theme_impact(theme, mentioning, total)) is not None
    ]
    # Only themes with something to compare are tested, so only they count for Holm.
    tested = [impact.p_value for impact in found if impact.impact is not None]
    rejected = iter(holm(tested))
    marked = [next(rejected) if impact.impact is not None else False for impact in found]
    result = [
        replace(
            impact,
            beyond_noise=beyond and impact.interval is not None and impact.interval.excludes_zero,
        )
        for impact, beyond in zip(found, marked, strict=True)
    ]
    return sorted(result, key=lambda impact: (-abs(impact.impact or 0.0), impact.theme))

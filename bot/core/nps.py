"""Net Promoter Score arithmetic: the one place that knows where the bands are."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

MIN_SCORE = 0
MAX_SCORE = 10
DETRACTOR_MAX = 6
PROMOTER_MIN = 9


class Category(enum.StrEnum):
    """The three NPS bands a 0..10 answer falls into."""

    DETRACTOR = "detractor"
    PASSIVE = "passive"
    PROMOTER = "promoter"


def is_valid_score(score: int) -> bool:
    """Tell whether ``score`` is an answer the NPS question allows."""
    return MIN_SCORE <= score <= MAX_SCORE


def classify(score: int) -> Category:
    """Return the band of a 0..10 score; raise on anything else so bad data never counts."""
    if not is_valid_score(score):
        raise ValueError(f"score must be between {MIN_SCORE} and {MAX_SCORE}, got {score}")
    if score <= DETRACTOR_MAX:
        return Category.DETRACTOR
    if score >= PROMOTER_MIN:
        return Category.PROMOTER
    return Category.PASSIVE


@dataclass(frozen=True, slots=True)
class NpsSummary:
    """Counts of one period's answers and the score they give."""

    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        """All answers in the period."""
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        """% promoters minus % detractors, or None when nobody answered (0 would be a lie)."""
        if self.responses == 0:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.responses

    @property
    def margin(self) -> float | None:
        """The 95% margin of error of ``nps`` in points, or None when nobody answered."""
        return summary_margin(self)


def summarize(scores: list[int]) -> NpsSummary:
    """Count a list of scores into bands."""
    bands = [classify(score) for score in scores]
    return NpsSummary(
        promoters=bands.count(Category.PROMOTER),
        passives=bands.count(Category.PASSIVE),
        detractors=bands.count(Category.DETRACTOR),
    )


# Two-sided 95% normal quantile: the margin most NPS reports quote.
Z_95 = 1.96


def nps_variance(promoters: int, detractors: int, responses: int) -> float:
    """Variance of the NPS estimate, in NPS points squared.

    The NPS is a difference of two shares of one multinomial sample, so its variance is
    ``100^2 * ((p + d) - (p - d)^2) / n``; the usual binomial formula for one share would
    understate it.
    """
    if responses <= 0:
        raise ValueError("the variance needs at least one response")
    if promoters < 0 or detractors < 0 or promoters + detractors > responses:
        raise ValueError("promoters and detractors must be parts of the responses")
    p = promoters / responses
    d = detractors / responses
    # Rounding may leave a tiny negative number when everybody is in one band.
    return max(0.0, 100.0**2 * ((p + d) - (p - d) ** 2) / responses)


def nps_margin(promoters: int, detractors: int, responses: int) -> float:
    """Half-width of the 95% confidence interval of the NPS, in points."""
    return Z_95 * math.sqrt(nps_variance(promoters, detractors, responses))


def summary_variance(summary: NpsSummary) -> float | None:
    """The variance of a period's NPS, or None when nobody answered."""
    if summary.responses == 0:
        return None
    return nps_variance(summary.promoters, summary.detractors, summary.responses)


def summary_margin(summary: NpsSummary) -> float | None:
    """The 95% margin of a period's NPS, or None when nobody answered."""
    variance = summary_variance(summary)
    return None if variance is None else Z_95 * math.sqrt(variance)


@dataclass(frozen=True, slots=True)
class NpsChange:
    """The NPS difference between two independent periods and whether it is beyond noise."""

    difference: float
    margin: float

    @property
    def significant(self) -> bool:
        """True when the 95% interval of the difference excludes zero.

        A change exactly at the margin is not called real: a report that cries wolf on the
        boundary teaches readers to ignore it.
        """
        return abs(self.difference) > self.margin


def compare(current: NpsSummary, previous: NpsSummary) -> NpsChange | None:
    """The change from ``previous`` to ``current``; None when either period has no answers.

    The periods are independent samples, so the variances add: margin ``1.96*sqrt(v1 + v2)``.
    """
    now, before = current.nps, previous.nps
    v_now, v_before = summary_variance(current), summary_variance(previous)
    if now is None or before is None or v_now is None or v_before is None:
        return None
    return NpsChange(difference=now - before, margin=Z_95 * math.sqrt(v_now + v_before))

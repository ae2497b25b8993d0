"""Net Promoter Score arithmetic: the one place that knows where the bands are."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
    def interval(self) -> Interval | None:
        """The 95% adjusted Wald interval of ``nps`` in points, or None when nobody answered."""
        return summary_interval(self)


def summarize(scores: list[int]) -> NpsSummary:
    """Count a list of scores into bands."""
    bands = [classify(score) for score in scores]
    return NpsSummary(
        promoters=bands.count(Category.PROMOTER),
        passives=bands.count(Category.PASSIVE),
        detractors=bands.count(Category.DETRACTOR),
    )


# Two-sided 95% normal quantile: the interval every NPS report here quotes.
Z_95 = 1.96
# The adjusted Wald interval adds three answers, a quarter of one to each share's count
# (Rocks 2016, The American Statistician 70(4)): n' = n + 3, p' = (P + 3/4) / n'.
ADDED_ANSWERS = 3
ADDED_PER_SHARE = 0.75
LOWEST, HIGHEST = -100.0, 100.0


def whole(value: float) -> int:
    """An NPS as people read it: the nearest whole number, halves away from zero.

    Python's ``round`` sends 12.5 to 12 and -12.5 to -12 (to even), so two periods with the same
    score could print differently; halves away from zero read the same on both sides.
    """
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Interval:
    """A 95% interval in NPS points, ``low <= high``."""

    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval is on one side of zero.

        An interval that ends exactly at zero does not exclude it: a report that cries wolf on
        the boundary teaches readers to ignore it.
        """
        return self.low > 0.0 or self.high < 0.0


@dataclass(frozen=True, slots=True)
class AdjustedShares:
    """The adjusted promoter-minus-detractor share and its variance, as shares (not points)."""

    centre: float
    variance: float


def _check_counts(promoters: int, detractors: int, responses: int) -> None:
    if responses < 0 or promoters < 0 or detractors < 0 or promoters + detractors > responses:
        raise ValueError("promoters and detractors must be parts of the responses")


def adjusted_shares(promoters: int, detractors: int, responses: int) -> AdjustedShares:
    """The adjusted Wald centre ``p' - d'`` and variance ``((p' + d') - (p' - d')^2) / n'``.

    The NPS is a difference of two shares of one multinomial sample; the plain (Wald) variance
    is 0 when everybody is in one band, which would print "100 ± 0" for eight answers. Adding
    three answers spread over the bands keeps the interval honest for small samples, and the
    variance is always positive.
    """
    _check_counts(promoters, detractors, responses)
    n = responses + ADDED_ANSWERS
    p = (promoters + ADDED_PER_SHARE) / n
    d = (detractors + ADDED_PER_SHARE) / n
    return AdjustedShares(centre=p - d, variance=((p + d) - (p - d) ** 2) / n)


def nps_interval(promoters: int, detractors: int, responses: int) -> Interval:
    """The 95% adjusted Wald interval of an NPS in points, clipped to [-100, 100]."""
    if responses <= 0:
        raise ValueError("an interval needs at least one response")
    shares = adjusted_shares(promoters, detractors, responses)
    half = Z_95 * math.sqrt(shares.variance)
    return Interval(
        low=max(LOWEST, 100.0 * (shares.centre - half)),
        high=min(HIGHEST, 100.0 * (shares.centre + half)),
    )


def summary_interval(summary: NpsSummary) -> Interval | None:
    """The 95% interval of a period's NPS, or None when nobody answered."""
    if summary.responses == 0:
        return None
    return nps_interval(summary.promoters, summary.detractors, summary.responses)


def _shares(summary: NpsSummary) -> AdjustedShares:
    return adjusted_shares(summary.promoters, summary.detractors, summary.responses)


@dataclass(frozen=True, slots=True)
class NpsChange:
    """The NPS difference between two independent samples, and how sure it is.

    ``difference`` is of the plain scores people read; the interval is of the adjusted scores
    (``adjusted`` ± 1.96 ``standard_error``, in points), so it need not be centred on it.
    """

    difference: float
    adjusted: float
    standard_error: float

    @property
    def interval(self) -> Interval:
        """The 95% interval of the difference, in points."""
        half = Z_95 * self.standard_error
        return Interval(low=self.adjusted - half, high=self.adjusted + half)

    @property
    def significant(self) -> bool:
        """True when the 95% interval of the difference excludes zero."""
        return self.interval.excludes_zero

    @property
    def p_value(self) -> float:
        """Two-sided normal p-value: below 0.05 exactly when ``significant`` (up to rounding)."""
        return math.erfc(abs(self.adjusted / self.standard_error) / math.sqrt(2.0))


def compare(current: NpsSummary, previous: NpsSummary) -> NpsChange | None:
    """The change from ``previous`` to ``current``; None when either has no answers.

    The two are independent samples, so the adjusted variances add:
    ``(c1 - c2) ± 1.96 * sqrt(v1 + v2)``.
    """
    now, before = current.nps, previous.nps
    if now is None or before is None:
        return None
    a, b = _shares(current), _shares(previous)
    return NpsChange(
        difference=now - before,
        adjusted=100.0 * (a.centre - b.centre),
        standard_error=100.0 * math.sqrt(a.variance + b.variance),
    )

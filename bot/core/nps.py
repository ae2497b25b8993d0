"""Net Promoter Score arithmetic: the one place that knows where the bands are."""

from __future__ import annotations

import enum
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


def summarize(scores: list[int]) -> NpsSummary:
    """Count a list of scores into bands."""
    bands = [classify(score) for score in scores]
    return NpsSummary(
        promoters=bands.count(Category.PROMOTER),
        passives=bands.count(Category.PASSIVE),
        detractors=bands.count(Category.DETRACTOR),
    )

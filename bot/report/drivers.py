"""What drives the score: per theme, its mentions by band and its impact on the NPS, with the
clients' words that mention it, and the words detractors have started to use.

The arithmetic of the impact is pure (``bot.core.drivers``); here it is fed from the period's
answers counted per score and stored themes (``DigestCounts.themes``), so the database sends a
few dozen rows however many answers there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from bot.core.drivers import Impact, impacts
from bot.core.nps import DETRACTOR_MAX, PROMOTER_MIN, NpsSummary
from bot.themes.emerging import EmergingWord
from bot.themes.stored import split_themes

QUOTES_PER_DRIVER: Final = 2


@dataclass(frozen=True, slots=True)
class Quote:
    """A client's comment as a driver quotes it."""

    survey_id: int
    ticket: str
    score: int
    text: str


@dataclass(frozen=True, slots=True)
class Driver:
    """A theme's impact and the comments that show it (detractors' for a theme that pulls the
    score down, promoters' for one that lifts it)."""

    impact: Impact
    quotes: tuple[Quote, ...] = ()

    @property
    def theme(self) -> str:
        return self.impact.theme

    @property
    def mentions(self) -> NpsSummary:
        """The answers mentioning the theme, by band."""
        return self.impact.mentioning


@dataclass(frozen=True, slots=True)
class Drivers:
    """Every theme mentioned in the period, largest impact first, and the emerging words."""

    themes: tuple[Driver, ...] = ()
    emerging: tuple[EmergingWord, ...] = ()
    tagged: int = 0  # answers whose comment has been tagged (with a theme or none)

    @property
    def negative(self) -> tuple[Driver, ...]:
        """Themes that pull the score down beyond noise, the strongest first."""
        found = [d for d in self.themes if d.impact.beyond_noise and d.impact.impact < 0]
        return tuple(sorted(found, key=lambda d: d.impact.impact))

    @property
    def positive(self) -> tuple[Driver, ...]:
        """Themes that lift the score beyond noise, the strongest first."""
        found = [d for d in self.themes if d.impact.beyond_noise and d.impact.impact > 0]
        return tuple(sorted(found, key=lambda d: -d.impact.impact))


def mentions_by_theme(counts: pd.DataFrame) -> dict[str, NpsSummary]:
    """Answers mentioning each theme, by band, from ``score``, ``themes``, ``answers`` rows."""
    bands: dict[str, list[int]] = {}
    for score, stored, answers in zip(
        counts["score"].tolist(),
        counts["themes"].fillna("").tolist(),
        counts["answers"].tolist(),
        strict=True,
    ):
        for theme in split_themes(str(stored)):
            band = bands.setdefault(theme, [0, 0, 0])
            band[0 if score >= PROMOTER_MIN else 2 if score <= DETRACTOR_MAX else 1] += answers
    return {theme: NpsSummary(*band) for theme, band in sorted(bands.items())}


def _quotes(driver: Impact, comments: pd.DataFrame) -> tuple[Quote, ...]:
    """The newest comments of the driver's side that mention its theme."""
    lifted = driver.impact > 0
    chosen: list[Quote] = []
    for survey_id, ticket, score, text, stored in zip(
        comments["survey_id"].tolist(),
        comments["ticket"].tolist(),
        comments["score"].tolist(),
        comments["comment"].tolist(),
        comments["themes"].fillna("").tolist(),
        strict=True,
    ):
        if score is pd.NA or not str(text).strip() or driver.theme not in split_themes(stored):
            continue
        if (score >= PROMOTER_MIN) if lifted else (score <= DETRACTOR_MAX):
            chosen.append(Quote(int(survey_id), str(ticket), int(score), str(text).strip()))
        if len(chosen) == QUOTES_PER_DRIVER:
            break
    return tuple(chosen)


def compute_drivers(
    counts: pd.DataFrame,
    comments: pd.DataFrame,
    total: NpsSummary,
    emerging: Sequence[EmergingWord] = (),
) -> Drivers:
    """The period's drivers from its theme counts and its comments (newest first)."""
    found = impacts(mentions_by_theme(counts), total)
    newest = comments.sort_values(["commented_at", "survey_id"], ascending=False, kind="stable")
    tagged = int(counts.loc[counts["themes"].notna(), "answers"].sum())
    return Drivers(
        themes=tuple(Driver(impact, _quotes(impact, newest)) for impact in found),
        emerging=tuple(emerging),
        tagged=tagged,
    )

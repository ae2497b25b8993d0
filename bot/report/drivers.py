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
from bot.report.tally import count_bands
from bot.themes.emerging import EmergingWord
from bot.themes.stored import SEPARATOR, split_themes

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
    untagged: int = 0  # the period's text comments not tagged yet (stored before themes were)

    @property
    def negative(self) -> tuple[Driver, ...]:
        """Themes that pull the score down beyond noise, the strongest first."""
        found = [d for d in self.themes if d.impact.beyond_noise and (d.impact.impact or 0) < 0]
        return tuple(sorted(found, key=lambda d: d.impact.impact or 0.0))

    @property
    def positive(self) -> tuple[Driver, ...]:
        """Themes that lift the score beyond noise, the strongest first."""
        found = [d for d in self.themes if d.impact.beyond_noise and (d.impact.impact or 0) > 0]
        return tuple(sorted(found, key=lambda d: -(d.impact.impact or 0.0)))


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
    """The newest comments of the driver's side that mention its theme (vectorised: a period of
    a million answers has a couple of hundred thousand comments). None without an impact."""
    if driver.impact is None:
        return ()
    scores = comments["score"]
    side = scores >= PROMOTER_MIN if (driver.impact or 0.0) > 0 else scores <= DETRACTOR_MAX
    stored = SEPARATOR + comments["themes"].fillna("") + SEPARATOR
    mentions = stored.str.contains(f"{SEPARATOR}{driver.theme}{SEPARATOR}", regex=False)
    text = comments["comment"].astype("string").str.strip()
    chosen = (
        comments.assign(text=text)
        .loc[side.fillna(False) & mentions.fillna(False) & text.fillna("").ne("")]
        .head(QUOTES_PER_DRIVER)
    )
    return tuple(
        Quote(int(survey_id), str(ticket), int(score), str(words))
        for survey_id, ticket, score, words in zip(
            chosen["survey_id"].tolist(),
            chosen["ticket"].tolist(),
            chosen["score"].tolist(),
            chosen["text"].tolist(),
            strict=True,
        )
    )


def compute_drivers(
    counts: pd.DataFrame,
    comments: pd.DataFrame,
    emerging: Sequence[EmergingWord] = (),
) -> Drivers:
    """The period's drivers from its theme counts and its comments (newest first).

    The total is counted from the same rows as the mentions, so the two always agree, even when
    a score changed between the digest's queries.
    """
    found = impacts(mentions_by_theme(counts), count_bands(counts))
    newest = comments.sort_values(["commented_at", "survey_id"], ascending=False, kind="stable")
    tagged = int(counts.loc[counts["themes"].notna(), "answers"].sum())
    texts = comments["comment"].astype("string").str.strip().fillna("")
    untagged = int((comments["themes"].isna() & texts.ne("") & comments["score"].notna()).sum())
    return Drivers(
        themes=tuple(Driver(impact, _quotes(impact, newest)) for impact in found),
        emerging=tuple(emerging),
        tagged=tagged,
        untagged=untagged,
    )

"""The digest's raw material in counted form: answers per score, not one row per survey.

A digest over a million responses needs a few hundred numbers, not a million rows. So the
database counts (``bot.report.aggregates``) and pandas does the arithmetic on the counts
(``bot.report.period``). This module defines the counted form and counts a frame of rows into
it the same way, for small frames and for the tests that hold the database's counts to it.

Periods are cut into *slices*: the spans between consecutive bounds of all the periods asked
for. Every period is a union of slices, so one pass counts per slice, and a period's figures are
the sum of its slices whether the periods touch (a trend), overlap or leave gaps between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from bot.core.nps import DETRACTOR_MAX, MAX_SCORE, MIN_SCORE, PROMOTER_MIN, NpsSummary
from bot.core.periods import Period
from bot.report.frames import DATETIME_DTYPE, TEXT_DTYPE

GROUP_COLUMNS: Final = ("agent", "team", "company", "channel")
COMMENT_COLUMNS: Final = ("survey_id", "ticket", "score", "comment", "commented_at", "themes")

Bounds = tuple[pd.Timestamp, ...]


def timestamp(moment: datetime) -> pd.Timestamp:
    """A period bound as a UTC Timestamp; naive bounds are refused, not guessed."""
    if moment.tzinfo is None:
        raise ValueError("period bounds must be timezone-aware")
    return pd.Timestamp(moment).tz_convert("UTC").as_unit("us")


def slice_bounds(periods: Iterable[Period]) -> Bounds:
    """Every start and end of ``periods``, sorted and once each: slice i is [b[i], b[i + 1])."""
    moments = {timestamp(bound) for period in periods for bound in (period.start, period.end)}
    return tuple(sorted(moments))


@dataclass(frozen=True, slots=True)
class DigestCounts:
    """What a digest is computed from (``bot.report.period.digest_from_counts``).

    - ``answers``: ``start``, ``end`` (a slice of ``answer_bounds``), ``score``, ``answers``:
      scores given per slice;
    - ``sent``: ``start``, ``end`` (a slice of ``sent_bounds``), ``sent``, ``scored``: surveys
      sent per slice, and how many of them have a score, whenever it was given;
    - ``groups``: ``agent``, ``team``, ``company``, ``channel``, ``score``, ``answers``: the
      period's answers, those with the same attribution and score counted together;
    - ``comments``: ``COMMENT_COLUMNS`` of the surveys commented on in the period;
    - ``themes``: ``score``, ``themes``, ``answers``: the period's answers per score and stored
      themes (``bot.themes.stored``; NA for an answer without a tagged comment).

    The trend needs answers over many periods but sent surveys only over two, hence two sets of
    bounds. A period whose bounds are not among them is not a union of slices, so it is refused
    rather than summed wrongly.
    """

    answer_bounds: Bounds
    answers: pd.DataFrame
    sent_bounds: Bounds
    sent: pd.DataFrame
    groups: pd.DataFrame
    comments: pd.DataFrame
    themes: pd.DataFrame

    def answered_in(self, period: Period) -> pd.DataFrame:
        """The ``answers`` rows of ``period``."""
        return within(self.answers, self.answer_bounds, period)

    def sent_in(self, period: Period) -> pd.DataFrame:
        """The ``sent`` rows of ``period``."""
        return within(self.sent, self.sent_bounds, period)


def within(frame: pd.DataFrame, bounds: Bounds, period: Period) -> pd.DataFrame:
    """The rows of a sliced frame made with ``bounds`` whose slice lies in ``period``."""
    start, end = timestamp(period.start), timestamp(period.end)
    if start not in bounds or end not in bounds:
        raise ValueError("the counts were not made for this period")
    return frame.loc[(frame["start"] >= start) & (frame["end"] <= end)]


def _ticks(moments: Any) -> Any:
    """Microseconds since the epoch as int64; NaT becomes the smallest int64."""
    naive = pd.Series(moments).astype(DATETIME_DTYPE).dt.tz_localize(None)
    return naive.to_numpy(dtype="datetime64[us]").astype("int64")


def slice_index(moments: pd.Series[Any], bounds: Bounds) -> pd.Series[int]:
    """The slice each moment falls in, or -1 outside every slice (NaT included)."""
    edges = _ticks(list(bounds)) if bounds else np.array([], dtype="int64")
    index = np.searchsorted(edges, _ticks(moments), side="right") - 1
    inside = moments.notna().to_numpy() & (index >= 0) & (index < len(edges) - 1)
    return pd.Series(np.where(inside, index, -1), index=moments.index, dtype="int64")


def per_slice(frame: pd.DataFrame, bounds: Bounds, values: Sequence[str]) -> pd.DataFrame:
    """Sum ``values`` per slice and remaining keys; the slice number becomes ``start``/``end``.

    The database's counts come through here too, so both sources end up with one row per key,
    in one order, with one set of dtypes.
    """
    keys = [name for name in frame.columns if name not in ("slice", *values)]
    frame = frame.astype(dict.fromkeys(["slice", *keys, *values], "int64"))
    grouped = frame.groupby(["slice", *keys], sort=True)[list(values)].sum().reset_index()
    edges = pd.DatetimeIndex(list(bounds), dtype=DATETIME_DTYPE)
    positions = grouped["slice"].to_numpy(dtype="int64")
    columns: dict[str, Any] = {
        "start": pd.Series(edges[positions], dtype=DATETIME_DTYPE),
        "end": pd.Series(edges[positions + 1], dtype=DATETIME_DTYPE),
    }
    columns.update({name: grouped[name].astype("int64") for name in [*keys, *values]})
    return pd.DataFrame(columns)


def count_answers(frame: pd.DataFrame, bounds: Bounds) -> pd.DataFrame:
    """Scores given per slice, from rows with ``answered_at`` and ``score``."""
    index = slice_index(frame["answered_at"], bounds)
    chosen = ((index >= 0) & frame["score"].notna()).to_numpy()
    rows = pd.DataFrame({"slice": index[chosen], "score": frame["score"][chosen], "answers": 1})
    return per_slice(rows, bounds, ["answers"])


def count_sent(frame: pd.DataFrame, bounds: Bounds) -> pd.DataFrame:
    """Surveys sent per slice and how many of them have a score, from rows with ``sent_at``."""
    index = slice_index(frame["sent_at"], bounds)
    chosen = (index >= 0).to_numpy()
    scored = frame["score"][chosen].notna()
    rows = pd.DataFrame({"slice": index[chosen], "sent": 1, "scored": scored})
    return per_slice(rows, bounds, ["sent", "scored"])


def count_groups(answered: pd.DataFrame) -> pd.DataFrame:
    """Answers with the same attribution and score counted together; names kept as stored."""
    keys = [*GROUP_COLUMNS, "score"]
    grouped = answered.groupby(keys, sort=True, dropna=False).size()
    return normalize_groups(grouped.rename("answers").reset_index())


def count_bands(counts: pd.DataFrame) -> NpsSummary:
    """Count answers (``score``, ``answers``) into bands with the limits of ``bot.core.nps``."""
    scores, answers = counts["score"], counts["answers"]
    invalid = scores[((scores < MIN_SCORE) | (scores > MAX_SCORE)) & (answers > 0)]
    if not invalid.empty:
        # classify() refuses such scores; counting them anywhere would skew the NPS silently.
        raise ValueError(
            f"score must be between {MIN_SCORE} and {MAX_SCORE}, got {int(invalid.iloc[0])}"
        )
    promoters = int(answers[scores >= PROMOTER_MIN].sum())
    detractors = int(answers[scores <= DETRACTOR_MAX].sum())
    return NpsSummary(
        promoters=promoters,
        passives=int(answers.sum()) - promoters - detractors,
        detractors=detractors,
    )


def count_themes(answered: pd.DataFrame) -> pd.DataFrame:
    """Answers with the same score and stored themes counted together."""
    grouped = answered.groupby(["score", "themes"], sort=True, dropna=False).size()
    return normalize_themes(grouped.rename("answers").reset_index())


def normalize_themes(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed dtypes for a theme count frame whoever counted it."""
    return pd.DataFrame(
        {
            "score": frame["score"].astype("int64"),
            "themes": frame["themes"].astype(TEXT_DTYPE),
            "answers": frame["answers"].astype("int64"),
        }
    ).reset_index(drop=True)


def normalize_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed dtypes for a group count frame whoever counted it, and however many rows it has."""
    columns: dict[str, Any] = {name: frame[name].astype(TEXT_DTYPE) for name in GROUP_COLUMNS}
    columns["score"] = frame["score"].astype("int64")
    columns["answers"] = frame["answers"].astype("int64")
    return pd.DataFrame(columns).reset_index(drop=True)


def in_period(moments: pd.Series[Any], period: Period) -> pd.Series[bool]:
    """Rows whose time is in [start, end); NaT compares False, so missing times never count."""
    return (moments >= timestamp(period.start)) & (moments < timestamp(period.end))


def answered_rows(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Rows whose score was given in the period: the answers every figure of it is made of."""
    return frame.loc[in_period(frame["answered_at"], period) & frame["score"].notna()]


def count_frame(frame: pd.DataFrame, *, period: Period, previous: Period) -> DigestCounts:
    """Count a survey frame (``bot.report.frames.load_survey_frame``) as the database would."""
    bounds = slice_bounds([period, previous])
    comments = frame.loc[in_period(frame["commented_at"], period), list(COMMENT_COLUMNS)]
    return DigestCounts(
        answer_bounds=bounds,
        answers=count_answers(frame, bounds),
        sent_bounds=bounds,
        sent=count_sent(frame, bounds),
        groups=count_groups(answered_rows(frame, period)),
        themes=count_themes(answered_rows(frame, period)),
        comments=comments.reset_index(drop=True),
    )

"""The trend over periods and its PNG chart."""

from __future__ import annotations

import gettext
import struct
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from bot.core.nps import NpsSummary
from bot.core.periods import last_full_week, periods_up_to
from bot.report.chart import render_trend_chart
from bot.report.weekly import TrendPoint, compute_trend

from .helpers import WEEK, at

MOSCOW = ZoneInfo("Europe/Moscow")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_trend_counts_each_periods_answers() -> None:
    weeks = periods_up_to(WEEK, ZoneInfo("UTC"), 3)  # 23 Dec, 30 Dec, 6 Jan
    frame = pd.DataFrame(
        {
            "answered_at": pd.to_datetime(
                [at(24, month=12, year=2024), at(7), at(8), at(9), WEEK.end], utc=True
            ),
            "score": [3, 10, 9, 0, 10],
        }
    )

    trend = compute_trend(frame, weeks)

    assert [point.summary for point in trend] == [
        NpsSummary(promoters=0, passives=0, detractors=1),
        NpsSummary(promoters=0, passives=0, detractors=0),  # a week with no answers
        NpsSummary(promoters=2, passives=0, detractors=1),  # WEEK.end belongs to the next week
    ]
    assert trend[1].summary.nps is None


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


def twelve_weeks() -> list[TrendPoint]:
    weeks = periods_up_to(last_full_week(datetime(2026, 11, 23, tzinfo=UTC), MOSCOW), MOSCOW, 12)
    return [
        TrendPoint(week, NpsSummary(n, 3, 0 if n % 4 == 1 else n % 3))  # some empty weeks
        for n, week in enumerate(weeks)
    ]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_chart_is_an_800_by_600_png(language: str) -> None:
    data = render_trend_chart(
        twelve_weeks(), tz=MOSCOW, translator=gettext.NullTranslations(), language=language
    )
    assert png_size(data) == (800, 600)


def test_chart_needs_a_period() -> None:
    with pytest.raises(ValueError, match="at least one"):
        render_trend_chart([], tz=MOSCOW, translator=gettext.NullTranslations(), language="en")

"""The trend over periods and its PNG chart."""

from __future__ import annotations

import gettext
import math
import struct
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from bot.core.nps import NpsSummary
from bot.core.periods import last_full_week, periods_up_to
from bot.report.chart import render_trend_chart, trend_figure
from bot.report.period import TrendPoint, compute_trend

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


def weeks_with(counts: list[tuple[int, int, int]]) -> list[TrendPoint]:
    weeks = periods_up_to(
        last_full_week(datetime(2026, 11, 23, tzinfo=UTC), MOSCOW), MOSCOW, len(counts)
    )
    return [TrendPoint(week, NpsSummary(*c)) for week, c in zip(weeks, counts, strict=True)]


def test_chart_draws_the_interval_as_a_band_and_labels_whole_numbers() -> None:
    points = weeks_with([(6, 2, 2), (3, 3, 4), (0, 0, 0), (5, 0, 5)])
    figure = trend_figure(points, tz=MOSCOW, translator=gettext.NullTranslations(), language="en")
    top, _bottom = figure.axes

    (line,) = [line for line in top.get_lines() if line.get_marker() == "o"]
    nps = list(line.get_ydata())
    assert nps[:2] == [40.0, -10.0] and math.isnan(nps[2]) and nps[3] == 0.0
    (band,) = top.collections[:1]
    ys = band.get_paths()[0].vertices[:, 1]
    first, second = points[0].summary.interval, points[1].summary.interval
    assert first is not None and second is not None
    # The band runs between the ends of the adjusted intervals over the first two weeks.
    assert min(ys) == pytest.approx(min(first.low, second.low))
    assert max(ys) == pytest.approx(max(first.high, second.high))
    # The last week stands alone after an empty one: its band is an error bar of its interval,
    # which is not centred on the NPS, so the bar runs between the interval's own ends.
    (bar,) = [c for c in top.containers if isinstance(c, ErrorbarContainer)]
    (segment,) = bar.lines[2][0].get_segments()
    last = points[3].summary.interval
    assert last is not None
    assert [tuple(p) for p in segment] == [
        (3, pytest.approx(last.low)),
        (3, pytest.approx(last.high)),
    ]
    assert [text.get_text() for text in top.texts] == ["40", "-10", "0"]


def test_chart_stacks_detractors_passives_and_promoters_to_100_percent() -> None:
    points = weeks_with([(6, 2, 2), (0, 0, 0), (1, 1, 2)])
    figure = trend_figure(points, tz=MOSCOW, translator=gettext.NullTranslations(), language="en")
    _top, bottom = figure.axes

    detractors, passives, promoters = bottom.containers
    week = 0  # 2 detractors, 2 passives, 6 promoters of 10, stacked from the bottom
    spans = [
        (bars[week].get_y(), bars[week].get_height()) for bars in (detractors, passives, promoters)
    ]
    assert spans == [(0, 20.0), (20.0, 20.0), (40.0, 60.0)]
    assert [bars[1].get_height() for bars in (detractors, passives, promoters)] == [0, 0, 0]
    assert sum(bars[2].get_height() for bars in (detractors, passives, promoters)) == 100.0


def test_a_lone_single_answer_whose_nps_lies_outside_its_interval_still_draws() -> None:
    # One promoter: NPS 100, but the adjusted interval runs from -49 to 98.5.
    points = weeks_with([(0, 0, 0), (1, 0, 0), (0, 0, 0)])
    figure = trend_figure(points, tz=MOSCOW, translator=gettext.NullTranslations(), language="en")
    top, _bottom = figure.axes
    (bar,) = [c for c in top.containers if isinstance(c, ErrorbarContainer)]
    (segment,) = bar.lines[2][0].get_segments()
    interval = points[1].summary.interval
    assert interval is not None and interval.high < 100
    assert [tuple(p) for p in segment] == [
        (1, pytest.approx(interval.low)),
        (1, pytest.approx(interval.high)),
    ]
    assert [text.get_text() for text in top.texts] == ["100"]

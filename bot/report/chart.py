"""The digest's picture: NPS per period with its 95% interval as a band, and the bands' shares.

Only matplotlib's object API is used: pyplot keeps global figures and picks a GUI backend, which a
server must not do. Rendering is synchronous and CPU-bound; callers run it in a worker thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_percent
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from bot.i18n import Translator
from bot.report.markup import Markup
from bot.report.period import TrendPoint

PROMOTER_COLOUR = "#2e7d32"
PASSIVE_COLOUR = "#9e9e9e"
DETRACTOR_COLOUR = "#c62828"
NPS_COLOUR = "#1565c0"


def _label(point: TrendPoint, tz: ZoneInfo, locale: str) -> str:
    """A period named by its first local day, short enough for twelve ticks."""
    first = point.period.start.astimezone(tz).date()
    last = (point.period.end - timedelta(microseconds=1)).astimezone(tz).date()
    if first.day == 1 and last.month == first.month and (last + timedelta(days=1)).day == 1:
        return format_date(first, format="LLL yy", locale=locale)
    return format_date(first, format="d MMM", locale=locale)


def _isolated(values: Sequence[float]) -> list[int]:
    """Points with no neighbour to share a band with: fill_between would draw them as nothing."""

    def present(index: int) -> bool:
        return 0 <= index < len(values) and not math.isnan(values[index])

    return [
        i for i in range(len(values)) if present(i) and not present(i - 1) and not present(i + 1)
    ]


def render_trend_chart(
    points: Sequence[TrendPoint], *, tz: ZoneInfo, translator: Translator, language: str
) -> bytes:
    """A PNG of the trend: periods without answers leave gaps instead of pretending to be 0."""
    figure = trend_figure(points, tz=tz, translator=translator, language=language)
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def trend_figure(
    points: Sequence[TrendPoint], *, tz: ZoneInfo, translator: Translator, language: str
) -> Figure:
    """The chart as a ``Figure``: NPS with its interval above, the bands' shares below."""
    if not points:
        raise ValueError("the chart needs at least one period")
    t = translator
    locale = language.replace("-", "_")
    labels = [_label(point, tz, locale) for point in points]
    xs = list(range(len(points)))
    nps = [point.summary.nps for point in points]
    intervals = [point.summary.interval for point in points]
    values = [float("nan") if value is None else value for value in nps]
    low = [float("nan") if i is None else i.low for i in intervals]
    high = [float("nan") if i is None else i.high for i in intervals]

    figure = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    top.fill_between(
        xs,
        low,
        high,
        color=NPS_COLOUR,
        alpha=0.15,
        label=t.gettext("%(level)s interval") % {"level": format_percent(0.95, locale=locale)},
    )
    if alone := [i for i in _isolated(values) if intervals[i] is not None]:
        # The adjusted interval is not centred on the NPS (a single answer's NPS may even lie
        # outside it), so the bar is drawn about the interval's own middle.
        top.errorbar(
            alone,
            [(low[i] + high[i]) / 2 for i in alone],
            yerr=[(high[i] - low[i]) / 2 for i in alone],
            fmt="none",
            ecolor=NPS_COLOUR,
            alpha=0.15,
            elinewidth=12,
        )  # the same band, as wide as a bar, for a period between two without answers
    top.plot(xs, values, color=NPS_COLOUR, marker="o", label=t.gettext("NPS"))
    for x, value in zip(xs, nps, strict=True):
        if value is not None:  # whole numbers, as the digest's text prints them
            top.annotate(
                Markup(html=False, locale=locale).score(value),
                (x, value),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize="x-small",
                color=NPS_COLOUR,
            )
    top.axhline(0, color="black", linewidth=0.6)
    top.set_ylim(-105, 105)
    top.set_ylabel(t.gettext("NPS"))
    top.set_title(t.gettext("NPS by period"))
    top.grid(visible=True, axis="y", alpha=0.3)
    top.legend(loc="lower left", fontsize="small")

    shares = [
        (point.summary.promoters, point.summary.passives, point.summary.detractors)
        for point in points
    ]
    totals = [sum(counts) or 1 for counts in shares]  # an empty period draws an empty bar
    promoters = [100.0 * p / n for (p, _, _), n in zip(shares, totals, strict=True)]
    passives = [100.0 * pa / n for (_, pa, _), n in zip(shares, totals, strict=True)]
    detractors = [100.0 * d / n for (_, _, d), n in zip(shares, totals, strict=True)]
    bottom.bar(xs, detractors, color=DETRACTOR_COLOUR, label=t.gettext("Detractors"))
    bottom.bar(xs, passives, bottom=detractors, color=PASSIVE_COLOUR, label=t.gettext("Passives"))
    stacked = [d + pa for d, pa in zip(detractors, passives, strict=True)]
    bottom.bar(xs, promoters, bottom=stacked, color=PROMOTER_COLOUR, label=t.gettext("Promoters"))
    bottom.set_ylim(0, 100)
    bottom.set_ylabel(t.gettext("Share of answers"))
    bottom.yaxis.set_major_formatter(PercentFormatter(100))  # the unit on the ticks: 50%
    bottom.set_xticks(xs, labels, rotation=45, ha="right", fontsize="small")
    # Below the ticks, so the legend never hides a bar.
    bottom.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize="small", ncols=3)
    return figure

"""A round's digest as Telegram HTML (or plain text): anonymous totals, or why there are none.

Below the minimum group the digest says only how many answered: no score, no distribution, no
comments, and no change against the round before (it would give this round's score away).
Comments need the minimum of their own: fewer are held back, whatever the number of scores.
Comments come in the order of their random keys and are cut to a length that fits a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.core.enps import DEFAULT_COMMENTS_SHOWN, RoundFigures
from bot.i18n import Translator
from bot.report.markup import Markup, shorten

COMMENT_LIMIT: Final = 500  # characters of one comment in the digest


@dataclass(frozen=True, slots=True)
class RoundReport:
    """Everything a round's digest shows."""

    campaign: str
    opened_at: datetime
    closes_at: datetime
    figures: RoundFigures
    comments: Sequence[str]


def _dates(report: RoundReport, tz: ZoneInfo, t: Translator, m: Markup) -> str:
    first = report.opened_at.astimezone(tz).date()
    last = report.closes_at.astimezone(tz).date()
    return m.line(
        t.gettext("%(start)s – %(end)s"),  # noqa: RUF001  (an en dash marks a range)
        start=format_date(first, format="medium", locale=m.locale),
        end=format_date(last, format="medium", locale=m.locale),
    )


def _participation(figures: RoundFigures, t: Translator, m: Markup) -> list[str]:
    lines = []
    if figures.invited and figures.response_rate is not None:
        lines.append(
            m.line(
                t.gettext("Response rate: %(rate)s (%(answered)s of %(sent)s answered)"),
                rate=m.bold(m.percent(figures.response_rate)),
                answered=m.count(figures.answered),
                sent=m.count(figures.invited),
            )
        )
    else:
        lines.append(m.line(t.gettext("Nobody could be asked in this round")))
    if figures.unreachable:
        lines.append(
            m.line(
                t.ngettext(
                    "%(count)s member could not be reached (never opened the bot, or blocked it)",
                    "%(count)s members could not be reached (never opened the bot, or blocked it)",
                    figures.unreachable,
                ),
                count=m.count(figures.unreachable),
            )
        )
    return lines


def _change(figures: RoundFigures, t: Translator, m: Markup) -> str:
    change = figures.change
    if change is None:
        if figures.had_previous and not figures.previous_reportable:
            return m.line(t.gettext("Previous round: too few answers to compare with"))
        return m.line(t.gettext("No previous round to compare with"))
    if change.significant:
        template = t.gettext(
            "Change vs previous round: %(change)s (95%% interval %(low)s to %(high)s), beyond noise"
        )
    else:
        template = t.gettext(
            "Change vs previous round: %(change)s (95%% interval %(low)s to %(high)s), within noise"
        )
    return m.line(
        template,
        change=m.bold(m.change(change.difference)),
        low=m.change(change.interval.low),
        high=m.change(change.interval.high),
    )


def _scores(figures: RoundFigures, t: Translator, m: Markup) -> list[str]:
    summary, distribution = figures.summary, figures.distribution
    interval = summary.interval if summary is not None else None
    if summary is None or distribution is None or summary.nps is None or interval is None:
        return [
            m.bold(m.line(t.gettext("Too few answers to report anonymously"))),
            m.line(
                t.ngettext(
                    "Scores and comments are shown from %(count)s answer on.",
                    "Scores and comments are shown from %(count)s answers on.",
                    figures.min_group,
                ),
                count=m.count(figures.min_group),
            ),
        ]
    total = summary.responses
    bands = [
        (
            t.ngettext(
                "%(count)s promoter (%(share)s)",
                "%(count)s promoters (%(share)s)",
                summary.promoters,
            ),
            summary.promoters,
        ),
        (
            t.ngettext(
                "%(count)s passive (%(share)s)", "%(count)s passives (%(share)s)", summary.passives
            ),
            summary.passives,
        ),
        (
            t.ngettext(
                "%(count)s detractor (%(share)s)",
                "%(count)s detractors (%(share)s)",
                summary.detractors,
            ),
            summary.detractors,
        ),
    ]
    return [
        m.line(
            t.gettext("eNPS: %(nps)s, 95%% interval %(low)s to %(high)s"),
            nps=m.bold(m.score(summary.nps)),
            low=m.score(interval.low),
            high=m.score(interval.high),
        ),
        _change(figures, t, m),
        *(m.line(text, count=m.count(n), share=m.percent(n / total)) for text, n in bands),
        m.line(
            t.gettext("Scores 0 to 10: %(counts)s"),
            counts=" · ".join(m.count(count) for count in distribution),
        ),
    ]


def _comments(report: RoundReport, t: Translator, m: Markup) -> list[str]:
    if not report.figures.reportable:
        return []
    if not report.comments:
        return [m.line(t.gettext("No comments in this round"))]
    if len(report.comments) < report.figures.min_group:
        # The outbox shows who finished after the score (a comment or Skip gets the thanks;
        # silence does not), so a comment hides only among the round's commenters: fewer
        # than the minimum could point at its author, however many scored.
        return [
            m.line(
                t.ngettext(
                    "%(count)s comment held back: comments are shown only when there are at "
                    "least %(min)s",
                    "%(count)s comments held back: comments are shown only when there are at "
                    "least %(min)s",
                    len(report.comments),
                ),
                count=m.count(len(report.comments)),
                min=m.count(report.figures.min_group),
            )
        ]
    shown = report.comments[:DEFAULT_COMMENTS_SHOWN]
    lines = [m.bold(m.line(t.gettext("In their words")))]
    lines += [m.quote(m.raw(shorten(text.strip(), COMMENT_LIMIT))) for text in shown]
    hidden = len(report.comments) - len(shown)
    if hidden:
        lines.append(
            m.line(
                t.ngettext("and %(count)s more comment", "and %(count)s more comments", hidden),
                count=m.count(hidden),
            )
        )
    return lines


def render_round(
    report: RoundReport, *, tz: ZoneInfo, translator: Translator, language: str, html: bool
) -> str:
    """The digest of a closed round."""
    t, m = translator, Markup(html=html, locale=language.replace("-", "_"))
    head = [
        m.bold(m.line(t.gettext("Employee NPS: %(campaign)s"), campaign=m.raw(report.campaign))),
        _dates(report, tz, t, m),
    ]
    blocks = [head, _participation(report.figures, t, m), _scores(report.figures, t, m)]
    blocks.append(_comments(report, t, m))
    return "\n\n".join("\n".join(block) for block in blocks if block)

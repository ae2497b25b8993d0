"""The digest as a Telegram message (HTML parse mode) or as plain text for a terminal.

Every human sentence is a literal English msgid passed straight to ``translator.gettext`` or
``translator.ngettext``, so ``pybabel extract -k gettext -k ngettext:1,2`` finds them all;
placeholders are ``%(name)s`` and are filled after translation so a catalog may reorder them.
Numbers and dates are formatted with Babel for the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.core.groups import DEFAULT_MIN_GROUP_SIZE
from bot.core.nps import DETRACTOR_MAX, PROMOTER_MIN
from bot.i18n import Translator
from bot.report.blocks import breakdown_block, loop_block
from bot.report.driver_block import ThemeName, drivers_block, themes_block
from bot.report.markup import (
    ELLIPSIS,
    TELEGRAM_MESSAGE_LIMIT,
    Markup,
    shorten,
    telegram_length,
)
from bot.report.period import DigestComment, WeeklyDigest

__all__ = [
    "ELLIPSIS",
    "TELEGRAM_MESSAGE_LIMIT",
    "render_digest",
    "render_summary",
    "render_themes",
    "shorten",
    "telegram_length",
]

# Groups shown above and below the rest at most; fewer when the message would be too long.
BREAKDOWN_PER_END: Final = 3


def _dates(digest: WeeklyDigest, tz: ZoneInfo, t: Translator, m: Markup) -> str:
    """The period as local dates; the end is exclusive, so the last day is end - 1 µs."""
    first = digest.period.start.astimezone(tz).date()
    last = (digest.period.end - timedelta(microseconds=1)).astimezone(tz).date()
    return m.line(
        # An en dash is the typographic range mark, not a typo for a hyphen.
        t.gettext("%(start)s – %(end)s"),  # noqa: RUF001
        start=format_date(first, format="medium", locale=m.locale),
        end=format_date(last, format="medium", locale=m.locale),
    )


def _header(digest: WeeklyDigest, tz: ZoneInfo, t: Translator, m: Markup) -> list[str]:
    """Title and the period."""
    return [m.bold(m.line(t.gettext("NPS digest"))), _dates(digest, tz, t, m)]


def _change_line(digest: WeeklyDigest, t: Translator, m: Markup) -> str:
    """The change and whether it is beyond noise, so nobody celebrates a coin toss."""
    change = digest.change
    if change is None:
        return m.line(t.gettext("Previous period: no answers to compare with"))
    if change.significant:
        template = t.gettext(
            "Change vs previous period: %(change)s (95%% interval %(low)s to %(high)s), "
            "beyond noise"
        )
    else:
        template = t.gettext(
            "Change vs previous period: %(change)s (95%% interval %(low)s to %(high)s), "
            "within noise"
        )
    return m.line(
        template,
        change=m.bold(m.change(change.difference)),
        low=m.change(change.interval.low),
        high=m.change(change.interval.high),
    )


def _band_lines(digest: WeeklyDigest, t: Translator, m: Markup) -> list[str]:
    total = digest.responses
    return [
        m.line(
            t.ngettext(
                "%(count)s promoter (%(share)s)",
                "%(count)s promoters (%(share)s)",
                digest.promoters,
            ),
            count=m.count(digest.promoters),
            share=m.percent(digest.promoters / total),
        ),
        m.line(
            t.ngettext(
                "%(count)s passive (%(share)s)", "%(count)s passives (%(share)s)", digest.passives
            ),
            count=m.count(digest.passives),
            share=m.percent(digest.passives / total),
        ),
        m.line(
            t.ngettext(
                "%(count)s detractor (%(share)s)",
                "%(count)s detractors (%(share)s)",
                digest.detractors,
            ),
            count=m.count(digest.detractors),
            share=m.percent(digest.detractors / total),
        ),
    ]


def _score_block(digest: WeeklyDigest, t: Translator, m: Markup) -> list[str]:
    """NPS and its interval, its change, answers and bands, or "no answers" instead of NaN."""
    interval = digest.interval
    if digest.nps is None or digest.responses == 0 or interval is None:
        lines = [m.bold(m.line(t.gettext("No answers in this period")))]
        if digest.previous_nps is not None:
            lines.append(
                m.line(
                    t.ngettext(
                        "Previous period: NPS %(nps)s from %(count)s response",
                        "Previous period: NPS %(nps)s from %(count)s responses",
                        digest.previous_responses,
                    ),
                    nps=m.score(digest.previous_nps),
                    count=m.count(digest.previous_responses),
                )
            )
        return lines
    return [
        m.line(
            t.gettext("NPS: %(nps)s, 95%% interval %(low)s to %(high)s"),
            nps=m.bold(m.score(digest.nps)),
            low=m.score(interval.low),
            high=m.score(interval.high),
        ),
        _change_line(digest, t, m),
        m.line(
            t.ngettext(
                "%(count)s response (previous period: %(previous)s)",
                "%(count)s responses (previous period: %(previous)s)",
                digest.responses,
            ),
            count=m.count(digest.responses),
            previous=m.count(digest.previous_responses),
        ),
        *_band_lines(digest, t, m),
        m.line(
            t.gettext("Scores 0 to 10: %(counts)s"),
            counts=" · ".join(m.count(count) for count in digest.distribution),
        ),
    ]


def _delivery_block(digest: WeeklyDigest, t: Translator, m: Markup) -> list[str]:
    """How many questions went out and how many of them got a score."""
    if digest.surveys_sent == 0 or digest.response_rate is None:
        return [m.line(t.gettext("No surveys sent in this period"))]
    return [
        m.line(
            t.ngettext("%(count)s survey sent", "%(count)s surveys sent", digest.surveys_sent),
            count=m.count(digest.surveys_sent),
        ),
        m.line(
            t.gettext("Response rate: %(rate)s (%(answered)s of %(sent)s answered)"),
            rate=m.bold(m.percent(digest.response_rate)),
            answered=m.count(digest.answered_of_sent),
            sent=m.count(digest.surveys_sent),
        ),
    ]


def _ratings_block(digest: WeeklyDigest, t: Translator, m: Markup) -> list[str]:
    """The operator's extra questions: mean of 5 and how many answered."""
    return [
        m.line(
            t.ngettext(
                "%(label)s: %(mean)s of 5 (%(count)s rating)",
                "%(label)s: %(mean)s of 5 (%(count)s ratings)",
                rating.count,
            ),
            label=m.raw(rating.label),
            mean=m.bold(m.mean(rating.mean)),
            count=m.count(rating.count),
        )
        for rating in digest.ratings
    ]


def _breakdown_blocks(
    digest: WeeklyDigest, minimum: int, per_end: int, t: Translator, m: Markup
) -> list[list[str]]:
    return [
        breakdown_block(breakdown, minimum=minimum, per_end=per_end, t=t, m=m)
        for breakdown in digest.breakdowns
    ]


def _comment(comment: DigestComment, t: Translator, m: Markup, limit: int) -> str:
    """One quoted comment; only the display is cut, the digest keeps the full text."""
    heading = m.line(
        t.gettext("Score %(score)s · ticket %(ticket)s"),
        score=m.bold(m.count(comment.score)),
        ticket=m.code(m.raw(comment.ticket)),
    )
    return heading + "\n" + m.quote(m.raw(shorten(comment.text, limit)))


def _omitted(count: int, t: Translator, m: Markup) -> str:
    """The line that admits comments were left out, so nobody thinks the list is complete."""
    return m.line(
        t.ngettext(
            "…and %(count)s more comment not shown",
            "…and %(count)s more comments not shown",
            count,
        ),
        count=m.count(count),
    )


def _words(
    title: str,
    comments: Sequence[DigestComment],
    *,
    count: int,
    limit: int,
    t: Translator,
    m: Markup,
) -> list[str]:
    """A titled list of the first ``count`` comments and how many were left out."""
    if not comments:
        return []
    shown = [_comment(comment, t, m, limit) for comment in comments[:count]]
    parts = ["\n".join([title, *shown[:1]]), *shown[1:]]
    if len(comments) > count:
        parts.append(_omitted(len(comments) - count, t, m))
    return ["\n\n".join(parts)]


def _join(blocks: Sequence[Sequence[str]]) -> str:
    """Lines within a block, a blank line between blocks."""
    return "\n\n".join("\n".join(block) for block in blocks if block)


def _fits(text: str) -> bool:
    return telegram_length(text) <= TELEGRAM_MESSAGE_LIMIT


def render_digest(
    digest: WeeklyDigest,
    *,
    tz: ZoneInfo,
    translator: Translator,
    language: str,
    html: bool = True,
    max_comments: int = 3,
    comment_limit: int = 300,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    theme_name: ThemeName = str,
) -> str:
    """Render the digest for Telegram (``html=True``, parse mode HTML) or for a terminal.

    Up to ``max_comments`` detractors' and as many promoters' comments are quoted, newest first.
    ``theme_name`` names a theme id in the reader's language (the taxonomy's; the id itself
    without one).
    The result never exceeds Telegram's 4096-character limit: long breakdowns shrink to one group
    each way and the drivers lose their quotes and then themes, then both go; comments are added
    one detractor, one promoter at a time while they fit.
    """
    if max_comments < 0:
        raise ValueError("max_comments must not be negative")
    if comment_limit < 1:
        raise ValueError("comment_limit must be positive")
    t = translator
    m = Markup(html=html, locale=language.replace("-", "_"))
    core = [
        _header(digest, tz, t, m),
        _score_block(digest, t, m),
        _delivery_block(digest, t, m),
        _ratings_block(digest, t, m),
    ]
    loop = loop_block(digest.loop, t, m) if digest.loop is not None else []

    detractors = [c for c in digest.comments if c.score <= DETRACTOR_MAX]
    promoters = [c for c in digest.comments if c.score >= PROMOTER_MIN]
    words = _Words(detractors, promoters, max_comments, comment_limit, t, m)
    text = ""
    # The clients' own words matter more than the tail of a breakdown: shrink the breakdowns, then
    # drop them, until at least one comment of each side fits.
    for per_end, (per_side, quotes) in zip(
        (BREAKDOWN_PER_END, 1, 1, 0, 0), ((3, 2), (3, 1), (2, 0), (1, 0), (0, 0)), strict=True
    ):
        breakdowns = _breakdown_blocks(digest, min_group_size, per_end, t, m) if per_end else []
        drivers = drivers_block(digest.drivers, theme_name, t, m, per_side=per_side, quotes=quotes)
        head = _join([*core, drivers, *breakdowns, loop])
        text, bad, good = words.fill(head)
        if (
            _fits(text)
            and bad >= min(1, len(detractors), max_comments)
            and good >= min(1, len(promoters), max_comments)
        ):
            break
    return text


@dataclass(frozen=True, slots=True)
class _Words:
    """The clients' words under a head, added one detractor, one promoter at a time."""

    detractors: Sequence[DigestComment]
    promoters: Sequence[DigestComment]
    most: int
    limit: int
    t: Translator
    m: Markup

    def compose(self, head: str, bad: int, good: int) -> str:
        t, m = self.t, self.m
        if not self.detractors and not self.promoters:
            return _join([[head], [m.line(t.gettext("No comments in this period"))]])
        title_bad = m.bold(m.line(t.gettext("Detractors' words")))
        title_good = m.bold(m.line(t.gettext("Promoters' words")))
        return _join(
            [
                [head],
                _words(title_bad, self.detractors, count=bad, limit=self.limit, t=t, m=m),
                _words(title_good, self.promoters, count=good, limit=self.limit, t=t, m=m),
            ]
        )

    def fill(self, head: str) -> tuple[str, int, int]:
        """The longest text within Telegram's limit, and how many of each side it quotes."""
        bad = good = 0
        text = self.compose(head, 0, 0)
        most_bad = min(self.most, len(self.detractors))
        most_good = min(self.most, len(self.promoters))
        grew = True
        while grew:  # alternate sides so neither crowds the other out of the message
            grew = False
            for more_bad in (1, 0):
                next_bad, next_good = bad + more_bad, good + 1 - more_bad
                if next_bad > most_bad or next_good > most_good:
                    continue
                candidate = self.compose(head, next_bad, next_good)
                if _fits(candidate):
                    bad, good, text, grew = next_bad, next_good, candidate, True
        return text, bad, good


def render_summary(
    digest: WeeklyDigest, *, tz: ZoneInfo, translator: Translator, language: str
) -> str:
    """The short answer to ``/nps``: the period, NPS and interval, change, answers, bands (HTML)."""
    t = translator
    m = Markup(html=True, locale=language.replace("-", "_"))
    return _join([[m.bold(_dates(digest, tz, t, m))], _score_block(digest, t, m)])


def render_themes(
    digest: WeeklyDigest,
    *,
    tz: ZoneInfo,
    translator: Translator,
    language: str,
    theme_name: ThemeName = str,
) -> str:
    """The answer to ``/themes``: the period and every theme's mentions and impact (HTML)."""
    t = translator
    m = Markup(html=True, locale=language.replace("-", "_"))
    dates = [m.bold(_dates(digest, tz, t, m))]
    most = len(digest.drivers.themes)
    while True:  # an operator's taxonomy may be long: the weakest themes go, counted
        text = _join([dates, themes_block(digest.drivers, theme_name, t, m, most=most)])
        if _fits(text) or most == 0:
            return text
        most -= 1

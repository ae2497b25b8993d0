"""The weekly digest as a Telegram message (HTML parse mode) or as plain text for a terminal.

Every human sentence is a literal English msgid passed straight to ``translator.gettext`` or
``translator.ngettext``, so ``pybabel extract -k gettext -k ngettext:1,2`` finds them all;
placeholders are ``%(name)s`` and are filled after translation so a catalog may reorder them.
Numbers and dates are formatted with Babel for the reader's language.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from bot.i18n import Translator
from bot.report.weekly import DigestComment, WeeklyDigest

TELEGRAM_MESSAGE_LIMIT: Final = 4096
ELLIPSIS: Final = "…"


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji costs two."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


@dataclass(frozen=True, slots=True)
class _Markup:
    """Wraps values for one output mode and one locale.

    In HTML mode the translated template is escaped too: a catalog is not markup, and a stray
    ``&`` or ``<`` in a translation must not make Telegram reject the whole message.
    """

    html: bool
    locale: str

    def line(self, template: str, **values: str) -> str:
        """Fill a translated template with values that are already safe for this mode."""
        safe = html_lib.escape(template, quote=False) if self.html else template
        return safe % values

    def raw(self, text: str) -> str:
        """Text from clients or the helpdesk: escaped for HTML, left as is for a terminal."""
        return html_lib.escape(text, quote=False) if self.html else text

    def bold(self, text: str) -> str:
        """Bold in Telegram; plain text has no emphasis worth faking."""
        return f"<b>{text}</b>" if self.html else text

    def code(self, text: str) -> str:
        """Monospace in Telegram so ticket ids are easy to copy."""
        return f"<code>{text}</code>" if self.html else text

    def quote(self, text: str) -> str:
        """A quoted block; a terminal gets mail-style ``>`` prefixes."""
        if self.html:
            return f"<blockquote>{text}</blockquote>"
        return "\n".join(f"> {row}" for row in text.splitlines() or [""])

    def count(self, value: int) -> str:
        """An integer with the locale's grouping."""
        return format_decimal(value, locale=self.locale)

    def score(self, value: float) -> str:
        """An NPS value with one decimal in the locale's notation (20.0 / 20,0)."""
        return format_decimal(round(value, 1), format="0.0", locale=self.locale)

    def change(self, value: float) -> str:
        """A signed change; rounding first avoids showing a meaningless "-0.0"."""
        rounded = round(value, 1)
        if rounded == 0:
            return format_decimal(0, format="0.0", locale=self.locale)
        return format_decimal(rounded, format="+0.0;-0.0", locale=self.locale)

    def percent(self, value: float) -> str:
        """A share of 0..1 as a whole percentage in the locale's style (50% / 50 %)."""
        return format_percent(value, locale=self.locale)


def _header(digest: WeeklyDigest, tz: ZoneInfo, t: Translator, m: _Markup) -> list[str]:
    """Title and the week as local dates; the end is exclusive, so the last day is end - 1."""
    first = digest.period.start.astimezone(tz).date()
    last = digest.period.end.astimezone(tz).date() - timedelta(days=1)
    return [
        m.bold(m.line(t.gettext("NPS digest"))),
        m.line(
            # An en dash is the typographic range mark, not a typo for a hyphen.
            t.gettext("%(start)s – %(end)s"),  # noqa: RUF001
            start=format_date(first, format="medium", locale=m.locale),
            end=format_date(last, format="medium", locale=m.locale),
        ),
    ]


def _score_block(digest: WeeklyDigest, t: Translator, m: _Markup) -> list[str]:
    """NPS, its change and the bands, or an explicit "no answers" instead of a NaN."""
    if digest.nps is None or digest.responses == 0:
        lines = [m.bold(m.line(t.gettext("No answers this week")))]
        if digest.previous_nps is not None:
            lines.append(
                m.line(
                    t.ngettext(
                        "Previous week: NPS %(nps)s from %(count)s response",
                        "Previous week: NPS %(nps)s from %(count)s responses",
                        digest.previous_responses,
                    ),
                    nps=m.score(digest.previous_nps),
                    count=m.count(digest.previous_responses),
                )
            )
        return lines
    if digest.nps_change is None:
        nps_line = m.line(
            t.gettext("NPS: %(nps)s (previous week: no data)"), nps=m.bold(m.score(digest.nps))
        )
    else:
        nps_line = m.line(
            t.gettext("NPS: %(nps)s (%(change)s vs previous week)"),
            nps=m.bold(m.score(digest.nps)),
            change=m.change(digest.nps_change),
        )
    total = digest.responses
    return [
        nps_line,
        m.line(
            t.ngettext(
                "%(count)s response (previous week: %(previous)s)",
                "%(count)s responses (previous week: %(previous)s)",
                total,
            ),
            count=m.count(total),
            previous=m.count(digest.previous_responses),
        ),
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


def _delivery_block(digest: WeeklyDigest, t: Translator, m: _Markup) -> list[str]:
    """How many questions went out and how many of them got a score."""
    if digest.surveys_sent == 0 or digest.response_rate is None:
        return [m.line(t.gettext("No surveys sent this week"))]
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


def _ratings_block(digest: WeeklyDigest, t: Translator, m: _Markup) -> list[str]:
    """The operator's extra questions: mean of 5 and how many answered."""
    return [
        m.line(
            t.ngettext(
                "%(label)s: %(mean)s of 5 (%(count)s rating)",
                "%(label)s: %(mean)s of 5 (%(count)s ratings)",
                rating.count,
            ),
            label=m.raw(rating.label),
            mean=m.bold(m.score(rating.mean)),
            count=m.count(rating.count),
        )
        for rating in digest.ratings
    ]


def _comment(comment: DigestComment, t: Translator, m: _Markup, limit: int) -> str:
    """One quoted comment; only the display is cut, the digest keeps the full text."""
    heading = m.line(
        t.gettext("Score %(score)s · ticket %(ticket)s"),
        score=m.bold(m.count(comment.score)),
        ticket=m.code(m.raw(comment.ticket)),
    )
    return heading + "\n" + m.quote(m.raw(shorten(comment.text, limit)))


def _omitted(count: int, t: Translator, m: _Markup) -> str:
    """The line that admits comments were left out, so nobody thinks the list is complete."""
    return m.line(
        t.ngettext(
            "…and %(count)s more comment not shown",
            "…and %(count)s more comments not shown",
            count,
        ),
        count=m.count(count),
    )


def _comments_section(title: str, shown: list[str], total: int, t: Translator, m: _Markup) -> str:
    """The comments shown, a blank line apart, and the count of those that were not."""
    parts = ["\n".join([title, *shown[:1]]), *shown[1:]]
    if total > len(shown):
        parts.append(_omitted(total - len(shown), t, m))
    return "\n\n".join(parts)


def _join(blocks: list[list[str]]) -> str:
    """Lines within a block, a blank line between blocks."""
    return "\n\n".join("\n".join(block) for block in blocks if block)


def render_digest(
    digest: WeeklyDigest,
    *,
    tz: ZoneInfo,
    translator: Translator,
    language: str,
    html: bool = True,
    max_comments: int = 10,
    comment_limit: int = 300,
) -> str:
    """Render the digest for Telegram (``html=True``, parse mode HTML) or for a terminal.

    The result never exceeds Telegram's 4096-character limit: the newest comments are kept, and
    those beyond ``max_comments`` or beyond the limit are dropped with a line saying how many.
    """
    if max_comments < 0:
        raise ValueError("max_comments must not be negative")
    if comment_limit < 1:
        raise ValueError("comment_limit must be positive")
    t = translator
    m = _Markup(html=html, locale=language.replace("-", "_"))
    blocks = [
        _header(digest, tz, t, m),
        _score_block(digest, t, m),
        _delivery_block(digest, t, m),
        _ratings_block(digest, t, m),
    ]
    if not digest.comments:
        return _join([*blocks, [m.line(t.gettext("No comments this week"))]])

    title = m.bold(m.line(t.gettext("Comments")))
    head = _join(blocks)
    shown: list[str] = []
    total = len(digest.comments)
    for comment in digest.comments[:max_comments]:
        candidate = [*shown, _comment(comment, t, m, comment_limit)]
        text = head + "\n\n" + _comments_section(title, candidate, total, t, m)
        if telegram_length(text) > TELEGRAM_MESSAGE_LIMIT:
            break
        shown = candidate
    return head + "\n\n" + _comments_section(title, shown, total, t, m)

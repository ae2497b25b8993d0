"""Formatting shared by the digest's blocks: HTML or plain text, numbers and dates via Babel."""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from babel.dates import format_timedelta
from babel.numbers import format_decimal, format_percent

from bot.core.nps import whole

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
class Markup:
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
        """An NPS or one end of its interval as a whole number: a decimal would claim a
        precision no survey has (``bot.core.nps.whole``)."""
        return format_decimal(whole(value), format="0", locale=self.locale)

    def change(self, value: float) -> str:
        """A signed whole change; rounding first avoids showing a meaningless "-0"."""
        rounded = whole(value)
        if rounded == 0:
            return format_decimal(0, format="0", locale=self.locale)
        return format_decimal(rounded, format="+0;-0", locale=self.locale)

    def mean(self, value: float) -> str:
        """A mean of 1..5 ratings with one decimal in the locale's notation (4.2 / 4,2)."""
        return format_decimal(round(value, 1), format="0.0", locale=self.locale)

    def percent(self, value: float) -> str:
        """A share of 0..1 as a whole percentage in the locale's style (50% / 50 %)."""
        return format_percent(value, locale=self.locale)

    def duration(self, value: timedelta) -> str:
        """A wait in the locale's words, rounded to the unit that matters (3 hours / 3 часа)."""
        return format_timedelta(value, threshold=1.5, locale=self.locale)

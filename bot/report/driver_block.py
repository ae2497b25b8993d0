"""The digest's "What drives the score" block: the themes that pull the score down or lift it
beyond noise, two comments each, and the words detractors have started to use.

Every sentence is a literal msgid (see ``bot.report.render``); counts follow their label
("Detractors: 14") where a sentence holds several, so no plural has to agree with another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from bot.core.nps import whole
from bot.i18n import Translator
from bot.report.drivers import Driver, Drivers
from bot.report.markup import Markup, shorten

DRIVERS_PER_SIDE: Final = 3
QUOTE_LIMIT: Final = 150  # characters of a quoted comment: the full list of words comes after

ThemeName = Callable[[str], str]


def _driver(driver: Driver, name: ThemeName, t: Translator, m: Markup) -> list[str]:
    impact = driver.impact
    lines = [
        m.line(
            t.ngettext(
                "%(theme)s: %(impact)s point, 95%% interval %(low)s to %(high)s",
                "%(theme)s: %(impact)s points, 95%% interval %(low)s to %(high)s",
                abs(whole(impact.impact)),
            ),
            theme=m.bold(m.raw(name(driver.theme))),
            impact=m.change(impact.impact),
            low=m.change(impact.interval.low),
            high=m.change(impact.interval.high),
        ),
        m.line(
            t.gettext(
                "Mentioned by detractors: %(detractors)s, passives: %(passives)s, "
                "promoters: %(promoters)s"
            ),
            detractors=m.count(driver.mentions.detractors),
            passives=m.count(driver.mentions.passives),
            promoters=m.count(driver.mentions.promoters),
        ),
    ]
    for quote in driver.quotes:
        lines.append(m.quote(m.raw(shorten(quote.text, QUOTE_LIMIT))))
    return lines


def _side(
    title: str, drivers: Sequence[Driver], name: ThemeName, t: Translator, m: Markup
) -> list[str]:
    if not drivers:
        return []
    lines = [m.line(title)]
    for driver in drivers[:DRIVERS_PER_SIDE]:
        lines.extend(_driver(driver, name, t, m))
    return lines


def drivers_block(drivers: Drivers, name: ThemeName, t: Translator, m: Markup) -> list[str]:
    """The block, or nothing when no comment of the period has been tagged."""
    if drivers.tagged == 0 and not drivers.emerging:
        return []
    lines = [m.bold(m.line(t.gettext("What drives the score")))]
    down = _side(t.gettext("Pulls the score down:"), drivers.negative, name, t, m)
    up = _side(t.gettext("Lifts the score:"), drivers.positive, name, t, m)
    if not down and not up:
        lines.append(
            m.line(
                t.ngettext(
                    "No theme moves the score beyond noise (%(count)s answer with a comment)",
                    "No theme moves the score beyond noise (%(count)s answers with a comment)",
                    drivers.tagged,
                ),
                count=m.count(drivers.tagged),
            )
        )
    lines.extend(down)
    lines.extend(up)
    if drivers.emerging:
        words = ", ".join(
            m.line(t.gettext("%(word)s (%(count)s)"), word=m.raw(w.word), count=m.count(w.comments))
            for w in drivers.emerging
        )
        lines.append(m.line(t.gettext("New in detractors' words: %(words)s"), words=words))
    return lines


def themes_block(
    drivers: Drivers, name: ThemeName, t: Translator, m: Markup, *, most: int | None = None
) -> list[str]:
    """``/themes``: every theme mentioned (the ``most`` strongest), strongest impact first, each
    said beyond or within noise, then the emerging words."""
    lines = [m.bold(m.line(t.gettext("Themes of the comments")))]
    if not drivers.themes:
        lines.append(m.line(t.gettext("No comment of this period is about a theme")))
    for driver in drivers.themes[:most]:
        lines.extend(_driver(driver, name, t, m)[:2])
        if driver.impact.beyond_noise:
            lines.append(m.line(t.gettext("Beyond noise")))
        else:
            lines.append(m.line(t.gettext("Within noise")))
    lines.append(
        m.line(
            t.ngettext(
                "%(count)s answer with a comment",
                "%(count)s answers with a comment",
                drivers.tagged,
            ),
            count=m.count(drivers.tagged),
        )
    )
    if drivers.emerging:
        words = ", ".join(
            m.line(t.gettext("%(word)s (%(count)s)"), word=m.raw(w.word), count=m.count(w.comments))
            for w in drivers.emerging
        )
        lines.append(m.line(t.gettext("New in detractors' words: %(words)s"), words=words))
    return lines

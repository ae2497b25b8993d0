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


def _driver(
    driver: Driver, name: ThemeName, t: Translator, m: Markup, *, quotes: int = 2
) -> list[str]:
    impact = driver.impact
    if impact.impact is None or impact.interval is None:
        return [
            m.line(
                t.gettext("%(theme)s: in every answer, so nothing to compare it with"),
                theme=m.bold(m.raw(name(driver.theme))),
            ),
            _mentions(driver, t, m),
        ]
    interval = impact.interval
    lines = [
        m.line(
            t.ngettext(
                "%(theme)s: %(impact)s point, 95%% interval %(low)s to %(high)s",
                "%(theme)s: %(impact)s points, 95%% interval %(low)s to %(high)s",
                abs(whole(impact.impact)),
            ),
            theme=m.bold(m.raw(name(driver.theme))),
            impact=m.change(impact.impact),
            low=m.change(interval.low),
            high=m.change(interval.high),
        ),
        _mentions(driver, t, m),
    ]
    for quote in driver.quotes[:quotes]:
        lines.append(m.quote(m.raw(shorten(quote.text, QUOTE_LIMIT))))
    return lines


def _mentions(driver: Driver, t: Translator, m: Markup) -> str:
    return m.line(
        t.gettext(
            "Mentioned by detractors: %(detractors)s, passives: %(passives)s, "
            "promoters: %(promoters)s"
        ),
        detractors=m.count(driver.mentions.detractors),
        passives=m.count(driver.mentions.passives),
        promoters=m.count(driver.mentions.promoters),
    )


def _side(
    title: str,
    drivers: Sequence[Driver],
    name: ThemeName,
    t: Translator,
    m: Markup,
    *,
    most: int,
    quotes: int,
) -> list[str]:
    if not drivers or most == 0:
        return []
    lines = [m.line(title)]
    for driver in drivers[:most]:
        lines.extend(_driver(driver, name, t, m, quotes=quotes))
    return lines


def _emerging(drivers: Drivers, t: Translator, m: Markup) -> list[str]:
    """The words detractors have started to use, with the comments each is in."""
    if not drivers.emerging:
        return []
    words = ", ".join(
        m.line(t.gettext("%(word)s (%(count)s)"), word=m.raw(w.word), count=m.count(w.comments))
        for w in drivers.emerging
    )
    return [m.line(t.gettext("New in detractors' words: %(words)s"), words=words)]


def _untagged(drivers: Drivers, t: Translator, m: Markup) -> list[str]:
    """Comments stored before themes existed (or before the taxonomy changed) say so."""
    if not drivers.untagged:
        return []
    return [
        m.line(
            t.ngettext(
                "%(count)s comment has no themes yet: npsbot themes --recompute tags it",
                "%(count)s comments have no themes yet: npsbot themes --recompute tags them",
                drivers.untagged,
            ),
            count=m.count(drivers.untagged),
        )
    ]


def drivers_block(
    drivers: Drivers,
    name: ThemeName,
    t: Translator,
    m: Markup,
    *,
    per_side: int = DRIVERS_PER_SIDE,
    quotes: int = 2,
) -> list[str]:
    """The block (at most ``per_side`` drivers each way, ``quotes`` comments each), or nothing
    when no comment of the period has themes, or the message has no room for any driver."""
    if (drivers.tagged == 0 and not drivers.emerging and not drivers.untagged) or per_side == 0:
        return []
    lines = [m.bold(m.line(t.gettext("What drives the score")))]
    down = _side(
        t.gettext("Pulls the score down:"), drivers.negative, name, t, m,
        most=per_side, quotes=quotes,
    )  # fmt: skip
    up = _side(
        t.gettext("Lifts the score:"), drivers.positive, name, t, m,
        most=per_side, quotes=quotes,
    )  # fmt: skip
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
    lines.extend(_untagged(drivers, t, m))
    lines.extend(_emerging(drivers, t, m))
    return lines


def themes_block(
    drivers: Drivers, name: ThemeName, t: Translator, m: Markup, *, most: int | None = None
) -> list[str]:
    """``/themes``: every theme mentioned (the ``most`` strongest), strongest impact first, each
    said beyond or within noise, then the emerging words."""
    lines = [m.bold(m.line(t.gettext("Themes of the comments")))]
    if not drivers.themes:
        lines.append(m.line(t.gettext("No comment of this period is about any theme")))
    shown = drivers.themes[:most]
    for driver in shown:
        lines.extend(_driver(driver, name, t, m)[:2])
        if driver.impact.impact is None:
            continue
        if driver.impact.beyond_noise:
            lines.append(m.line(t.gettext("Beyond noise")))
        else:
            lines.append(m.line(t.gettext("Within noise")))
    if len(shown) < len(drivers.themes):
        left = len(drivers.themes) - len(shown)
        lines.append(
            m.line(
                t.ngettext(
                    "…and %(count)s more theme not shown",
                    "…and %(count)s more themes not shown",
                    left,
                ),
                count=m.count(left),
            )
        )
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
    lines.extend(_untagged(drivers, t, m))
    lines.extend(_emerging(drivers, t, m))
    return lines

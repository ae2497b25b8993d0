"""The digest's breakdown and closed-loop blocks: who and what drives the score, and what
managers did with the detractors. Every sentence is a literal msgid (see ``render``)."""

from __future__ import annotations

from bot.core.groups import Standing
from bot.i18n import Translator
from bot.report.breakdown import Breakdown, GroupScore
from bot.report.closed_loop import LoopStats
from bot.report.markup import Markup, shorten

GROUP_NAME_LIMIT = 40  # helpdesk names can be long; a line per group must stay one line


def _title(dimension: str, t: Translator) -> str:
    """Literal msgids per dimension, so the extractor sees each of them."""
    titles = {
        "agent": t.gettext("By agent"),
        "team": t.gettext("By team"),
        "company": t.gettext("By company"),
        "channel": t.gettext("By channel"),
    }
    return titles[dimension]


def _scored(group: GroupScore, t: Translator, m: Markup) -> str:
    """NPS, its interval and the answers behind it, as every group line ends."""
    interval = group.interval
    return m.line(
        t.ngettext(
            "NPS %(nps)s, 95%% interval %(low)s to %(high)s (%(count)s answer)",
            "NPS %(nps)s, 95%% interval %(low)s to %(high)s (%(count)s answers)",
            group.responses,
        ),
        nps=m.bold(m.score(group.nps)),
        low=m.score(interval.low),
        high=m.score(interval.high),
        count=m.count(group.responses),
    )


def _group(group: GroupScore, t: Translator, m: Markup) -> str:
    name = m.raw(shorten(group.name or "", GROUP_NAME_LIMIT))
    if group.standing is Standing.ABOVE:
        template = t.gettext("%(name)s: %(score)s, above the rest")
    else:
        template = t.gettext("%(name)s: %(score)s, below the rest")
    return m.line(template, name=name, score=_scored(group, t, m))


def _not_set(group: GroupScore, t: Translator, m: Markup) -> str:
    return m.line(t.gettext("Not set: %(score)s"), score=_scored(group, t, m))


def _other(breakdown: Breakdown, minimum: int, t: Translator, m: Markup) -> str:
    other = breakdown.other
    assert other is not None  # noqa: S101  (only called when there is one)
    # Two numbers, two plural choices: one message each, so every language can agree both.
    folded = m.line(
        t.ngettext(
            "Other: %(groups)s group under %(minimum)s answers",
            "Other: %(groups)s groups under %(minimum)s answers",
            breakdown.other_groups,
        ),
        groups=m.count(breakdown.other_groups),
        minimum=m.count(minimum),
    )
    return f"{folded}, {_scored(other, t, m)}"


def _nothing_differs(breakdown: Breakdown, t: Translator, m: Markup) -> str:
    """One line for a breakdown where no group stands out, instead of a list to rank by eye."""
    return m.line(
        t.ngettext(
            "%(title)s: no group differs from the rest beyond noise (%(count)s group compared)",
            "%(title)s: no group differs from the rest beyond noise (%(count)s groups compared)",
            len(breakdown.groups),
        ),
        title=m.bold(_title(breakdown.dimension, t)),
        count=m.count(len(breakdown.groups)),
    )


def breakdown_block(
    breakdown: Breakdown, *, minimum: int, per_end: int, t: Translator, m: Markup
) -> list[str]:
    """The groups of one dimension that differ from the rest, at most ``per_end`` each way.

    Groups within noise are counted, not listed: a list of them reads like a league table.
    """
    if not breakdown.informative:
        return []
    marked = breakdown.marked
    if not marked:
        return [_nothing_differs(breakdown, t, m)]
    above = [group for group in marked if group.standing is Standing.ABOVE]
    below = [group for group in marked if group.standing is Standing.BELOW]
    shown = [*above[:per_end], *below[-per_end:]] if per_end else []
    lines = [m.bold(m.line(_title(breakdown.dimension, t)))]
    lines.extend(_group(group, t, m) for group in shown)
    hidden = len(marked) - len(shown)
    if hidden:
        lines.append(
            m.line(
                t.ngettext(
                    "…and %(count)s more group beyond noise not shown",
                    "…and %(count)s more groups beyond noise not shown",
                    hidden,
                ),
                count=m.count(hidden),
            )
        )
    within = len(breakdown.groups) - len(marked)
    if within:
        lines.append(
            m.line(
                t.ngettext(
                    "%(count)s more group within noise of the rest",
                    "%(count)s more groups within noise of the rest",
                    within,
                ),
                count=m.count(within),
            )
        )
    if breakdown.other is not None:
        lines.append(_other(breakdown, minimum, t, m))
    if breakdown.not_set is not None:  # last: nobody's answers
        lines.append(_not_set(breakdown.not_set, t, m))
    return lines


def loop_block(loop: LoopStats | None, t: Translator, m: Markup) -> list[str]:
    """Alerts of the period: taken, resolved, how fast, what is still open, who recovered."""
    title = m.bold(m.line(t.gettext("Closed loop")))
    if loop is None or (loop.alerted == 0 and loop.open_at_end == 0):
        return [title, m.line(t.gettext("No detractor alerts in this period"))]
    lines = [
        title,
        m.line(
            t.ngettext(
                "%(count)s detractor alerted: %(taken)s taken, %(resolved)s resolved",
                "%(count)s detractors alerted: %(taken)s taken, %(resolved)s resolved",
                loop.alerted,
            ),
            count=m.count(loop.alerted),
            taken=m.count(loop.taken),
            resolved=m.count(loop.resolved),
        ),
    ]
    if loop.median_first_contact is not None:
        lines.append(
            m.line(
                t.gettext("Median time to first contact: %(time)s"),
                time=m.bold(m.duration(loop.median_first_contact)),
            )
        )
    lines.append(
        m.line(
            t.ngettext(
                "%(count)s case still open at the end of the period",
                "%(count)s cases still open at the end of the period",
                loop.open_at_end,
            ),
            count=m.bold(m.count(loop.open_at_end)),
        )
    )
    if loop.reannounced:
        lines.append(
            m.line(
                t.ngettext(
                    "%(count)s alert re-announced after waiting too long",
                    "%(count)s alerts re-announced after waiting too long",
                    loop.reannounced,
                ),
                count=m.count(loop.reannounced),
            )
        )
    if loop.recovery_answered:
        lines.append(
            m.line(
                t.ngettext(
                    "Recovered: %(count)s of %(asked)s client who answered",
                    "Recovered: %(count)s of %(asked)s clients who answered",
                    loop.recovery_answered,
                ),
                count=m.bold(m.count(loop.recovered)),
                asked=m.count(loop.recovery_answered),
            )
        )
    return lines

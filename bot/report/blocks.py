"""The digest's breakdown and closed-loop blocks: who and what drives the score, and what
managers did with the detractors. Every sentence is a literal msgid (see ``render``)."""

from __future__ import annotations

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


def _group(rank: int, group: GroupScore, t: Translator, m: Markup) -> str:
    name = m.raw(shorten(group.name, GROUP_NAME_LIMIT)) if group.name else t.gettext("not set")
    return m.line(
        t.ngettext(
            "%(rank)s. %(name)s: %(nps)s ± %(margin)s (%(count)s answer)",
            "%(rank)s. %(name)s: %(nps)s ± %(margin)s (%(count)s answers)",
            group.responses,
        ),
        rank=m.count(rank),
        name=name,
        nps=m.bold(m.score(group.nps)),
        margin=m.score(group.margin),
        count=m.count(group.responses),
    )


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
    score = m.line(
        t.ngettext(
            "%(nps)s ± %(margin)s (%(count)s answer)",
            "%(nps)s ± %(margin)s (%(count)s answers)",
            other.responses,
        ),
        nps=m.score(other.nps),
        margin=m.score(other.margin),
        count=m.count(other.responses),
    )
    return f"{folded}, {score}"


def breakdown_block(
    breakdown: Breakdown, *, minimum: int, per_end: int, t: Translator, m: Markup
) -> list[str]:
    """Ranked groups of one dimension; with many, the best and worst ``per_end`` of them."""
    if not breakdown.informative:
        return []
    lines = [m.bold(m.line(_title(breakdown.dimension, t)))]
    ranked = list(enumerate(breakdown.groups, start=1))
    if len(ranked) > 2 * per_end:
        shown = [*ranked[:per_end], None, *ranked[-per_end:]]
    else:
        shown = [*ranked]
    for entry in shown:
        lines.append("…" if entry is None else _group(entry[0], entry[1], t, m))
    if breakdown.other is not None:
        lines.append(_other(breakdown, minimum, t, m))
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

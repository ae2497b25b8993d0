"""render_digest: English and Russian texts, HTML safety, the Telegram length cap, plain mode."""

# Russian words spelt only with Latin look-alike letters, and the en dash, are meant: not typos.

from __future__ import annotations

import gettext
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.groups import Standing
from bot.core.nps import NpsSummary
from bot.core.periods import last_full_week
from bot.i18n import Translator, translator
from bot.report.breakdown import DIMENSIONS, Breakdown, GroupScore
from bot.report.closed_loop import LoopStats
from bot.report.period import DigestComment, WeeklyDigest
from bot.report.render import (
    TELEGRAM_MESSAGE_LIMIT,
    render_digest,
    render_summary,
    telegram_length,
)

MOSCOW = ZoneInfo("Europe/Moscow")
# Monday 6 to Monday 13 January 2025 in Moscow, i.e. 21:00 UTC on the Sundays before.
PERIOD = last_full_week(datetime(2025, 1, 15, tzinfo=UTC), MOSCOW)
ENGLISH = gettext.NullTranslations()
TAG = re.compile(r"</?(b|i|code|blockquote|pre|a)\b[^>]*>")


def russian() -> Translator:
    """The shipped Russian catalog (bot/locales/ru), with its three plural forms."""
    return translator("ru")


def comment(number: int, text: str = "Fine", *, ticket: str | None = None) -> DigestComment:
    return DigestComment(
        survey_id=number,
        ticket=ticket or f"T-{number}",
        score=number % 11,
        text=text,
        at=PERIOD.end - timedelta(minutes=number),
    )


def digest(**changes: object) -> WeeklyDigest:
    """10 answers (5/2/3, NPS 20) against 8 (3/3/2, NPS 12.5); 9 of 12 sent surveys answered.

    Scores 10, 10, 9, 9, 9, 8, 7, 6, 3, 0. Adjusted Wald: n' = 13, p' = 5.75/13, d' = 3.75/13,
    interval -30 to 61; the week before n' = 11, p' = 3.75/11, d' = 2.75/11, so the change of
    +7.5 (shown +8) has the interval -58 to +71: within noise (tests/core/test_nps.py checks the
    arithmetic itself).
    """
    base = WeeklyDigest(
        period=PERIOD,
        responses=10,
        promoters=5,
        passives=2,
        detractors=3,
        nps=20.0,
        surveys_sent=12,
        answered_of_sent=9,
        response_rate=0.75,
        previous_nps=12.5,
        nps_change=7.5,
        previous_responses=8,
        comments=[],
        previous_bands=NpsSummary(promoters=3, passives=3, detractors=2),
        distribution=(1, 0, 0, 1, 0, 0, 1, 1, 1, 3, 2),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


LOOP = LoopStats(
    alerted=3,
    taken=2,
    resolved=1,
    median_first_contact=timedelta(hours=2, minutes=50),
    open_at_end=4,
    reannounced=1,
    recovery_answered=2,
    recovered=1,
)

NO_ANSWERS = {
    "responses": 0,
    "promoters": 0,
    "passives": 0,
    "detractors": 0,
    "nps": None,
    "nps_change": None,
    "distribution": (0,) * 11,
}


def test_english_html_digest() -> None:
    text = render_digest(
        digest(comments=[comment(9, "Quick, thanks"), comment(3, "Slow")]),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert text == (
        "<b>NPS digest</b>\n"
        "Jan 6, 2025 – Jan 12, 2025\n"
        "\n"
        "NPS: <b>20</b>, 95% interval -30 to 61\n"
        "Change vs previous period: <b>+8</b> (95% interval -58 to +71), within noise\n"
        "10 responses (previous period: 8)\n"
        "5 promoters (50%)\n"
        "2 passives (20%)\n"
        "3 detractors (30%)\n"
        "Scores 0 to 10: 1 · 0 · 0 · 1 · 0 · 0 · 1 · 1 · 1 · 3 · 2\n"
        "\n"
        "12 surveys sent\n"
        "Response rate: <b>75%</b> (9 of 12 answered)\n"
        "\n"
        "<b>Detractors' words</b>\n"
        "Score <b>3</b> · ticket <code>T-3</code>\n"
        "<blockquote>Slow</blockquote>\n"
        "\n"
        "<b>Promoters' words</b>\n"
        "Score <b>9</b> · ticket <code>T-9</code>\n"
        "<blockquote>Quick, thanks</blockquote>"
    )


def test_a_change_beyond_noise_says_so() -> None:
    # 100 answers 60/30/10 (NPS 50) against 100 answers 30/30/40 (NPS -10): +60, interval +38
    # to +79.
    text = render_digest(
        digest(
            responses=100,
            promoters=60,
            passives=30,
            detractors=10,
            nps=50.0,
            previous_bands=NpsSummary(promoters=30, passives=30, detractors=40),
        ),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
        html=False,
    )

    assert "NPS: 50, 95% interval 35 to 62\n" in text
    assert "Change vs previous period: +60 (95% interval +38 to +79), beyond noise" in text


def test_english_singular_forms() -> None:
    text = render_digest(
        digest(responses=1, promoters=1, passives=1, detractors=1, surveys_sent=1),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert "1 response (previous period: 8)" in text
    assert "1 promoter (" in text
    assert "1 passive (" in text
    assert "1 detractor (" in text
    assert "1 survey sent" in text


def test_russian_plural_forms_and_number_format() -> None:
    # 21 answers 1/3/17: NPS -76.2 (shown -76), interval -91 to -42; change -88.7 (shown -89),
    # interval -127 to -25: a difference of two NPS can reach 200.
    text = render_digest(
        digest(
            responses=21,
            promoters=1,
            passives=3,
            detractors=17,
            nps=-100 * 16 / 21,
            surveys_sent=1234,
            answered_of_sent=617,
            response_rate=0.5,
        ),
        tz=MOSCOW,
        translator=russian(),
        language="ru",
    )

    assert text.startswith("<b>Дайджест NPS</b>\n6 янв. 2025")
    assert "NPS: <b>-76</b>, 95%-й интервал от -91 до -42" in text
    assert (
        "Изменение к прошлому периоду: <b>-89</b> (95%-й интервал от -127 до -25), сверх шума"
        in text
    )
    assert "21 ответ (в прошлом периоде: 8)" in text
    assert "1 промоутер (5\xa0%)" in text
    assert "3 нейтральных (14\xa0%)" in text
    assert "17 критиков (81\xa0%)" in text
    assert "Отправлено 1\xa0234 опроса" in text
    assert "Доля ответов: <b>50\xa0%</b> (ответили на 617 из 1\xa0234)" in text
    assert "Комментариев за этот период нет" in text


@pytest.mark.parametrize(
    ("responses", "expected"),
    [(1, "1 ответ "), (2, "2 ответа "), (5, "5 ответов "), (11, "11 ответов "), (22, "22 ответа ")],
)
def test_russian_plural_rule(responses: int, expected: str) -> None:
    text = render_digest(
        digest(responses=responses, promoters=responses, passives=0, detractors=0),
        tz=MOSCOW,
        translator=russian(),
        language="ru",
    )

    assert expected in text


def test_no_previous_answers() -> None:
    text = render_digest(
        digest(previous_nps=None, nps_change=None, previous_responses=0, previous_bands=None),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert (
        "NPS: <b>20</b>, 95% interval -30 to 61\nPrevious period: no answers to compare with\n"
        in text
    )


def test_no_change_has_no_sign() -> None:
    # The same counts twice: a change of 0, interval -65 to +65.
    text = render_digest(
        digest(previous_bands=NpsSummary(promoters=5, passives=2, detractors=3)),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
        html=False,
    )

    assert "Change vs previous period: 0 (95% interval -65 to +65), within noise" in text


def test_period_without_answers_says_so() -> None:
    text = render_digest(
        digest(**NO_ANSWERS, surveys_sent=3, answered_of_sent=0, response_rate=0.0),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert "<b>No answers in this period</b>" in text
    assert "Previous period: NPS 13 from 8 responses" in text  # 12.5, halves away from zero
    assert "Response rate: <b>0%</b> (0 of 3 answered)" in text
    assert "nan" not in text.lower()
    assert "promoter" not in text


def test_nothing_sent_nothing_answered() -> None:
    text = render_digest(
        digest(
            **NO_ANSWERS,
            previous_nps=None,
            previous_responses=0,
            previous_bands=NpsSummary(0, 0, 0),
            surveys_sent=0,
            answered_of_sent=0,
            response_rate=None,
        ),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
        html=False,
    )

    assert text == (
        "NPS digest\n"
        "Jan 6, 2025 – Jan 12, 2025\n"
        "\n"
        "No answers in this period\n"
        "\n"
        "No surveys sent in this period\n"
        "\n"
        "No comments in this period"
    )


def test_client_text_is_escaped_in_html() -> None:
    text = render_digest(
        digest(comments=[comment(1, "<script>&", ticket="A&B<1>")]),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert "<blockquote>&lt;script&gt;&amp;</blockquote>" in text
    assert "<code>A&amp;B&lt;1&gt;</code>" in text
    assert "<script>" not in text
    # Only the tags we emit remain once escaped content is set aside.
    emitted = {"b", "/b", "code", "/code", "blockquote", "/blockquote"}
    assert set(re.findall(r"<(/?\w+)", text)) <= emitted


def test_plain_mode_has_no_tags_and_no_escaping() -> None:
    text = render_digest(
        digest(comments=[comment(1, "<script>&\nsecond line", ticket="A&B")]),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
        html=False,
    )

    assert TAG.search(text) is None
    assert "&amp;" not in text
    assert "Score 1 · ticket A&B\n> <script>&\n> second line" in text
    assert "Change vs previous period: +8 (95% interval -58 to +71), within noise" in text


def test_long_comment_is_cut_only_in_the_display() -> None:
    long_text = "x" * 400
    the_digest = digest(comments=[comment(1, long_text)])

    text = render_digest(
        the_digest, tz=MOSCOW, translator=ENGLISH, language="en", html=False, comment_limit=300
    )

    quoted = next(line for line in text.splitlines() if line.startswith("> "))
    assert quoted == "> " + "x" * 299 + "…"
    assert the_digest.comments[0].text == long_text


def test_newest_detractors_and_promoters_and_the_count_left_out() -> None:
    # Scores are number % 11: 1..6 detractors, 7..8 passives, 9..10 promoters, 11 (0) and 12..17
    # (1..6) detractors, 20, 21 promoters (9, 10): 13 detractors, 4 promoters; a smaller number
    # is a newer comment.
    comments = sorted(
        (comment(number) for number in range(1, 22)), key=lambda c: c.at, reverse=True
    )

    text = render_digest(
        digest(comments=comments), tz=MOSCOW, translator=ENGLISH, language="en", max_comments=3
    )

    detractors, promoters = text.split("<b>Detractors' words</b>")[1].split(
        "<b>Promoters' words</b>"
    )
    assert re.findall(r"T-\d+", detractors) == ["T-1", "T-2", "T-3"]
    assert detractors.strip().endswith("…and 10 more comments not shown")
    assert re.findall(r"T-\d+", promoters) == ["T-9", "T-10", "T-20"]
    assert promoters.endswith("…and 1 more comment not shown")
    assert "T-7" not in text  # passives are neither


def test_output_stays_under_telegram_limit() -> None:
    comments = [comment(number, "<&>" * 100) for number in range(1, 111)]
    groups = tuple(
        GroupScore(name=f"Agent {'x' * 60} {n}", responses=5 + n, promoters=n, detractors=2)
        for n in range(40)
    )
    many = tuple(Breakdown(dimension, groups) for dimension in DIMENSIONS)

    text = render_digest(
        digest(comments=comments, breakdowns=many, loop=LOOP),
        tz=MOSCOW,
        translator=russian(),
        language="ru",
        max_comments=50,
    )

    shown = text.count("<blockquote>")
    assert telegram_length(text) <= TELEGRAM_MESSAGE_LIMIT
    assert 0 < shown < 100
    assert "<code>T-1</code>" in text  # the newest detractor's words are kept
    assert "<code>T-9</code>" in text  # and the newest promoter's


def test_limit_counts_utf16_units() -> None:
    assert telegram_length("😀a") == 3


@pytest.mark.parametrize(("field", "value"), [("max_comments", -1), ("comment_limit", 0)])
def test_bad_limits_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        render_digest(
            digest(),
            tz=MOSCOW,
            translator=ENGLISH,
            language="en",
            **{field: value},  # type: ignore[arg-type]
        )


def test_a_breakdown_marks_only_groups_beyond_noise_and_lists_not_set_last() -> None:
    # ann 6 answers 4P/1D (NPS 50, -18 to 84), bob 5 answers 1P/3D (NPS -40, -80 to 30); two
    # groups of 2 folded: 1P/1D of 4 (NPS 0, -52 to 52); not set 5P of 5 (NPS 100, 17 to 100).
    agents = Breakdown(
        "agent",
        (
            GroupScore("ann", responses=6, promoters=4, detractors=1, standing=Standing.ABOVE),
            GroupScore("bob", responses=5, promoters=1, detractors=3, standing=Standing.BELOW),
            GroupScore("cid", responses=15, promoters=6, detractors=5),
            GroupScore("dan", responses=5, promoters=2, detractors=2),
        ),
        other=GroupScore(None, responses=4, promoters=1, detractors=1),
        other_groups=2,
        not_set=GroupScore(None, responses=5, promoters=5, detractors=0),
    )
    lonely_team = Breakdown("team", (GroupScore("tier-1", 15, 6, 5),))  # nothing to compare

    text = render_digest(
        digest(breakdowns=(agents, lonely_team)),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
        html=False,
    )

    assert (
        "By agent\n"
        "ann: NPS 50, 95% interval -18 to 84 (6 answers), above the rest\n"
        "bob: NPS -40, 95% interval -80 to 30 (5 answers), below the rest\n"
        "2 more groups within noise of the rest\n"
        "Other: 2 groups under 5 answers, NPS 0, 95% interval -52 to 52 (4 answers)\n"
        "Not set: NPS 100, 95% interval 17 to 100 (5 answers)"
    ) in text
    assert "By team" not in text
    assert "1." not in text and "cid" not in text  # no ranking, and no list of the unmarked


def test_a_breakdown_where_nothing_differs_says_so_in_one_line() -> None:
    groups = (GroupScore("ann", 6, 4, 1), GroupScore("bob", 5, 1, 3))
    breakdown = Breakdown("agent", groups, not_set=GroupScore(None, 5, 5, 0))
    english = render_digest(
        digest(breakdowns=(breakdown,)), tz=MOSCOW, translator=ENGLISH, language="en", html=False
    )
    russian_text = render_digest(
        digest(breakdowns=(breakdown,)), tz=MOSCOW, translator=russian(), language="ru", html=False
    )

    block = english.split("\n\n")
    assert "By agent: no group differs from the rest beyond noise (2 groups compared)" in block
    assert "ann" not in english and "Not set" not in english
    assert (
        "По агентам: ни одна группа не отличается от остальных сверх шума (сравнены 2 группы)"
        in russian_text
    )


def test_many_groups_beyond_noise_show_at_most_three_each_way() -> None:
    above = [GroupScore(f"up{n}", 50 + n, 40, 0, standing=Standing.ABOVE) for n in range(5)]
    below = [GroupScore(f"down{n}", 50 + n, 0, 40 - n, standing=Standing.BELOW) for n in range(4)]
    text = render_digest(
        digest(breakdowns=(Breakdown("channel", (*above, *below)),)),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
        html=False,
    )

    block = text.split("By channel\n")[1].split("\n\n")[0].splitlines()
    # Above: the highest NPS first (fewer answers, same promoters); below: the lowest last.
    assert [line.split(":")[0] for line in block] == [
        "up0", "up1", "up2", "down2", "down1", "down0",
        "…and 3 more groups beyond noise not shown",
    ]  # fmt: skip


def test_unnamed_group_and_html_escaping() -> None:
    groups = (GroupScore("A&B <sales>", 5, 0, 5, standing=Standing.BELOW),)
    text = render_digest(
        digest(breakdowns=(Breakdown("company", groups, not_set=GroupScore(None, 5, 5, 0)),)),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert (
        "<b>By company</b>\nA&amp;B &lt;sales&gt;: NPS <b>-100</b>, 95% interval -100 to -17"
        in text
    )
    assert "Not set: NPS <b>100</b>, 95% interval 17 to 100 (5 answers)" in text


def test_a_russian_breakdown_reads_in_russian() -> None:
    groups = (GroupScore("Анна", 6, 4, 1, standing=Standing.ABOVE), GroupScore("Борис", 22, 5, 5))
    text = render_digest(
        digest(breakdowns=(Breakdown("agent", groups),)),
        tz=MOSCOW,
        translator=russian(),
        language="ru",
        html=False,
    )

    assert (
        "По агентам\n"
        "Анна: NPS 50, 95%-й интервал от -18 до 84 (6 ответов), выше остальных\n"
        "Ещё 1 группа в пределах шума относительно остальных"
    ) in text


def test_closed_loop_in_english() -> None:
    text = render_digest(
        digest(loop=LOOP), tz=MOSCOW, translator=ENGLISH, language="en", html=False
    )

    assert (
        "Closed loop\n"
        "3 detractors alerted: 2 taken, 1 resolved\n"
        "Median time to first contact: 3 hours\n"
        "4 cases still open at the end of the period\n"
        "1 alert re-announced after waiting too long\n"
        "Recovered: 1 of 2 clients who answered"
    ) in text


def test_quiet_closed_loop() -> None:
    quiet = LoopStats(0, 0, 0, None, 0, 0, 0, 0)
    text = render_digest(
        digest(loop=quiet), tz=MOSCOW, translator=ENGLISH, language="en", html=False
    )

    assert "Closed loop\nNo detractor alerts in this period" in text


def test_closed_loop_in_russian() -> None:
    one = LoopStats(
        alerted=1,
        taken=1,
        resolved=0,
        median_first_contact=timedelta(minutes=25),
        open_at_end=2,
        reannounced=5,
        recovery_answered=1,
        recovered=1,
    )
    text = render_digest(
        digest(loop=one), tz=MOSCOW, translator=russian(), language="ru", html=False
    )

    assert "1 критик в алертах: взято 1, решено 0" in text
    assert "Медиана времени до первого контакта: 25 минут" in text
    assert "2 случая ещё открыты на конец периода" in text
    assert "5 алертов повторно объявлены после долгого ожидания" in text
    assert "Исправили: 1 из 1 ответившего клиента" in text


def test_summary_is_short() -> None:
    text = render_summary(
        digest(comments=[comment(3, "Slow")], loop=LOOP),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert text == (
        "<b>Jan 6, 2025 – Jan 12, 2025</b>\n"
        "\n"
        "NPS: <b>20</b>, 95% interval -30 to 61\n"
        "Change vs previous period: <b>+8</b> (95% interval -58 to +71), within noise\n"
        "10 responses (previous period: 8)\n"
        "5 promoters (50%)\n"
        "2 passives (20%)\n"
        "3 detractors (30%)\n"
        "Scores 0 to 10: 1 · 0 · 0 · 1 · 0 · 0 · 1 · 1 · 1 · 3 · 2"
    )

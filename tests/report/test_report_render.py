"""render_digest: English and Russian texts, HTML safety, the Telegram length cap, plain mode."""

# Russian words spelt only with Latin look-alike letters, and the en dash, are meant: not typos.

from __future__ import annotations

import gettext
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel import Locale

from bot.core.periods import last_full_week
from bot.i18n import Translator, translator
from bot.report.render import TELEGRAM_MESSAGE_LIMIT, render_digest, telegram_length
from bot.report.weekly import DigestComment, WeeklyDigest

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
    """10 answers (5/2/3, NPS 20) against 7.5 the week before; 9 of 12 sent surveys answered."""
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
        previous_nps=7.5,
        nps_change=12.5,
        previous_responses=8,
        comments=[],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


NO_ANSWERS = {
    "responses": 0,
    "promoters": 0,
    "passives": 0,
    "detractors": 0,
    "nps": None,
    "nps_change": None,
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
        "NPS: <b>20.0</b> (+12.5 vs previous week)\n"
        "10 responses (previous week: 8)\n"
        "5 promoters (50%)\n"
        "2 passives (20%)\n"
        "3 detractors (30%)\n"
        "\n"
        "12 surveys sent\n"
        "Response rate: <b>75%</b> (9 of 12 answered)\n"
        "\n"
        "<b>Comments</b>\n"
        "Score <b>9</b> · ticket <code>T-9</code>\n"
        "<blockquote>Quick, thanks</blockquote>\n"
        "\n"
        "Score <b>3</b> · ticket <code>T-3</code>\n"
        "<blockquote>Slow</blockquote>"
    )


def test_english_singular_forms() -> None:
    text = render_digest(
        digest(responses=1, promoters=1, passives=1, detractors=1, surveys_sent=1),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert "1 response (previous week: 8)" in text
    assert "1 promoter (" in text
    assert "1 passive (" in text
    assert "1 detractor (" in text
    assert "1 survey sent" in text


def test_russian_plural_forms_and_number_format() -> None:
    text = render_digest(
        digest(
            responses=21,
            promoters=1,
            passives=3,
            detractors=17,
            nps=-100 * 16 / 21,
            nps_change=-100 * 16 / 21 - 7.5,
            surveys_sent=1234,
            answered_of_sent=617,
            response_rate=0.5,
        ),
        tz=MOSCOW,
        translator=russian(),
        language="ru",
    )

    assert text.startswith("<b>Дайджест NPS</b>\n6 янв. 2025")
    assert "NPS: <b>-76,2</b> (-83,7 к прошлой неделе)" in text
    assert "21 ответ (неделей раньше: 8)" in text
    assert "1 промоутер (5\xa0%)" in text
    assert "3 нейтральных (14\xa0%)" in text
    assert "17 критиков (81\xa0%)" in text
    assert "Отправлено 1\xa0234 опроса" in text
    assert "Доля ответов: <b>50\xa0%</b> (ответили на 617 из 1\xa0234)" in text
    assert "Комментариев на этой неделе нет" in text


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


def test_no_previous_week() -> None:
    text = render_digest(
        digest(previous_nps=None, nps_change=None, previous_responses=0),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert "NPS: <b>20.0</b> (previous week: no data)" in text


def test_change_rounding_to_zero_has_no_minus_sign() -> None:
    text = render_digest(
        digest(nps_change=-0.04), tz=MOSCOW, translator=ENGLISH, language="en", html=False
    )

    assert "NPS: 20.0 (0.0 vs previous week)" in text


def test_week_without_answers_says_so() -> None:
    text = render_digest(
        digest(**NO_ANSWERS, surveys_sent=3, answered_of_sent=0, response_rate=0.0),
        tz=MOSCOW,
        translator=ENGLISH,
        language="en",
    )

    assert "<b>No answers this week</b>" in text
    assert "Previous week: NPS 7.5 from 8 responses" in text
    assert "Response rate: <b>0%</b> (0 of 3 answered)" in text
    assert "nan" not in text.lower()
    assert "promoter" not in text


def test_nothing_sent_nothing_answered() -> None:
    text = render_digest(
        digest(
            **NO_ANSWERS,
            previous_nps=None,
            previous_responses=0,
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
        "No answers this week\n"
        "\n"
        "No surveys sent this week\n"
        "\n"
        "No comments this week"
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
    assert "NPS: 20.0 (+12.5 vs previous week)" in text


def test_long_comment_is_cut_only_in_the_display() -> None:
    long_text = "x" * 400
    the_digest = digest(comments=[comment(1, long_text)])

    text = render_digest(
        the_digest, tz=MOSCOW, translator=ENGLISH, language="en", html=False, comment_limit=300
    )

    quoted = next(line for line in text.splitlines() if line.startswith("> "))
    assert quoted == "> " + "x" * 299 + "…"
    assert the_digest.comments[0].text == long_text


def test_max_comments_and_the_count_left_out() -> None:
    comments = [comment(number) for number in range(1, 13)]

    text = render_digest(
        digest(comments=comments), tz=MOSCOW, translator=ENGLISH, language="en", max_comments=10
    )

    assert text.count("<blockquote>") == 10
    assert "ticket <code>T-10</code>" in text
    assert "ticket <code>T-11</code>" not in text
    assert text.endswith("…and 2 more comments not shown")


def test_output_stays_under_telegram_limit() -> None:
    comments = [comment(number, "<&>" * 100) for number in range(1, 51)]

    text = render_digest(
        digest(comments=comments), tz=MOSCOW, translator=russian(), language="ru", max_comments=50
    )

    shown = text.count("<blockquote>")
    assert telegram_length(text) <= TELEGRAM_MESSAGE_LIMIT
    assert 0 < shown < 50
    left_out = 50 - shown
    form = {"one": "комментарий не показан", "few": "комментария не показаны"}.get(
        Locale("ru").plural_form(left_out), "комментариев не показаны"
    )
    assert text.endswith(f"…и ещё {left_out} {form}")
    # The newest comments are the ones kept.
    assert "<code>T-1</code>" in text


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

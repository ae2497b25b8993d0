"""A round's digest text: anonymous totals, or nothing about scores below the minimum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.enps import round_figures
from bot.enps.report import RoundReport, render_round
from bot.i18n import translator

MOSCOW = ZoneInfo("Europe/Moscow")
OPENED = datetime(2027, 1, 1, 7, 0, tzinfo=UTC)


def report(
    scores: list[int], comments: list[str], previous: list[int] | None = None
) -> RoundReport:
    figures = round_figures(
        scores=scores,
        invited=8,
        answered=len(scores),
        unreachable=0,
        min_group=5,
        previous_scores=previous,
    )
    return RoundReport("staff <core>", OPENED, OPENED + timedelta(days=7), figures, comments)


def render(item: RoundReport, language: str = "en", *, html: bool = True) -> str:
    return render_round(
        item, tz=MOSCOW, translator=translator(language), language=language, html=html
    )


def test_below_the_minimum_only_participation_is_shown() -> None:
    text = render(report([0, 10, 10, 9], ["I am the only one who says <this>"]))
    assert "Too few answers to report anonymously" in text
    assert "Scores and comments are shown from 5 answers on." in text
    assert "Response rate: <b>50%</b> (4 of 8 answered)" in text
    assert "eNPS" not in text  # no score line
    assert "interval" not in text and "Scores 0 to 10" not in text and "only one" not in text


def test_a_reportable_round_shows_score_change_bands_and_escaped_comments() -> None:
    many = [f"comment {n} & more" for n in range(7)]
    text = render(report([10, 10, 9, 9, 0], many, previous=[10, 0, 0, 0, 0]))
    assert "<b>Employee NPS: staff &lt;core&gt;</b>" in text
    assert "Jan 1, 2027 – Jan 8, 2027" in text
    assert "eNPS: <b>60</b>, 95% interval -19 to 94" in text
    # Five answers against five: even +120 is within noise once the interval is honest.
    assert "Change vs previous round: <b>+120</b> (95% interval -5 to +155), within noise" in text
    assert "4 promoters (80%)" in text and "0 passives (0%)" in text
    assert "<blockquote>comment 0 &amp; more</blockquote>" in text
    assert text.count("<blockquote>") == 5
    assert "and 2 more comments" in text


def test_russian_plural_forms_and_plain_text() -> None:
    text = render(report([10, 10, 9], ["раз"]), "ru", html=False)
    assert "Слишком мало ответов" in text
    assert "начиная с 5 ответов" in text
    one = render(report([10, 10, 9, 9, 0, 8], ["один"]), "ru", html=False)
    assert "1 критик (17" in one and "4 промоутера" in one
    assert "1 комментарий скрыт: комментарии показываются, только когда их не меньше 5" in one
    assert "один" not in one
    assert "Нет предыдущего раунда для сравнения" in one


def test_comments_fewer_than_the_minimum_are_held_back_whatever_the_scores() -> None:
    # Seven scores would do, but two comments would hide only among those who finished after
    # the score (the outbox shows who got the thanks): fewer than five people.
    text = render(report([10, 10, 9, 9, 0, 7, 8], ["only <two>", "of us"]))
    assert "eNPS: <b>" in text  # the scores are reportable
    assert "2 comments held back: comments are shown only when there are at least 5" in text
    assert "<blockquote>" not in text and "two" not in text and "of us" not in text
    five = render(report([10, 10, 9, 9, 0, 7, 8], [f"c{n}" for n in range(5)]))
    assert five.count("<blockquote>") == 5 and "held back" not in five
    three = render(report([10, 10, 9, 9, 0], ["a", "b", "c"]), "ru", html=False)
    assert "3 комментария скрыты" in three

"""Drivers from the period's theme counts and comments, and how the digest and /themes say them."""

from __future__ import annotations

import gettext
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from bot.core.nps import NpsSummary
from bot.i18n import translator
from bot.report.drivers import compute_drivers, mentions_by_theme
from bot.report.period import RatingSummary
from bot.report.render import (
    TELEGRAM_MESSAGE_LIMIT,
    render_digest,
    render_themes,
    telegram_length,
)
from bot.themes.emerging import EmergingWord, emerging_words
from bot.themes.tagger import Tagger
from bot.themes.taxonomy import builtin_taxonomy
from tests.report.test_report_render import digest

NOW = datetime(2025, 1, 12, 12, 0, tzinfo=UTC)
MOSCOW = ZoneInfo("Europe/Moscow")
TAXONOMY = builtin_taxonomy()


def counts(rows: list[tuple[int, str | None, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "score": pd.Series([r[0] for r in rows], dtype="int64"),
            "themes": pd.Series([r[1] for r in rows], dtype="string"),
            "answers": pd.Series([r[2] for r in rows], dtype="int64"),
        }
    )


def comments(rows: list[tuple[int, int, str, str | None]]) -> pd.DataFrame:
    """(survey id, score, text, themes); a larger id is a newer comment."""
    return pd.DataFrame(
        {
            "survey_id": pd.Series([r[0] for r in rows], dtype="int64"),
            "ticket": pd.Series([f"T-{r[0]}" for r in rows], dtype="string"),
            "score": pd.Series([r[1] for r in rows], dtype="Int64"),
            "comment": pd.Series([r[2] for r in rows], dtype="string"),
            "commented_at": pd.Series(
                [NOW - timedelta(hours=100 - r[0]) for r in rows], dtype="datetime64[us, UTC]"
            ),
            "themes": pd.Series([r[3] for r in rows], dtype="string"),
        }
    )


# 120 answers (55/30/35, NPS 16.7): 30 mention speed (25 detractors; without them the NPS
# would be 47.8, so speed costs 31 points), 20 attitude (15 promoters), 4 price; 66 answers
# without a comment (NA), so 54 are tagged.
COUNTS = counts(
    [
        (0, "speed", 20),
        (3, "speed;price", 3),
        (5, "speed", 2),
        (7, "speed", 3),
        (10, "speed", 2),
        (10, "attitude", 15),
        (8, "attitude", 3),
        (2, "attitude", 2),
        (9, "price", 1),
        (7, "price", 0),
        (9, None, 34),
        (7, None, 24),
        (4, None, 8),
        (9, "", 3),  # tagged, about none of the themes
    ]
)
COMMENTS = comments(
    [
        (1, 0, "ждал неделю", "speed"),
        (2, 2, "waited forever", "speed"),
        (3, 1, "so slow, and rude", "speed;attitude"),
        (4, 10, "quick!", "speed"),
        (5, 10, "such a kind lady", "attitude"),
        (6, 9, "очень вежливо", "attitude"),
        (7, 9, "   ", "attitude"),  # blank: never quoted
    ]
)


def test_mentions_are_counted_per_theme_and_band() -> None:
    mentions = mentions_by_theme(COUNTS)
    assert mentions == {
        "attitude": NpsSummary(promoters=15, passives=3, detractors=2),
        "price": NpsSummary(promoters=1, passives=0, detractors=3),
        "speed": NpsSummary(promoters=2, passives=3, detractors=25),
    }


def test_drivers_quote_the_newest_comments_of_their_side() -> None:
    drivers = compute_drivers(COUNTS, COMMENTS)
    assert drivers.tagged == 54  # the 3 tagged about nothing included, the 66 NA not
    (speed,) = drivers.negative
    assert speed.theme == "speed"
    assert [q.text for q in speed.quotes] == ["so slow, and rude", "waited forever"]
    (attitude,) = drivers.positive
    assert [q.text for q in attitude.quotes] == ["очень вежливо", "such a kind lady"]
    assert "price" not in [d.theme for d in (*drivers.negative, *drivers.positive)]


def test_the_digest_says_what_drives_the_score_in_english_and_russian() -> None:
    drivers = compute_drivers(COUNTS, COMMENTS, emerging=[EmergingWord("смс", 4, 0, 12.0)])
    base = digest(drivers=drivers)
    english = render_digest(
        base, tz=MOSCOW, translator=translator("en"), language="en", html=False,
        theme_name=lambda theme: TAXONOMY.name(theme, "en"),
    )  # fmt: skip
    block = english.split("What drives the score\n")[1].split("\n\n")[0].splitlines()
    assert block[0] == "Pulls the score down:"
    assert block[1].startswith("Speed: -31 points, 95% interval -")
    assert block[2] == "Mentioned by detractors: 25, passives: 3, promoters: 2"
    assert block[3:5] == ["> so slow, and rude", "> waited forever"]
    assert block[5] == "Lifts the score:"
    assert block[6].startswith("Attitude: +")
    assert block[-1] == "New in detractors' words: смс (4)"

    russian = render_digest(
        base, tz=MOSCOW, translator=translator("ru"), language="ru", html=False,
        theme_name=lambda theme: TAXONOMY.name(theme, "ru"),
    )  # fmt: skip
    assert "Что влияет на оценку\nТянет оценку вниз:\nСкорость: -31 пункт, 95%-й интервал от" in (
        russian
    )
    assert "Упоминают критики: 25, нейтральные: 3, промоутеры: 2" in russian
    assert "Новое в словах критиков: смс (4)" in russian


def test_a_period_where_no_theme_moves_the_score_says_so_once() -> None:
    few = counts([(0, "speed", 1), (10, "attitude", 1), (8, None, 3)])
    drivers = compute_drivers(few, comments([]))
    text = render_digest(
        digest(drivers=drivers), tz=MOSCOW, translator=gettext.NullTranslations(),
        language="en", html=False,
    )  # fmt: skip
    assert (
        "What drives the score\nNo theme moves the score beyond noise (2 answers with a comment)"
        in text
    )
    assert "Pulls the score down" not in text


def test_no_tagged_comment_means_no_block() -> None:
    drivers = compute_drivers(counts([(9, None, 5)]), comments([]))
    text = render_digest(
        digest(drivers=drivers), tz=MOSCOW, translator=gettext.NullTranslations(), language="en"
    )
    assert "What drives the score" not in text


def test_themes_command_lists_every_theme_with_its_noise() -> None:
    drivers = compute_drivers(COUNTS, COMMENTS)
    text = render_themes(
        digest(drivers=drivers), tz=MOSCOW, translator=translator("en"), language="en",
        theme_name=lambda theme: TAXONOMY.name(theme, "en"),
    )  # fmt: skip
    lines = text.splitlines()
    assert lines[2] == "<b>Themes of the comments</b>"
    names = [line.split(":")[0] for line in lines if "points" in line or "point," in line]
    assert names == ["<b>Speed</b>", "<b>Attitude</b>", "<b>Price</b>"]
    assert lines.count("Beyond noise") == 2 and lines.count("Within noise") == 1
    assert "54 answers with a comment" in text


def test_emerging_words_are_new_frequent_detractor_words_not_in_the_taxonomy() -> None:
    tagger = Tagger(TAXONOMY)
    current = [
        "После обновления не приходит СМС",
        "смс не приходят",
        "код из смс не пришёл, ждал час",
        "ужасно долго ждал",
        "ждал и ждал",
        "ждали весь день",
    ]
    earlier = ["долго ждал", "грубо", "всё хорошо"] * 5
    found = emerging_words(current, earlier, tagger)
    assert [w.word for w in found] == ["смс"]
    assert (found[0].comments, found[0].earlier) == (3, 0)
    # "ждать" is frequent too, but the taxonomy knows it; "не" is a stop word.
    assert emerging_words(current, earlier, tagger, min_count=4) == ()
    assert emerging_words([], earlier, tagger) == ()


def test_a_theme_in_every_answer_is_listed_with_its_mentions_and_nothing_to_compare() -> None:
    both = counts([(2, "speed", 1), (9, "speed", 1)])
    drivers = compute_drivers(both, comments([(1, 2, "slow", "speed"), (2, 9, "fast", "speed")]))
    assert (drivers.negative, drivers.positive) == ((), ())
    text = render_themes(
        digest(drivers=drivers), tz=MOSCOW, translator=translator("en"), language="en",
        theme_name=lambda theme: TAXONOMY.name(theme, "en"),
    )  # fmt: skip
    assert "<b>Speed</b>: in every answer, so nothing to compare it with" in text
    assert "Mentioned by detractors: 1, passives: 0, promoters: 1" in text
    assert "No comment of this period is about any theme" not in text


def test_comments_stored_before_themes_existed_are_counted_and_the_fix_named() -> None:
    old = comments([(1, 2, "slow", None), (2, 9, "   ", None), (3, 3, "rude", "attitude")])
    drivers = compute_drivers(counts([(2, None, 1), (9, None, 1), (3, "attitude", 1)]), old)
    assert drivers.untagged == 1  # the blank one is no comment
    text = render_themes(
        digest(drivers=drivers), tz=MOSCOW, translator=translator("ru"), language="ru"
    )
    assert "1 комментарий ещё без тем: их проставит npsbot themes --recompute" in text


def test_a_long_taxonomy_is_cut_by_whole_themes_within_telegrams_limit() -> None:
    many = counts([(2, f"theme_{n}", 1) for n in range(120)] + [(9, None, 200)])
    drivers = compute_drivers(many, comments([]))
    text = render_themes(
        digest(drivers=drivers), tz=MOSCOW, translator=translator("en"), language="en",
        theme_name=lambda theme: f"<{theme}> & a very long name of an operator's theme " * 2,
    )  # fmt: skip
    assert telegram_length(text) <= TELEGRAM_MESSAGE_LIMIT
    assert re.search(r"…and \d+ more themes not shown", text)
    assert text.count("<b>") == text.count("</b>")  # never cut inside the markup


def test_the_digest_stays_within_telegrams_limit_with_long_drivers() -> None:
    quote = "😀 & <b>" * 40
    rows = [(1, 1, quote, "speed;attitude;price") for _ in range(6)]
    rows += [(n, 10, quote, "resolution;competence;product") for n in range(7, 13)]
    many = counts(
        [
            (1, "speed;attitude;price", 60),
            (10, "resolution;competence;product", 60),
            (8, None, 60),
        ]
    )
    drivers = compute_drivers(many, comments(rows))
    base = digest(
        drivers=drivers,
        comments=[c for c in digest().comments],
        ratings=tuple(RatingSummary(label="x" * 60 + str(n), mean=4.2, count=9) for n in range(6)),
    )
    text = render_digest(
        base, tz=MOSCOW, translator=translator("ru"), language="ru",
        theme_name=lambda theme: "&<" * 30 + theme,
    )  # fmt: skip
    assert telegram_length(text) <= TELEGRAM_MESSAGE_LIMIT

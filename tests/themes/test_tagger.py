"""The taxonomy matches lemmas: inflected Russian, English forms, phrases and prefixes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.themes import words
from bot.themes.tagger import Tagger, WarmUpOnFirstScore, compile_keyword
from bot.themes.taxonomy import builtin_taxonomy
from bot.themes.words import lemmas

TAGGER = Tagger(builtin_taxonomy())


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("ждал ответа", "speed"),
        ("ждали всей семьёй", "speed"),
        ("ожидание было долгим", "speed"),
        ("пришлось ждать", "speed"),
        ("грубо ответили", "attitude"),
        ("мне нагрубили", "attitude"),
        ("I waited an hour", "speed"),
        ("still waiting for someone", "speed"),
        ("the refund was processed", "price"),
        ("Refunded twice", "price"),
        ("the app crashed again", "product"),
        ("проблему так и не решили", "resolution"),
        ("отфутболили в другой отдел", "competence"),
        ("никто не перезвонил", "communication"),
    ],
)
def test_inflected_forms_match_the_same_keyword(text: str, theme: str) -> None:
    assert theme in TAGGER.tag(text)


def test_a_comment_can_have_two_themes_or_none() -> None:
    assert TAGGER.tag("Refund took forever and the agent was rude") == (
        "speed",
        "attitude",
        "price",
    )
    assert TAGGER.tag("спасибо") == ()
    assert TAGGER.tag("") == ()
    assert TAGGER.tag("👍👍👍 10/10") == ()


def test_explain_names_the_words_that_matched() -> None:
    (speed, attitude) = TAGGER.explain("Прождал 40 минут, оператор нагрубил")
    assert (speed.theme, speed.words) == ("speed", ("прождал",))
    assert (attitude.theme, attitude.words) == ("attitude", ("нагрубил",))


def test_a_phrase_may_have_a_word_or_two_between_its_words() -> None:
    assert "communication" in TAGGER.tag("nobody called me back")
    assert "competence" in TAGGER.tag("they passed me around for a week")
    # Too far apart is not the phrase.
    assert "communication" not in TAGGER.tag("call the office and go back home")


def test_a_prefix_matches_the_word_as_written_not_a_stem() -> None:
    assert compile_keyword("helpful*")[0].text == "helpful"
    assert "attitude" in TAGGER.tag("very helpful lady")
    assert "attitude" not in TAGGER.tag("called the helpline")
    assert "attitude" in TAGGER.tag("хамство и грубиянство")


def test_words_are_letters_lowercased_with_yo_read_as_ye() -> None:
    assert lemmas("ЁЛКИ-палки, It's 5pm! Ёжики") == ["елки-палки", "it", "s", "pm", "ежик"]


def test_a_tagger_compiles_on_first_use_so_a_process_without_comments_never_pays() -> None:
    words.lemma.cache_clear()
    tagger = Tagger(builtin_taxonomy())
    assert words.lemma.cache_info().currsize == 0  # no keyword lemmatised yet
    tagger.warm_up()  # what the bot runs in a thread when the first score comes
    compiled = words.lemma.cache_info().currsize
    assert compiled > 100
    assert tagger.tag("мне нагрубили") == ("attitude",)


def test_warm_up_soon_compiles_once_in_a_thread_and_returns_at_once() -> None:
    tagger = Tagger(builtin_taxonomy())
    assert not tagger.compiled
    thread = tagger.warm_up_soon()
    assert thread is not None and thread.name == "themes-warm-up"
    assert tagger.warm_up_soon() is None  # under way: not a second one
    thread.join(timeout=60)
    assert tagger.compiled
    assert tagger.warm_up_soon() is None
    assert tagger.tag("мне нагрубили") == ("attitude",)


async def test_the_bot_compiles_on_a_score_not_on_a_completed_survey() -> None:
    """Not at start-up (an idle bot keeps the memory): when a score comes, a comment may follow."""
    tagger = Tagger(builtin_taxonomy())
    listener = WarmUpOnFirstScore(tagger)
    now = datetime(2026, 11, 18, tzinfo=UTC)
    await listener.commented(object(), object(), now)
    assert not tagger.compiled and tagger._warming is None
    await listener.scored(object(), object(), now)
    thread = tagger.warm_up_soon()  # the listener's is under way
    assert thread is None
    tagger.warm_up()  # waits for the thread's compilation rather than doing it again
    assert tagger.compiled

"""The operator's themes file: add, extend, replace, rename and remove, every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.themes.tagger import Tagger
from bot.themes.taxonomy import ThemesError, builtin_taxonomy, load_taxonomy

BUILT_IN = ("speed", "resolution", "attitude", "competence", "communication", "price", "product")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "themes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_built_in_taxonomy_has_seven_themes_named_in_both_languages() -> None:
    taxonomy = builtin_taxonomy()
    assert taxonomy.ids == BUILT_IN
    for theme in taxonomy.themes:
        assert set(theme.names) == {"en", "ru"}
        assert theme.keywords["en"] and theme.keywords["ru"]
    assert taxonomy.name("speed", "ru") == "Скорость"
    assert taxonomy.name("gone", "en") == "gone"  # a stored id the taxonomy no longer has


def test_no_file_or_a_blank_setting_is_the_built_in_taxonomy() -> None:
    assert load_taxonomy(None).ids == BUILT_IN
    assert load_taxonomy("  ").ids == BUILT_IN


def test_the_operator_adds_extends_replaces_renames_and_removes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[speed]
keywords.en = ["snail"]

[attitude]
replace = true
keywords.en = ["grumpy"]

[price]
rename = "billing"
name = { en = "Billing" }

[product]
remove = true

[delivery]
name = { en = "Delivery", ru = "Доставка" }
keywords = { en = ["courier"], ru = ["курьер"] }
""",
    )
    taxonomy = load_taxonomy(path)
    tagger = Tagger(taxonomy)

    assert taxonomy.ids == (
        "speed", "resolution", "attitude", "competence", "communication", "billing", "delivery",
    )  # fmt: skip
    assert tagger.tag("slow as a snail") == ("speed",)  # the built-in "slow*" stays
    assert "attitude" not in tagger.tag("very rude")  # English replaced...
    assert "attitude" in tagger.tag("grumpy agent")
    assert "attitude" in tagger.tag("очень грубо")  # ...Russian kept
    assert tagger.tag("the refund") == ("billing",)
    assert taxonomy.name("billing", "en") == "Billing"
    assert taxonomy.name("billing", "ru") == "Цена"  # not renamed in Russian
    assert tagger.tag("курьер опоздал") == ("delivery",)
    assert "product" not in tagger.tag("the app crashed")


def test_every_problem_of_the_file_is_named_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[Bad-Id]
keywords.en = ["x"]

[speed]
colour = "red"
keywords.de = ["schnell"]

[attitude]
keywords.en = "rude"

[price]
remove = true
keywords.en = ["x"]

[nothing]
name = { en = "Nothing" }

[unknown]
remove = true

[resolution]
rename = "price"
keywords.en = ["", "*"]
""",
    )
    with pytest.raises(ThemesError) as caught:
        load_taxonomy(path)

    assert str(caught.value).startswith(f"themes file {path} has ")
    problems = caught.value.problems
    expected = [
        "Bad-Id: a theme id is 1 to 32",
        "speed.colour: unknown key",
        "speed.keywords.de: unknown language",
        "attitude.keywords.en: must be a list of keywords",
        "price: a removed theme takes no other keys",
        "nothing: a theme needs at least one keyword",
        "unknown.remove: there is no such theme to remove",
        "resolution.keywords.en[0]: must be a non-empty string",
        "resolution.keywords.en[1]: '*': a keyword is words of letters",
        "resolution.rename: price is a theme already",
    ]
    for start in expected:
        assert any(problem.startswith(start) for problem in problems), (start, problems)


@pytest.mark.parametrize(
    ("keyword", "problem"),
    [
        ("123", "a keyword is words of letters"),
        ("😀", "a keyword is words of letters"),
        ("c++", "a keyword is words of letters"),
        ("ab*c", "'*' may only end a word"),
        ("a*", "needs 3 letters or more"),
    ],
)
def test_a_keyword_that_could_never_match_as_meant_is_refused(
    tmp_path: Path, keyword: str, problem: str
) -> None:
    path = write(tmp_path, f'[speed]\nkeywords.en = ["{keyword}"]\n')
    with pytest.raises(ThemesError, match=problem):
        load_taxonomy(path)


@pytest.mark.parametrize("keyword", ["wi-fi", "didn't care", "хам*", "не помог*"])
def test_words_with_hyphens_apostrophes_and_starts_are_keywords(
    tmp_path: Path, keyword: str
) -> None:
    path = write(tmp_path, f'[speed]\nkeywords.en = ["{keyword}"]\n')
    assert keyword in load_taxonomy(path).get("speed").keywords["en"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"[speed\n", "is not valid TOML"), (b"\xff\xfe", "is not UTF-8 text")],
)
def test_a_file_that_cannot_be_read_says_why(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "themes.toml"
    path.write_bytes(content)
    with pytest.raises(ThemesError, match=problem):
        load_taxonomy(path)
    with pytest.raises(ThemesError, match="cannot be read"):
        load_taxonomy(tmp_path / "missing.toml")

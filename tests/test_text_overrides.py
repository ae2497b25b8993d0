"""Operator text overrides: a TOML file per language, checked at start-up, consulted first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.i18n import (
    OverrideError,
    Overrides,
    load_overrides,
    translator,
    use_overrides,
)
from bot.survey.texts import question_text

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How likely are you to recommend %(company)s to a friend or colleague?"
SENT = ("%(count)s survey sent", "%(count)s surveys sent")
RATE = "Response rate: %(rate)s (%(answered)s of %(sent)s answered)"

VALID = f"""
[en]
"{QUESTION}" = "Would you recommend %(company)s to a friend?"
"%(count)s survey sent" = ["One survey went out: %(count)s", "%(count)s surveys went out"]

[ru]
"What went wrong?" = "Что нам стоит исправить?"
"%(count)s survey sent" = [
    "Ушёл %(count)s опрос",
    "Ушло %(count)s опроса",
    "Ушло %(count)s опросов",
]
"{RATE}" = "Ответили %(answered)s из %(sent)s (%(rate)s), цель 100%%"
"""


@pytest.fixture(autouse=True)
def _shipped_texts_afterwards() -> Iterator[None]:
    """Whatever a test installs, the next one (here or elsewhere) sees the shipped texts."""
    use_overrides(None)
    yield
    use_overrides(None)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "texts.toml"
    path.write_text(text, encoding="utf-8")
    return path


def installed(tmp_path: Path, text: str = VALID) -> Overrides:
    overrides = load_overrides(write(tmp_path, text))
    use_overrides(overrides)
    return overrides


def test_a_valid_file_changes_only_the_texts_it_names(tmp_path: Path) -> None:
    installed(tmp_path)
    en, ru = translator("en"), translator("ru")
    assert en.gettext(QUESTION) % {"company": "ACME"} == "Would you recommend ACME to a friend?"
    assert ru.gettext("What went wrong?") == "Что нам стоит исправить?"
    # The rest stays as shipped, in both languages.
    assert en.gettext("What went wrong?") == "What went wrong?"
    assert ru.gettext(QUESTION) % {"company": "ACME"} == (
        "Насколько вероятно, что вы порекомендуете ACME другу или коллеге?"
    )
    assert ru.gettext("Skip") == "Пропустить"
    assert (
        ru.ngettext("%(count)s detractor (%(share)s)", "%(count)s detractors (%(share)s)", 5)
        % {"count": 5, "share": "50 %"}
        == "5 критиков (50 %)"
    )


def test_the_survey_question_reads_the_override(tmp_path: Path) -> None:
    installed(tmp_path)
    text = question_text(translator("en"), company="ACME & Co", ticket="T-1")
    assert "Would you recommend ACME &amp; Co to a friend?" in text


def test_russian_plural_overrides_pick_the_right_form(tmp_path: Path) -> None:
    installed(tmp_path)
    ru = translator("ru")
    assert [ru.ngettext(*SENT, n) % {"count": n} for n in (1, 3, 5, 21)] == [
        "Ушёл 1 опрос",
        "Ушло 3 опроса",
        "Ушло 5 опросов",
        "Ушёл 21 опрос",
    ]
    en = translator("en")
    assert [en.ngettext(*SENT, n) % {"count": n} for n in (1, 2)] == [
        "One survey went out: 1",
        "2 surveys went out",
    ]


def test_a_doubled_percent_is_a_percent_sign(tmp_path: Path) -> None:
    installed(tmp_path)
    template = translator("ru").gettext(RATE)
    assert template % {"answered": 3, "sent": 4, "rate": "75 %"} == (
        "Ответили 3 из 4 (75 %), цель 100%"
    )


def test_no_overrides_restores_the_shipped_texts(tmp_path: Path) -> None:
    installed(tmp_path)
    assert translator("ru").gettext("What went wrong?") == "Что нам стоит исправить?"
    use_overrides(None)
    assert translator("ru").gettext("What went wrong?") == "Что пошло не так?"
    assert translator("en").gettext(QUESTION) == QUESTION
    assert translator("ru").ngettext(*SENT, 5) % {"count": 5} == "Отправлено 5 опросов"
    assert isinstance(translator("ru"), Translations)  # the plain catalog, as before


def test_installing_other_overrides_replaces_the_previous_ones(tmp_path: Path) -> None:
    installed(tmp_path)
    installed(tmp_path, '[en]\n"Skip" = "Not now"\n')
    assert translator("en").gettext("Skip") == "Not now"
    assert translator("ru").gettext("What went wrong?") == "Что пошло не так?"


def test_no_path_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(None) is None
    assert not load_overrides("  ").texts  # NPSBOT_TEXTS_FILE= set but empty
    assert not load_overrides(write(tmp_path, "# nothing yet\n")).texts
    use_overrides(load_overrides(write(tmp_path, "[ru]\n")))
    assert translator("ru").gettext("What went wrong?") == "Что пошло не так?"


INVALID = [
    pytest.param(
        '[de]\n"What went wrong?" = "Was lief schief?"\n',
        ["[de]: unknown language", "supported: en, ru"],
        id="unknown-language",
    ),
    pytest.param(
        '[RU]\n"What went wrong?" = "Что не так?"\n',
        ["[RU]: unknown language (did you mean [ru]?)"],
        id="language-spelling",
    ),
    pytest.param(
        '"What went wrong?" = "Oops"\n',
        ['"What went wrong?" is outside a language table'],
        id="outside-a-table",
    ),
    pytest.param(
        '[ru]\n"What went wrong" = "Что не так?"\n',
        ['[ru] "What went wrong": is not a text of the bot', 'did you mean "What went wrong?"'],
        id="unknown-msgid",
    ),
    pytest.param(
        '[en]\n"%(count)s surveys sent" = ["%(count)s sent", "%(count)s sent"]\n',
        ['is the plural msgid: use the singular "%(count)s survey sent" as the key'],
        id="plural-msgid-as-key",
    ),
    pytest.param(
        f'[en]\n"{QUESTION}" = "Would you recommend us?"\n',
        [
            '[en] "How likely are you to recommend %(company)s to…": '
            "placeholders differ from the original (%(company)s): lacks %(company)s"
        ],
        id="missing-placeholder",
    ),
    pytest.param(
        '[ru]\n"What went wrong?" = "%(name)s, что пошло не так?"\n',
        ['[ru] "What went wrong?": placeholders differ from the original (none): has unknown'],
        id="unknown-placeholder",
    ),
    pytest.param(
        '[ru]\n"%(count)s survey sent" = ["%(count)s опрос", "%(count)s опросов"]\n',
        ['[ru] "%(count)s survey sent": has 2 plural forms, ru needs 3', "forms for 1, 2, 5"],
        id="too-few-plural-forms",
    ),
    pytest.param(
        '[en]\n"%(count)s survey sent" = ["a %(count)s", "b %(count)s", "c %(count)s"]\n',
        ["has 3 plural forms, en needs 2", "forms for 1, 2"],
        id="too-many-plural-forms",
    ),
    pytest.param(
        '[ru]\n"%(count)s survey sent" = "%(count)s опросов"\n',
        ["has plural forms: write a list of 3 strings"],
        id="plural-as-one-string",
    ),
    pytest.param(
        '[ru]\n"%(count)s survey sent" = ["%(count)s опрос", "%(count)s опроса", "опросов"]\n',
        ["form 3 placeholders differ from the original (%(count)s): lacks %(count)s"],
        id="plural-form-placeholder",
    ),
    pytest.param(
        '[en]\n"Skip" = ["Skip", "Skips"]\n',
        ['[en] "Skip": has no plural forms: write one string'],
        id="list-for-a-single-text",
    ),
    pytest.param('[en]\n"Skip" = "  "\n', ['[en] "Skip": is empty'], id="empty-text"),
    pytest.param(
        '[en]\n"Thank you!" = "Thanks <3"\n',
        ['[en] "Thank you!": contains <: texts are sent as Telegram HTML'],
        id="html-character",
    ),
    pytest.param(
        '[en]\n"Your answer: %(score)s" = "You gave %(score)d"\n',
        ["has a % that is not a placeholder in '%(score)d'"],
        id="stray-percent",
    ),
    pytest.param(
        '[en]\n"Thank you!" = "Thanks 100%%!"\n',
        ['[en] "Thank you!": contains %: a text without placeholders cannot contain'],
        id="percent-without-placeholders",
    ),
    pytest.param(
        '[ru]\n"Что пошло не так?" = "Что не так?"\n',
        ['"Что пошло не так?": is the ru translation: use the English msgid "What went wrong?"'],
        id="translation-as-key",
    ),
    pytest.param('[en]\n"Skip" = \n', ["is not valid TOML", "line 2"], id="bad-toml"),
    pytest.param("en = 1\n", ["[en]: must be a table of texts"], id="language-not-a-table"),
]


@pytest.mark.parametrize(("content", "expected"), INVALID)
def test_an_invalid_file_names_the_problem(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(OverrideError) as caught:
        load_overrides(path)
    message = str(caught.value)
    assert message.startswith(f"texts file {path} has 1 problem:\n  ")
    for part in expected:
        assert part in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    content = (
        '[en]\n"Skip" = ""\n"Thank you!" = "Thanks, %(name)s"\n'
        '[ru]\n"%(count)s survey sent" = ["%(count)s"]\n[fr]\n'
    )
    with pytest.raises(OverrideError) as caught:
        load_overrides(write(tmp_path, content))
    assert len(caught.value.problems) == 4
    assert "has 4 problems" in str(caught.value)
    assert str(caught.value).count("\n  ") == 4


def test_a_missing_file_is_an_override_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(OverrideError, match=r"nowhere\.toml has 1 problem:\n  cannot be read"):
        load_overrides(str(missing))


def test_a_file_that_is_not_utf8_is_an_override_error(tmp_path: Path) -> None:
    path = tmp_path / "texts.toml"
    path.write_bytes('[ru]\n"Skip" = "Пропуск"\n'.encode("cp1251"))
    with pytest.raises(OverrideError, match="is not UTF-8 text"):
        load_overrides(path)


def test_a_rejected_file_leaves_the_installed_texts_alone(tmp_path: Path) -> None:
    installed(tmp_path)
    with pytest.raises(OverrideError):
        load_overrides(write(tmp_path, '[en]\n"Skip" = ""\n'))
    assert translator("ru").gettext("What went wrong?") == "Что нам стоит исправить?"


def test_the_shipped_catalogs_pass_as_override_files(tmp_path: Path) -> None:
    """The checks are no stricter than the translations the project ships itself."""
    lines: list[str] = []
    for language in ("en", "ru"):
        source = ROOT / "bot" / "locales" / language / "LC_MESSAGES" / "npsbot.po"
        with source.open("rb") as po_file:
            catalog = read_po(po_file, locale=language)
        lines.append(f"[{language}]")
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            # English msgstrs are empty: the msgids are the English texts.
            string = message.string
            text = string if string and any(string) else message.id
            lines.append(f"{json.dumps(key, ensure_ascii=False)} = {toml_value(text)}")
    overrides = load_overrides(write(tmp_path, "\n".join(lines)))
    assert len(overrides.texts["en"]) == len(overrides.texts["ru"]) > 40


def toml_value(string: str | tuple[str, ...] | list[str]) -> str:
    if isinstance(string, str):
        return json.dumps(string, ensure_ascii=False)
    return "[" + ", ".join(json.dumps(form, ensure_ascii=False) for form in string) + "]"

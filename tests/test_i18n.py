"""Catalogs: every text in the code is translated into Russian with the same placeholders."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n
from bot.i18n import normalize_language, translator

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    keywords = {"gettext": None, "ngettext": (1, 2)}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=keywords
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def catalog(language: str) -> dict[object, object]:
    source = resources.files("bot") / "locales" / language / "LC_MESSAGES" / "npsbot.po"
    with source.open("rb") as po_file:
        parsed = read_po(po_file, locale=language)
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): m.string for m in parsed if m.id}


def test_russian_covers_every_message_with_the_same_placeholders() -> None:
    russian = catalog("ru")
    for message in code_messages():
        translated = russian.get(message)
        assert translated, f"untranslated: {message!r}"
        source = message if isinstance(message, str) else message[1]
        forms = [translated] if isinstance(translated, str) else list(translated)  # type: ignore[call-overload]
        assert len(forms) in (1, 3), message  # Russian has three plural forms
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(source)), message


def test_english_catalog_lists_every_message() -> None:
    assert code_messages() <= set(catalog("en"))


def test_russian_plural_forms() -> None:
    tr = translator("ru")
    forms = [
        tr.ngettext("%(count)s survey sent", "%(count)s surveys sent", n) % {"count": n}
        for n in (1, 3, 5, 21)
    ]
    assert forms == [
        "Отправлен 1 опрос",
        "Отправлено 3 опроса",
        "Отправлено 5 опросов",
        "Отправлен 21 опрос",
    ]
    assert translator("en").gettext("What went wrong?") == "What went wrong?"
    assert translator("ru").gettext("What went wrong?") == "Что пошло не так?"


def test_language_codes_are_normalised() -> None:
    assert normalize_language("ru-RU") == "ru"
    assert normalize_language("EN_us") == "en"
    assert normalize_language("de", default="ru") == "ru"
    assert normalize_language(None) == "en"


def test_compiling_a_catalog_keeps_no_parsed_po_file() -> None:
    """A running bot holds the compiled catalogs only: the parsed .po files (about 0.7 MiB a
    language, every message with its comments and locations) are dropped once compiled."""
    i18n._compiled.cache_clear()
    i18n.plural_rule.cache_clear()
    i18n._catalog.cache_clear()
    translator.cache_clear()
    try:
        assert translator("ru").gettext("What went wrong?") == "Что пошло не так?"
        assert i18n.plural_rule("ru").count == 3
        assert i18n._catalog.cache_info().currsize == 0
    finally:
        translator.cache_clear()

"""Translations: gettext catalogs kept as .po files and compiled in memory when first used.

Keeping only the .po sources in the package means no build step can forget to compile them.

An operator may replace any text per language with a TOML file of overrides (docs/texts.md):
``use_overrides(load_overrides(path))`` at start-up makes ``translator`` consult it first.
"""

from __future__ import annotations

import difflib
import gettext
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from io import BytesIO
from pathlib import Path
from types import MappingProxyType
from typing import Protocol, overload

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "npsbot"
SUPPORTED_LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"

SHOWN_MSGID_LENGTH = 48  # how much of a msgid an error message quotes
HTML_SPECIAL = ("<", ">", "&")  # Telegram HTML: some texts are sent unescaped, some escaped
_PERCENT = re.compile(r"%(\((\w+)\)s|%)?")  # a placeholder, "%%", or (no group) a stray "%"

OverrideText = str | tuple[str, ...]
"""An override: one text, or the plural forms in the language's order."""


class Translator(Protocol):
    """The two gettext calls our texts use."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


def normalize_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map ``ru-RU``, ``RU`` or ``en_US`` to a supported catalog, else ``default``."""
    if code:
        base = code.replace("_", "-").split("-", 1)[0].lower()
        if base in SUPPORTED_LANGUAGES:
            return base
    return default


def _read_catalog(language: str) -> Catalog | None:
    """The parsed .po file of ``language``, or None when there is none.

    Not cached: a parsed catalog (every message with its locations and comments, about 0.7 MiB
    a language) is needed only to compile it, which happens once; only the override checks,
    which look up translations, keep one (``_catalog``).
    """
    source = resources.files("bot") / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not source.is_file():
        return None
    with source.open("rb") as po_file:
        return read_po(po_file, locale=language, domain=DOMAIN)


_catalog = cache(_read_catalog)


@cache
def _compiled(language: str) -> Translator:
    """The catalog of ``language`` compiled in memory; no catalog translates nothing."""
    catalog = _read_catalog(language)
    if catalog is None:
        return gettext.NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


@dataclass(frozen=True, slots=True)
class PluralRule:
    """How many plural forms a language has and which one a number takes."""

    count: int
    choose: Callable[[int], int]

    def examples(self) -> tuple[int, ...]:
        """The smallest number taking each form: (1, 2) in English, (1, 2, 5) in Russian."""
        found: dict[int, int] = {}
        for n in range(1, 1000):
            found.setdefault(self.choose(n), n)
        return tuple(found[index] for index in sorted(found))


@cache
def plural_rule(language: str) -> PluralRule:
    """The plural rule of ``language`` as its catalog declares it (Babel's, with no catalog)."""
    catalog = _read_catalog(language) or Catalog(locale=language, domain=DOMAIN)
    return PluralRule(count=catalog.num_plurals, choose=gettext.c2py(catalog.plural_expr))


class OverriddenTranslator:
    """The operator's texts first, then the shipped catalog."""

    def __init__(
        self, catalog: Translator, texts: Mapping[str, OverrideText], rule: PluralRule
    ) -> None:
        self._catalog = catalog
        self._texts = texts
        self._rule = rule

    def gettext(self, message: str, /) -> str:
        """The override of ``message`` if there is one, else its translation."""
        text = self._texts.get(message)
        if isinstance(text, str):
            return text
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        """The override's form for ``n`` if there is one, else the catalog's."""
        forms = self._texts.get(singular)
        if isinstance(forms, tuple):
            index = self._rule.choose(n)
            if 0 <= index < len(forms):
                return forms[index]
        return self._catalog.ngettext(singular, plural, n)


@dataclass(frozen=True, slots=True)
class Overrides:
    """Validated operator texts: language -> msgid (the singular for plurals) -> text or forms."""

    source: str
    texts: Mapping[str, Mapping[str, OverrideText]]


_installed: dict[str, Mapping[str, OverrideText]] = {}


def use_overrides(overrides: Overrides | None) -> None:
    """Install ``overrides`` for the whole process (None: the shipped texts only)."""
    _installed.clear()
    if overrides is not None:
        _installed.update({lang: texts for lang, texts in overrides.texts.items() if texts})
    translator.cache_clear()


@cache
def translator(language: str) -> Translator:
    """Return the catalog of ``language`` (a supported code), with the operator's overrides."""
    catalog = _compiled(language)
    texts = _installed.get(language)
    if not texts:
        return catalog
    return OverriddenTranslator(catalog, texts, plural_rule(language))


class FileProblemsError(ValueError):
    """An operator's file is unreadable or wrong; the message lists every problem, one a line,
    so all of them are fixed in one go rather than one per restart."""

    kind = "file"  # what the message calls the file

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        lines = "".join(f"\n  {problem}" for problem in problems)
        super().__init__(f"{self.kind} {source} has {count}:{lines}")
        self.source = source
        self.problems = tuple(problems)


class OverrideError(FileProblemsError):
    """The texts file (``NPSBOT_TEXTS_FILE``) is unreadable or wrong."""

    kind = "texts file"


@dataclass(frozen=True, slots=True)
class _Message:
    """A msgid of the code as the template lists it."""

    msgid: str
    plural: str | None
    placeholders: frozenset[str]


def _placeholders(text: str) -> frozenset[str]:
    return frozenset(match.group(2) for match in _PERCENT.finditer(text) if match.group(2))


@cache
def _known_messages() -> Mapping[str, _Message]:
    """Every msgid of the code, from the .pot (or the English catalog, which lists the same)."""
    locales = resources.files("bot") / "locales"
    source = locales / f"{DOMAIN}.pot"
    if not source.is_file():  # an installed wheel carries only the .po files
        source = locales / DEFAULT_LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.po"
    with source.open("rb") as pot_file:
        template = read_po(pot_file, domain=DOMAIN)
    known: dict[str, _Message] = {}
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, str):
            known[message.id] = _Message(message.id, None, _placeholders(message.id))
        else:
            singular, plural = message.id[0], message.id[1]
            names = _placeholders(singular) | _placeholders(plural)
            known[singular] = _Message(singular, plural, names)
    return MappingProxyType(known)


def _quoted(msgid: str) -> str:
    if len(msgid) > SHOWN_MSGID_LENGTH:
        msgid = msgid[: SHOWN_MSGID_LENGTH - 1].rstrip() + "…"
    return f'"{msgid}"'


def _names(names: frozenset[str] | set[str]) -> str:
    return ", ".join(f"%({name})s" for name in sorted(names)) or "none"


def _text_problem(text: str, message: _Message) -> str | None:
    """What is wrong with one text (or one plural form), or None."""
    if not text.strip():
        return "is empty (delete the line to keep the shipped text)"
    special = [char for char in HTML_SPECIAL if char in text]
    if special:
        return (
            f"contains {' '.join(special)}: texts are sent as Telegram HTML, where these "
            'characters break the message (write "and" for &)'
        )
    used: set[str] = set()
    stray: re.Match[str] | None = None
    for match in _PERCENT.finditer(text):
        if match.group(2):
            used.add(match.group(2))
        elif match.group(1) is None:
            stray = stray or match
    if stray is not None and message.placeholders:
        word = next(m.group() for m in re.finditer(r"\S+", text) if m.end() > stray.start())
        return (
            f"has a % that is not a placeholder in {word!r}: placeholders look like "
            "%(name)s, a percent sign is written %%"
        )
    if used != message.placeholders:
        missing, extra = message.placeholders - used, used - message.placeholders
        parts = [f"lacks {_names(missing)}"] if missing else []
        parts += [f"has unknown {_names(extra)}"] if extra else []
        return (
            f"placeholders differ from the original ({_names(message.placeholders)}): "
            + " and ".join(parts)
        )
    if "%" in text and not message.placeholders:
        return "contains %: a text without placeholders cannot contain a percent sign"
    return None


def _unknown_key_problem(key: str) -> str:
    """Why ``key`` is not a msgid, with the likely fix."""
    known = _known_messages()
    plural_of = next((m.msgid for m in known.values() if m.plural == key), None)
    if plural_of is not None:
        return f"is the plural msgid: use the singular {_quoted(plural_of)} as the key"
    for language in SUPPORTED_LANGUAGES:
        for message in _catalog(language) or ():
            string = message.string or ()
            strings = [string] if isinstance(string, str) else list(string)
            if message.id and key and key in strings:
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                return f"is the {language} translation: use the English msgid {_quoted(msgid)}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    hint = f" (did you mean {_quoted(close[0])}?)" if close else ""
    return f"is not a text of the bot{hint}; see bot/locales/npsbot.pot"


def _plural_problems(language: str, value: object, message: _Message) -> list[str]:
    """Problems of the plural forms given for ``message``."""
    rule = plural_rule(language)
    for_numbers = ", ".join(str(n) for n in rule.examples())
    wanted = f"a list of {rule.count} strings, the forms for {for_numbers}"
    if not isinstance(value, list) or not all(isinstance(form, str) for form in value):
        return [f"has plural forms: write {wanted}"]
    if len(value) != rule.count:
        return [f"has {len(value)} plural forms, {language} needs {rule.count}: write {wanted}"]
    problems = []
    for index, form in enumerate(value, start=1):
        problem = _text_problem(form, message)
        if problem:
            problems.append(f"form {index} {problem}")
    return problems


def _entry_problems(language: str, key: str, value: object) -> list[str]:
    """Problems of one ``"msgid" = text`` line of a language table."""
    message = _known_messages().get(key)
    if message is None:
        return [_unknown_key_problem(key)]
    if message.plural is not None:
        return _plural_problems(language, value, message)
    if not isinstance(value, str):
        return ["has no plural forms: write one string, not a list or a table"]
    problem = _text_problem(value, message)
    return [problem] if problem else []


def _language_problems(language: str, table: object) -> list[str]:
    """Problems of one top-level key of the file, with their language and msgid."""
    if language not in SUPPORTED_LANGUAGES:
        if not isinstance(table, dict):
            return [f"{_quoted(language)} is outside a language table: put it under [en] or [ru]"]
        guess = normalize_language(language, default="")
        hint = f" (did you mean [{guess}]?)" if guess else ""
        return [
            f"[{language}]: unknown language{hint}; supported: {', '.join(SUPPORTED_LANGUAGES)}"
        ]
    if not isinstance(table, dict):
        return [f'[{language}]: must be a table of texts, one \'"msgid" = "text"\' a line']
    return [
        f"[{language}] {_quoted(key)}: {problem}"
        for key, value in table.items()
        for problem in _entry_problems(language, key, value)
    ]


@overload
def load_overrides(path: None) -> None: ...


@overload
def load_overrides(path: str | Path) -> Overrides: ...


def load_overrides(path: str | Path | None) -> Overrides | None:
    """Read and check the operator's TOML texts file; None (no file) gives None.

    A blank path gives no overrides. Any problem raises ``OverrideError`` listing them all.
    """
    if path is None:
        return None
    source = str(path)
    if isinstance(path, str) and not path.strip():
        return Overrides(source="", texts=MappingProxyType({}))
    try:
        with Path(path).open("rb") as toml_file:
            data = tomllib.load(toml_file)
    except OSError as error:
        raise OverrideError(source, [f"cannot be read: {error.strerror or error}"]) from error
    except UnicodeDecodeError as error:
        raise OverrideError(source, [f"is not UTF-8 text: {error.reason}"]) from error
    except tomllib.TOMLDecodeError as error:
        raise OverrideError(source, [f"is not valid TOML: {error}"]) from error
    problems = [
        problem
        for language, table in data.items()
        for problem in _language_problems(language, table)
    ]
    if problems:
        raise OverrideError(source, problems)
    texts: dict[str, Mapping[str, OverrideText]] = {
        language: MappingProxyType(
            {key: value if isinstance(value, str) else tuple(value) for key, value in table.items()}
        )
        for language, table in data.items()
    }
    return Overrides(source=source, texts=MappingProxyType(texts))

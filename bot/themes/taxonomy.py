"""The themes a comment may be about: the built-in seven and the operator's changes to them.

The built-in taxonomy is ``builtin.toml`` in this package. ``NPSBOT_THEMES_FILE`` names a TOML
file that changes it (docs/themes.md): a table per theme id adds a theme, or extends, renames
or removes a built-in one. Like the texts file, it is checked whole at start-up and every
problem is named, so the operator fixes them all in one go rather than one per restart.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

from bot.i18n import SUPPORTED_LANGUAGES, FileProblemsError

THEME_ID: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")  # it goes into CSV cells and URLs
KEYWORD_LIMIT: Final = 100  # characters of one keyword
PREFIX_MARK: Final = "*"
WORD_JOINERS: Final = "-'’"  # inside a word: "wi-fi", "didn't"
SHORTEST_START: Final = 3  # letters of a keyword's start ("хам*"): "a*" would match everything
OPERATOR_KEYS: Final = frozenset({"name", "keywords", "replace", "remove", "rename"})
BUILTIN_KEYS: Final = frozenset({"name", "keywords"})


class ThemesError(FileProblemsError):
    """The themes file (``NPSBOT_THEMES_FILE``) is unreadable or wrong."""

    kind = "themes file"


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme: its id (stored with each comment), its names and keywords per language."""

    id: str
    names: Mapping[str, str]
    keywords: Mapping[str, tuple[str, ...]]

    def name(self, language: str) -> str:
        """The theme's name in ``language``, else in English, else its id."""
        return self.names.get(language) or self.names.get("en") or self.id


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The themes in the order they are listed, and where they came from."""

    themes: tuple[Theme, ...]
    source: str = "built-in"

    def __post_init__(self) -> None:
        ids = [theme.id for theme in self.themes]
        if len(set(ids)) != len(ids):
            raise ValueError("theme ids must be unique")

    @property
    def ids(self) -> tuple[str, ...]:
        """The theme ids in order."""
        return tuple(theme.id for theme in self.themes)

    def get(self, theme_id: str) -> Theme | None:
        """The theme of ``theme_id``, or None (a theme stored before it was removed)."""
        return next((theme for theme in self.themes if theme.id == theme_id), None)

    def name(self, theme_id: str, language: str) -> str:
        """The name of a theme, or its id when the taxonomy no longer has it."""
        theme = self.get(theme_id)
        return theme.name(language) if theme is not None else theme_id


def _read(source: str, read: bytes) -> dict[str, object]:
    try:
        return tomllib.loads(read.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ThemesError(source, [f"is not UTF-8 text: {error.reason}"]) from error
    except tomllib.TOMLDecodeError as error:
        raise ThemesError(source, [f"is not valid TOML: {error}"]) from error


def keyword_problem(keyword: str) -> str | None:
    """Why a keyword could never match as meant, or None.

    Only letters make words (``bot.themes.words``), so "123" or "😀" would match nothing and
    "c++" every "c"; a start of one or two letters ("a*") would match half the comments.
    """
    tokens = keyword.split()
    if not tokens:
        return "a keyword needs at least one word of letters"
    for token in tokens:
        prefix = token.endswith(PREFIX_MARK)
        word = token.rstrip(PREFIX_MARK)
        if PREFIX_MARK in word:
            return f"{PREFIX_MARK!r} may only end a word"
        if not word or not all(ch.isalpha() or ch in WORD_JOINERS for ch in word):
            return f"{token!r}: a keyword is words of letters (hyphens and apostrophes allowed)"
        if prefix and sum(ch.isalpha() for ch in word) < SHORTEST_START:
            return f"a start ending in {PREFIX_MARK!r} needs {SHORTEST_START} letters or more"
    return None


def _strings_per_language(
    where: str, value: object, problems: list[str], *, many: bool
) -> dict[str, tuple[str, ...]]:
    """``{language: text}`` or ``{language: [texts]}``, with each problem of it named."""
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a table of languages, e.g. {{ en = ..., ru = ... }}")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for language, texts in value.items():
        here = f"{where}.{language}"
        if language not in SUPPORTED_LANGUAGES:
            problems.append(f"{here}: unknown language (known: {', '.join(SUPPORTED_LANGUAGES)})")
            continue
        items = texts if many and isinstance(texts, list) else [texts]
        if many and not isinstance(texts, list):
            problems.append(f"{here}: must be a list of keywords")
            continue
        good: list[str] = []
        for index, text in enumerate(items):
            spot = f"{here}[{index}]" if many else here
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{spot}: must be a non-empty string")
            elif len(text) > KEYWORD_LIMIT:
                problems.append(f"{spot}: longer than {KEYWORD_LIMIT} characters")
            elif many and (problem := keyword_problem(text)) is not None:
                problems.append(f"{spot}: {problem}")
            else:
                good.append(text.strip())
        result[language] = tuple(good)
    return result


def _theme(
    theme_id: str, table: object, problems: list[str], *, allowed: frozenset[str]
) -> Theme | None:
    """A theme from its table, or None (with the problems noted)."""
    if not THEME_ID.fullmatch(theme_id):
        problems.append(
            f"{theme_id}: a theme id is 1 to 32 lower-case letters, digits or _, "
            "starting with a letter"
        )
        return None
    if not isinstance(table, dict):
        problems.append(f"{theme_id}: must be a table ([{theme_id}])")
        return None
    for key in sorted(set(table) - allowed):
        problems.append(f"{theme_id}.{key}: unknown key (known: {', '.join(sorted(allowed))})")
    names = {
        language: texts[0]
        for language, texts in _strings_per_language(
            f"{theme_id}.name", table.get("name", {}), problems, many=False
        ).items()
        if texts
    }
    keywords = _strings_per_language(
        f"{theme_id}.keywords", table.get("keywords", {}), problems, many=True
    )
    return Theme(theme_id, MappingProxyType(names), MappingProxyType(keywords))


def _merged(base: Theme, change: Theme, *, replace: bool, new_id: str) -> Theme:
    """``base`` with the operator's names and keywords: added to, or instead of, its own."""
    names = {**base.names, **change.names}
    if replace:
        keywords = {**base.keywords, **change.keywords}
    else:
        keywords = dict(base.keywords)
        for language, extra in change.keywords.items():
            known = keywords.get(language, ())
            keywords[language] = known + tuple(word for word in extra if word not in known)
    return Theme(new_id, MappingProxyType(names), MappingProxyType(keywords))


def builtin_taxonomy() -> Taxonomy:
    """The seven themes shipped with npsbot."""
    source = "built-in"
    data = _read(source, (resources.files("bot.themes") / "builtin.toml").read_bytes())
    problems: list[str] = []
    themes = [_theme(key, table, problems, allowed=BUILTIN_KEYS) for key, table in data.items()]
    if problems:
        raise ThemesError(source, problems)
    return Taxonomy(tuple(theme for theme in themes if theme is not None), source)


def _flag(theme_id: str, table: Mapping[str, object], key: str, problems: list[str]) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        problems.append(f"{theme_id}.{key}: must be true or false")
        return False
    return value


def _remove(theme_id: str, table: Mapping[str, object], themes: dict[str, Theme]) -> str | None:
    """Remove a theme; the problem, if it cannot be."""
    if set(table) - {"remove"}:
        return f"{theme_id}: a removed theme takes no other keys"
    if theme_id not in themes:
        return f"{theme_id}.remove: there is no such theme to remove"
    del themes[theme_id]
    return None


def _change(
    theme_id: str, change: Theme, table: Mapping[str, object], themes: dict[str, Theme]
) -> tuple[Theme, str | None]:
    """The theme as the table makes it, and the problem with it, if any."""
    replace = _flag(theme_id, table, "replace", [])
    rename = table.get("rename", theme_id)
    if not isinstance(rename, str) or not THEME_ID.fullmatch(rename):
        return change, f"{theme_id}.rename: must be a theme id (lower-case letters, _)"
    if rename != theme_id and rename in themes:
        return change, f"{theme_id}.rename: {rename} is a theme already"
    if theme_id in themes:
        merged = _merged(themes[theme_id], change, replace=replace, new_id=rename)
    elif rename != theme_id:
        return change, f"{theme_id}.rename: only a theme that exists can be renamed"
    else:
        merged = change
    if not any(merged.keywords.values()):
        return merged, f"{theme_id}: a theme needs at least one keyword"
    return merged, None


def apply_changes(base: Taxonomy, source: str, data: Mapping[str, object]) -> Taxonomy:
    """``base`` with the operator's tables applied in file order; every problem raised at once.

    A table of a built-in theme extends it (``replace = true``: its keywords instead of the
    built-in ones, per language), ``rename = "id"`` gives it another id, ``remove = true`` drops
    it; a table of a new id adds a theme, listed after the others.
    """
    problems: list[str] = []
    themes: dict[str, Theme] = {theme.id: theme for theme in base.themes}
    for theme_id, table in data.items():
        change = _theme(theme_id, table, problems, allowed=OPERATOR_KEYS)
        if change is None or not isinstance(table, dict):
            continue
        flags = [_flag(theme_id, table, key, problems) for key in ("remove", "replace")]
        if flags[0]:
            if (problem := _remove(theme_id, table, themes)) is not None:
                problems.append(problem)
            continue
        merged, problem = _change(theme_id, change, table, themes)
        if problem is not None:
            problems.append(problem)
            continue
        # Insertion order is the listing order: a renamed theme keeps its place.
        themes = {
            (merged.id if key == theme_id else key): (merged if key == theme_id else theme)
            for key, theme in themes.items()
        }
        themes.setdefault(merged.id, merged)
    if problems:
        raise ThemesError(source, problems)
    return Taxonomy(tuple(themes.values()), source)


def load_taxonomy(path: str | Path | None) -> Taxonomy:
    """The built-in taxonomy with the operator's file applied (None or blank: built-in only)."""
    base = builtin_taxonomy()
    if path is None or (isinstance(path, str) and not path.strip()):
        return base
    source = str(path)
    try:
        read = Path(path).read_bytes()
    except OSError as error:
        raise ThemesError(source, [f"cannot be read: {error.strerror or error}"]) from error
    return apply_changes(base, source, _read(source, read))

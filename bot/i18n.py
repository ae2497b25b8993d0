"""Translations: gettext catalogs kept as .po files and compiled in memory when first used.

Keeping only the .po sources in the package means no build step can forget to compile them.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO
from typing import Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "npsbot"
SUPPORTED_LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


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


@cache
def translator(language: str) -> Translator:
    """Return the catalog of ``language`` (a supported code) compiled from its .po file."""
    source = resources.files("bot") / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not source.is_file():
        return gettext.NullTranslations()
    with source.open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)

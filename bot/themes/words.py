"""Words of a comment as lemmas, so ждал, ждали and ожидать, or waited and waiting, are one word.

Russian is lemmatised with pymorphy3 and its OpenCorpora dictionaries (a wheel, nothing
downloaded at run time); English is stemmed with the Snowball stemmer, which is rule-based and
small: English inflects little, and a stem joins "refund", "refunded" and "refunds" as well as a
lemma would. A word is looked up once per process: comments repeat their words, so after a few
hundred comments nearly every word is a dictionary hit and tagging costs microseconds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import pymorphy3
    from snowballstemmer.basestemmer import BaseStemmer

# Letters only: digits, punctuation and emoji separate words. A hyphen inside a word keeps it
# whole ("кто-то", "follow-up"), as both dictionaries list such words.
WORD: Final = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
CYRILLIC: Final = re.compile(r"[а-яё]")
WORDS_CACHED: Final = 200_000  # distinct words kept; a few tens of MB at most

_english: BaseStemmer | None = None
_russian: pymorphy3.MorphAnalyzer | None = None
_russian_lock = threading.Lock()


def _english_stemmer() -> BaseStemmer:
    """The English stemmer, made on first use: ``snowballstemmer`` imports the stemmers of all
    its thirty languages (about 3 MiB), which a bot that has read no comment does not need."""
    global _english  # noqa: PLW0603  (one stemmer per process, made once)
    if _english is None:
        with _russian_lock:
            if _english is None:
                import snowballstemmer  # noqa: PLC0415  (only a process that reads comments pays)

                _english = snowballstemmer.stemmer("english")
    return _english


def _russian_analyzer() -> pymorphy3.MorphAnalyzer:
    """The Russian dictionaries, loaded on first use (a quarter of a second, about 20 MB)."""
    global _russian  # noqa: PLW0603  (one analyzer per process, loaded once)
    if _russian is None:
        with _russian_lock:
            if _russian is None:
                import pymorphy3  # noqa: PLC0415  (only a process that reads comments pays)

                _russian = pymorphy3.MorphAnalyzer()
    return _russian


@lru_cache(maxsize=WORDS_CACHED)
def lemma(word: str) -> str:
    """The dictionary form of a lower-case word: the Russian lemma, or the English stem."""
    if CYRILLIC.search(word):
        parses = _russian_analyzer().parse(word)
        return str(parses[0].normal_form).replace("ё", "е") if parses else word
    return str(_english_stemmer().stemWord(word))


def words(text: str) -> Iterator[str]:
    """The words of ``text`` in order, lower case, ё read as е."""
    for match in WORD.finditer(text.lower().replace("ё", "е")):
        yield match.group()


def lemmas(text: str) -> list[str]:
    """The lemma of every word of ``text``, in order."""
    return [lemma(word) for word in words(text)]

"""Words that detractors suddenly use: a new problem, seen before anyone adds it as a theme.

A word (a lemma) emerges when it is in at least ``min_count`` of this period's detractor
comments, and its share of those comments is at least ``ratio`` times its share of the earlier
periods' (both shares smoothed by one comment, so a word never seen before needs the count, not
a division by zero). Stop words (the ``stop-words`` package's lists, lemmatised like comments),
words of two letters or fewer and words the taxonomy already knows are left out: they say
nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

from stop_words import get_stop_words

from bot.themes.tagger import Tagger
from bot.themes.words import lemma, words

MIN_COUNT: Final = 3
RATIO: Final = 3.0
MOST_SHOWN: Final = 5
SHORTEST: Final = 3  # letters


@dataclass(frozen=True, slots=True)
class EmergingWord:
    """A word as detractors most often wrote it (its lemma's commonest form: an English stem
    such as "deliveri" is no word to show), in how many of this period's detractor comments,
    and in how many earlier."""

    word: str
    comments: int
    earlier: int
    ratio: float


@cache
def stop_lemmas() -> frozenset[str]:
    """Russian and English stop words as lemmas, the form comments are compared in."""
    listed = [*get_stop_words("russian"), *get_stop_words("english")]
    return frozenset(lemma(word) for text in listed for word in words(text))


def _lemmas_of(text: str, tagger: Tagger, written: Counter[tuple[str, str]]) -> set[str]:
    """The distinct new-looking lemmas of one comment; ``written`` counts their written forms."""
    found: set[str] = set()
    stops = stop_lemmas()
    for word in words(text):
        form = lemma(word)
        if len(form) < SHORTEST or form in stops or word in stops or tagger.covers(word, form):
            continue
        found.add(form)
        written[form, word] += 1
    return found


def _document_counts(
    texts: Iterable[str], tagger: Tagger, written: Counter[tuple[str, str]]
) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    documents = 0
    for text in texts:
        if not text.strip():
            continue  # a blank comment is no comment: it must not dilute the shares
        documents += 1
        counts.update(_lemmas_of(text, tagger, written))
    return counts, documents


def emerging_words(
    current: Sequence[str],
    earlier: Iterable[str],
    tagger: Tagger,
    *,
    min_count: int = MIN_COUNT,
    ratio: float = RATIO,
    most: int = MOST_SHOWN,
) -> tuple[EmergingWord, ...]:
    """This period's emerging words, the most sudden first (then the most frequent, then A-Z)."""
    written: Counter[tuple[str, str]] = Counter()
    now, documents = _document_counts(current, tagger, written)
    before, earlier_documents = _document_counts(earlier, tagger, Counter())
    if documents == 0:
        return ()
    found = []
    for form, count in now.items():
        if count < min_count:
            continue
        share_now = count / documents
        share_before = (before[form] + 1) / (earlier_documents + 1)
        if share_now >= ratio * share_before:
            shown = max(
                (word for lemma_, word in written if lemma_ == form),
                key=lambda word: (written[form, word], word),
            )
            found.append(EmergingWord(shown, count, before[form], share_now / share_before))
    found.sort(key=lambda w: (-w.ratio, -w.comments, w.word))
    return tuple(found[:most])

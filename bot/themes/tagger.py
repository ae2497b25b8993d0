"""Which themes a comment is about, and which of its words said so.

Each keyword of the taxonomy is turned into lemmas once (``bot.themes.words``); a comment is
turned into lemmas as it arrives, and a theme is found when one of its keywords occurs: a word
by its lemma, a ``prefix*`` by the start of the lemma or of the word as written, a phrase by its
words in order with at most ``PHRASE_GAP`` other words between two of them ("call me back",
"passed me around", "бросила трубку"). Matching is a dictionary lookup per word plus the few
prefixes, so a comment costs microseconds once its words have been seen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bot.themes.taxonomy import Taxonomy
from bot.themes.words import lemma, words

PREFIX_MARK = "*"
PHRASE_GAP = 2  # words that may come between two words of a phrase
BUCKET = 3  # prefixes are looked up by their first letters, not tried one by one
CANDIDATES_CACHED = 100_000  # words whose keyword candidates are remembered


@dataclass(frozen=True, slots=True)
class Part:
    """One word of a keyword: a lemma to equal, or a start a word or its lemma must have."""

    text: str
    prefix: bool

    def matches(self, written: str, lemmatised: str) -> bool:
        if self.prefix:
            return lemmatised.startswith(self.text) or written.startswith(self.text)
        return lemmatised == self.text


def _part(word: str) -> Part:
    if word.endswith(PREFIX_MARK):
        # A start is kept as written: the stem of "helpful" is "help", which would make
        # "helpful*" match "helpline"; a lemma of a Russian fragment means nothing.
        return Part(word.rstrip(PREFIX_MARK).lower().replace("ё", "е"), prefix=True)
    return Part(lemma(word), prefix=False)


def compile_keyword(keyword: str) -> tuple[Part, ...]:
    """A keyword's words as parts; the mark may end any word of a phrase."""
    raw = keyword.lower().replace("ё", "е").split()
    parts: list[Part] = []
    for token in raw:
        prefix = token.endswith(PREFIX_MARK)
        found = list(words(token))
        for index, word in enumerate(found):
            last = index == len(found) - 1
            parts.append(_part(word + PREFIX_MARK if prefix and last else word))
    return tuple(parts)


def _phrase_end(
    parts: tuple[Part, ...], written: list[str], lemmatised: list[str], start: int
) -> int | None:
    """Where a keyword whose first part matched at ``start`` ends, or None if it does not."""
    position = start + 1
    for part in parts[1:]:
        window = range(position, min(position + PHRASE_GAP + 1, len(written)))
        position = next(
            (index + 1 for index in window if part.matches(written[index], lemmatised[index])), -1
        )
        if position < 0:
            return None
    return position


@dataclass(frozen=True, slots=True)
class Match:
    """A theme found in a comment, and the words of the comment that matched its keywords."""

    theme: str
    words: tuple[str, ...]


Candidate = tuple[str, tuple[Part, ...]]  # a theme and one of its keywords


@dataclass(slots=True)
class Tagger:
    """The compiled taxonomy: keywords indexed by their first lemma, prefixes by their first
    letters, and each word's candidates remembered once looked up."""

    taxonomy: Taxonomy
    _exact: dict[str, list[Candidate]] = field(init=False)
    _prefixed: dict[str, list[Candidate]] = field(init=False)
    _short: list[Candidate] = field(init=False)  # prefixes shorter than BUCKET letters
    _seen: dict[tuple[str, str], tuple[Candidate, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self._exact = defaultdict(list)
        self._prefixed = defaultdict(list)
        self._short = []
        self._seen = {}
        for theme in self.taxonomy.themes:
            for keywords in theme.keywords.values():
                for keyword in keywords:
                    parts = compile_keyword(keyword)
                    if not parts:
                        continue
                    first = parts[0]
                    if not first.prefix:
                        self._exact[first.text].append((theme.id, parts))
                    elif len(first.text) < BUCKET:
                        self._short.append((theme.id, parts))
                    else:
                        self._prefixed[first.text[:BUCKET]].append((theme.id, parts))

    def _candidates(self, written: str, lemmatised: str) -> tuple[Candidate, ...]:
        """The keywords whose first part matches this word, found once per distinct word."""
        key = (written, lemmatised)
        found = self._seen.get(key)
        if found is None:
            pool = [
                *self._prefixed.get(written[:BUCKET], ()),
                *self._prefixed.get(lemmatised[:BUCKET], ()),
                *self._short,
            ]
            found = (
                *self._exact.get(lemmatised, ()),
                *dict.fromkeys(c for c in pool if c[1][0].matches(written, lemmatised)),
            )
            if len(self._seen) >= CANDIDATES_CACHED:
                self._seen.clear()  # rare: a flood of new words; start remembering afresh
            self._seen[key] = found
        return found

    def explain(self, text: str) -> list[Match]:
        """The themes of ``text`` in the taxonomy's order, each with the words that matched."""
        written = list(words(text))
        lemmatised = [lemma(word) for word in written]
        found: dict[str, list[str]] = {}
        for start, (word, form) in enumerate(zip(written, lemmatised, strict=True)):
            for theme, parts in self._candidates(word, form):
                end = _phrase_end(parts, written, lemmatised, start)
                if end is None:
                    continue
                phrase = " ".join(written[start:end])
                matched = found.setdefault(theme, [])
                if phrase not in matched:
                    matched.append(phrase)
        return [
            Match(theme_id, tuple(found[theme_id]))
            for theme_id in self.taxonomy.ids
            if theme_id in found
        ]

    def covers(self, written: str, lemmatised: str) -> bool:
        """Whether a word is the first word of a keyword: a word the taxonomy already knows."""
        return bool(self._candidates(written, lemmatised))

    def tag(self, text: str) -> tuple[str, ...]:
        """The theme ids of ``text``, in the taxonomy's order (empty: about none of them)."""
        return tuple(match.theme for match in self.explain(text))

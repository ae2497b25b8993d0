"""Which themes a comment is about, and which of its words said so.

Each keyword of the taxonomy is turned into lemmas once (``bot.themes.words``); a comment is
turned into lemmas as it arrives, and a theme is found when one of its keywords occurs: a word
by its lemma, a ``prefix*`` by the start of the lemma or of the word as written, a phrase by its
words in order with at most ``PHRASE_GAP`` other words between two of them ("call me back",
"passed me around", "бросила трубку"). Matching is a dictionary lookup per word plus the few
prefixes, so a comment costs microseconds once its words have been seen.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True, slots=True)
class _Index:
    """Keywords by their first lemma, prefixes by their first letters."""

    exact: dict[str, list[Candidate]]
    prefixed: dict[str, list[Candidate]]
    short: list[Candidate]  # prefixes shorter than BUCKET letters


def _index(taxonomy: Taxonomy) -> _Index:
    exact: defaultdict[str, list[Candidate]] = defaultdict(list)
    prefixed: defaultdict[str, list[Candidate]] = defaultdict(list)
    short: list[Candidate] = []
    for theme in taxonomy.themes:
        for keywords in theme.keywords.values():
            for keyword in keywords:
                parts = compile_keyword(keyword)
                if not parts:
                    continue
                first = parts[0]
                if not first.prefix:
                    exact[first.text].append((theme.id, parts))
                elif len(first.text) < BUCKET:
                    short.append((theme.id, parts))
                else:
                    prefixed[first.text[:BUCKET]].append((theme.id, parts))
    return _Index(dict(exact), dict(prefixed), short)


@dataclass(slots=True)
class Tagger:
    """The taxonomy, compiled on first use, and each word's candidates remembered once looked up.

    Compiling lemmatises every keyword, which loads the Russian dictionaries (about 0.25 s and
    25-30 MiB): a process that never reads a comment (an export, a purge) never pays for it,
    and the bot does it in a thread when the first score arrives (``warm_up_soon``, through
    ``WarmUpOnFirstScore``), not at start-up: a bot that sits idle, or only sends surveys,
    keeps the memory, and a comment comes only after a score, seconds later, by which time
    the dictionaries are loaded.
    """

    taxonomy: Taxonomy
    _compiled: _Index | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _seen: dict[tuple[str, str], tuple[Candidate, ...]] = field(init=False, default_factory=dict)
    _warming: threading.Thread | None = field(init=False, default=None)
    # Not ``_lock``: that one is held while compiling, and the loop must not wait for it.
    _warming_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    @property
    def compiled(self) -> bool:
        """Whether the taxonomy is compiled (and the dictionaries loaded) already."""
        return self._compiled is not None

    def warm_up(self) -> None:
        """Compile now (in a thread), so the first comment does not wait for the dictionaries."""
        self._index()

    async def tag_off_loop(self, text: str) -> tuple[str, ...]:
        """``tag`` for a caller on the event loop: in a thread while not compiled yet.

        Compiling loads pymorphy3's dictionaries (a quarter of a second); a comment whose score
        came before a restart would otherwise compile them on the loop and hold up every update.
        """
        if self._compiled is not None:
            return self.tag(text)
        return await asyncio.to_thread(self.tag, text)

    def warm_up_soon(self) -> threading.Thread | None:
        """Compile in a thread of its own, once, returning at once; the thread, if one started.

        Called from the event loop (a score was stored): the loop never waits for it. A comment
        tagged before it finishes waits for the same compilation rather than starting another.
        """
        if self._compiled is not None or self._warming is not None:
            return None
        with self._warming_lock:
            if self._compiled is not None or self._warming is not None:
                return None
            thread = threading.Thread(target=self.warm_up, name="themes-warm-up", daemon=True)
            self._warming = thread
        thread.start()
        return thread

    def _index(self) -> _Index:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = _index(self.taxonomy)
        return self._compiled

    def _candidates(self, written: str, lemmatised: str) -> tuple[Candidate, ...]:
        """The keywords whose first part matches this word, found once per distinct word."""
        key = (written, lemmatised)
        found = self._seen.get(key)
        if found is None:
            index = self._index()
            pool = [
                *index.prefixed.get(written[:BUCKET], ()),
                *index.prefixed.get(lemmatised[:BUCKET], ()),
                *index.short,
            ]
            found = (
                *index.exact.get(lemmatised, ()),
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


@dataclass(frozen=True, slots=True)
class WarmUpOnFirstScore:
    """An answer listener (``bot.survey.answers.AnswerListener``) that starts the tagger's
    compilation when a score is stored: the comment that may follow then finds it ready.

    Its arguments are typed ``object``: it reads none of them, and the themes know no storage.
    """

    tagger: Tagger

    async def scored(self, session: object, context: object, now: datetime) -> None:
        """A score was stored: a comment may follow."""
        self.tagger.warm_up_soon()

    async def commented(self, session: object, context: object, now: datetime) -> None:
        """Nothing: the comment was tagged already."""

    async def rescored(
        self, session: object, context: object, previous: int, now: datetime
    ) -> None:
        """A changed score: a comment may still follow."""
        self.tagger.warm_up_soon()

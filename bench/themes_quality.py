"""Precision, recall and F1 of the theme tagger on the labelled comments in tests/themes/.

    python bench/themes_quality.py [--taxonomy FILE] [--errors]

Prints a Markdown table per theme and the macro-F1 (the mean of the themes' F1), the figure
docs/benchmarks.md quotes. ``--errors`` lists every comment where tagger and label disagree.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.themes.stored import split_themes  # noqa: E402
from bot.themes.tagger import Tagger  # noqa: E402
from bot.themes.taxonomy import load_taxonomy  # noqa: E402

LABELLED = ROOT / "tests" / "themes" / "labelled_comments.csv"


@dataclass(frozen=True, slots=True)
class Labelled:
    """One comment and the themes a person gave it."""

    id: int
    language: str
    text: str
    themes: frozenset[str]


def read_labelled(path: Path = LABELLED) -> list[Labelled]:
    """The labelled set."""
    with path.open(encoding="utf-8", newline="") as file:
        return [
            Labelled(
                int(row["id"]), row["language"], row["text"], frozenset(split_themes(row["themes"]))
            )
            for row in csv.DictReader(file)
        ]


@dataclass(frozen=True, slots=True)
class Score:
    """One theme's counts."""

    theme: str
    true_positive: int
    false_positive: int
    false_negative: int

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positive + self.false_negative
        return self.true_positive / labelled if labelled else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(tagger: Tagger, comments: list[Labelled]) -> list[Score]:
    """Each theme's counts over ``comments``."""
    predicted = [frozenset(tagger.tag(comment.text)) for comment in comments]
    pairs = list(zip(predicted, (comment.themes for comment in comments), strict=True))
    return [
        Score(
            theme,
            sum(theme in got and theme in wanted for got, wanted in pairs),
            sum(theme in got and theme not in wanted for got, wanted in pairs),
            sum(theme not in got and theme in wanted for got, wanted in pairs),
        )
        for theme in tagger.taxonomy.ids
    ]


def macro_f1(scores: list[Score]) -> float:
    """The mean F1 of the themes."""
    return sum(score.f1 for score in scores) / len(scores)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--taxonomy", default=None, help="an NPSBOT_THEMES_FILE to apply")
    parser.add_argument("--errors", action="store_true", help="list the disagreements")
    parser.add_argument("--language", choices=("ru", "en"), default=None)
    parser.add_argument(
        "--half",
        choices=("tuning", "held-out"),
        default=None,
        help="odd ids (the keywords were tuned on these) or even ids (never looked at)",
    )
    args = parser.parse_args()
    tagger = Tagger(load_taxonomy(args.taxonomy))
    comments = [
        c
        for c in read_labelled()
        if args.language in (None, c.language)
        and (args.half is None or (c.id % 2 == 1) == (args.half == "tuning"))
    ]
    scores = evaluate(tagger, comments)
    print(f"{len(comments)} labelled comments\n")
    print("| theme | precision | recall | F1 |")
    print("|---|---|---|---|")
    for score in scores:
        print(f"| {score.theme} | {score.precision:.2f} | {score.recall:.2f} | {score.f1:.2f} |")
    print(f"\nmacro-F1: {macro_f1(scores):.3f}")
    if args.errors:
        for comment in comments:
            got = frozenset(tagger.tag(comment.text))
            if got != comment.themes:
                matches = {m.theme: m.words for m in tagger.explain(comment.text)}
                extra = {t: matches[t] for t in got - comment.themes}
                missing = sorted(comment.themes - got)
                print(f"{comment.id} [{comment.language}] {comment.text!r}")
                print(f"    missing {missing} extra {extra}")


if __name__ == "__main__":
    main()

"""Precision, recall and F1 of the theme tagger on the labelled comments in tests/themes/.

    python bench/themes_quality.py [--taxonomy FILE] [--errors] [--write]

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
sys.path.insert(0, str(ROOT / "bench"))

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


def quality_table(scores: list[Score]) -> str:
    """Per theme precision, recall and F1 as a Markdown table."""
    rows = [f"| {s.theme} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} |" for s in scores]
    return "\n".join(["| theme | precision | recall | F1 |", "|---|---|---|---|", *rows])


def write_report(tagger: Tagger, comments: list[Labelled]) -> None:
    """The section of docs/benchmarks.md: the held-out half, the tuning half and the whole."""
    from _common import report

    held_out = [c for c in comments if c.id % 2 == 0]
    tuning = [c for c in comments if c.id % 2 == 1]
    parts = []
    for title, chosen in (
        ("Held-out half (even ids, never looked at while writing keywords)", held_out),
        ("Tuning half (odd ids, looked at)", tuning),
        ("All", comments),
    ):
        scores = evaluate(tagger, chosen)
        parts.append(
            f"{title}, {len(chosen)} comments: **macro-F1 {macro_f1(scores):.3f}**\n\n"
            + quality_table(scores)
        )
    body = (
        "The built-in taxonomy on tests/themes/labelled_comments.csv (half Russian, half "
        "English; tests/themes/LABELS.md says how the labels were decided, by someone who "
        "did not write the keywords). Target: macro-F1 >= 0.80.\n\n" + "\n\n".join(parts)
    )
    report("themes-quality", "Theme quality on labelled comments", body, write=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--taxonomy", default=None, help="an NPSBOT_THEMES_FILE to apply")
    parser.add_argument("--errors", action="store_true", help="list the disagreements")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
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
    print(quality_table(scores))
    print(f"\nmacro-F1: {macro_f1(scores):.3f}")
    if args.write:
        write_report(tagger, comments)
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

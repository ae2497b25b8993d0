"""Themes: what tagging adds to the answer path, and re-tagging a million stored comments.

- ``answer``: ``SurveyAnswers.record_comment`` on PostgreSQL with the tagger and without it,
  alternated in rounds (A/B/A/B), each call on a survey waiting for its comment, the comments
  taken from the labelled set (tests/themes). The difference of the medians is what tagging
  adds to a comment. The tagger alone is timed too: first sight of each comment (the words not
  yet in the cache) and again (every word cached).
- ``recompute``: ``npsbot themes --recompute`` over N stored comments (the labelled texts,
  seeded with ``generate_series``), in a fresh process, with its peak RSS (VmHWM), at N and at
  N / 10 to show that memory does not grow with the table.

Targets: at most 1 ms per comment on the answer path; 1,000,000 comments re-tagged in under
3 minutes with flat memory.

    python bench/themes.py --comments 2000 --rows 1000000 --write
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    BENCH_DATABASE_URL,
    loadavg,
    percentile,
    report,
    reset_database,
    rss,
    table,
)

ROOT = Path(__file__).resolve().parent.parent

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
FIRST_CLIENT = 3_000_000
ROUND = 100  # comments per round of one mode


def labelled_texts() -> list[str]:
    with (ROOT / "tests" / "themes" / "labelled_comments.csv").open(encoding="utf-8") as file:
        return [row["text"] for row in csv.DictReader(file)]


async def waiting(sessions, count: int, first_client: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` surveys answered 3 and waiting for their comment, one client each."""
    from sqlalchemy import insert

    from bot.core.survey import SurveyStatus
    from storage.models import Customer, Survey, Ticket

    async with sessions() as session:
        for index in range(count):
            client = first_client + index
            customer = Customer(helpdesk_id=f"c-{client}", telegram_user_id=client,
                                chat_id=client, created_at=NOW)  # fmt: skip
            session.add(customer)
            await session.flush()
            ticket = Ticket(external_id=f"T-{client}", customer_id=customer.id, created_at=NOW)
            session.add(ticket)
            await session.flush()
            await session.execute(
                insert(Survey).values(
                    ticket_id=ticket.id, customer_id=customer.id,
                    status=SurveyStatus.ANSWERED, closed_at=NOW, due_at=NOW, sent_at=NOW,
                    chat_id=client, message_id=1, score=3, answered_at=NOW, tags=[],
                    created_at=NOW,
                )
            )  # fmt: skip
        await session.commit()


async def answer_path(url: str, comments: int) -> dict[str, object]:
    from bot.survey.answers import SurveyAnswers
    from bot.themes.tagger import Tagger
    from bot.themes.taxonomy import builtin_taxonomy
    from storage.db import make_engine, make_session_factory

    await reset_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    texts = labelled_texts()
    random.Random(7).shuffle(texts)
    tagger = Tagger(builtin_taxonomy())
    tagger.warm_up()  # the bot compiles it in a thread at its first score
    modes = {"without tagger": None, "with tagger": tagger}
    await waiting(sessions, comments * len(modes), FIRST_CLIENT)
    times: dict[str, list[float]] = {name: [] for name in modes}
    client = FIRST_CLIENT
    for start in range(0, comments, ROUND):
        for name, chosen in modes.items():  # A/B/A/B
            answers = SurveyAnswers(
                session_factory=sessions, company="ACME", default_language="en",
                wake=lambda: None, clock=lambda: NOW, tagger=chosen,
            )  # fmt: skip
            for index in range(start, min(start + ROUND, comments)):
                text = texts[index % len(texts)]
                began = time.perf_counter()
                stored = await answers.record_comment(chat_id=client, user_id=client, text=text)
                times[name].append(time.perf_counter() - began)
                assert stored, client
                client += 1
    await engine.dispose()

    alone = Tagger(builtin_taxonomy())
    alone.warm_up()
    from bot.themes import words

    words.lemma.cache_clear()  # the keywords stay compiled; the comments' words are new
    first = []
    for text in texts:
        began = time.perf_counter()
        alone.tag(text)
        first.append(time.perf_counter() - began)
    again = []
    for text in texts * 5:
        began = time.perf_counter()
        alone.tag(text)
        again.append(time.perf_counter() - began)
    return {
        "medians_ms": {name: statistics.median(v) * 1000 for name, v in times.items()},
        "p99_ms": {name: percentile(v, 99) * 1000 for name, v in times.items()},
        "tag_first_us": (statistics.median(first) * 1e6, percentile(first, 99) * 1e6),
        "tag_cached_us": (statistics.median(again) * 1e6, percentile(again, 99) * 1e6),
    }


async def seed_comments(url: str, rows: int) -> None:
    from sqlalchemy import text

    from storage.db import make_engine

    await reset_database(url)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customer (helpdesk_id, unreachable, created_at) "
                "SELECT 'tc-' || g, false, :now FROM generate_series(1, 1000) g"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO ticket (external_id, customer_id, created_at) "
                "SELECT 'TH-' || g, 1 + g % 1000, :now FROM generate_series(1, :n) g"
            ),
            {"n": rows, "now": NOW},
        )
        await conn.execute(
            text(
                """
                INSERT INTO survey (ticket_id, customer_id, status, closed_at, tags, due_at,
                    score, answered_at, comment, commented_at, completed_at, created_at)
                SELECT t.id, t.customer_id, 'completed', :now, '[]', :now, t.id % 11, :now,
                    (CAST(:texts AS text[]))[1 + t.id % CAST(:count AS int)], :now, :now, :now
                FROM ticket t
                """
            ),
            {"now": NOW, "texts": labelled_texts(), "count": len(labelled_texts())},
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def recompute(url: str) -> dict[str, object]:
    """One ``--recompute`` in this (fresh) process: seconds, comments and peak RSS."""
    from bot.config import Settings
    from bot.datacare.themes import recompute as run

    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    began = time.perf_counter()
    tagged = await run(settings, None)
    return {"seconds": time.perf_counter() - began, "tagged": tagged, "rss": rss("VmHWM")}


def in_subprocess(url: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", "--database-url", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=2000, help="comments per mode")
    parser.add_argument("--rows", type=int, default=1_000_000, help="stored comments")
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(recompute(args.database_url))))
        return
    answer = asyncio.run(answer_path(args.database_url, args.comments))
    medians, p99 = answer["medians_ms"], answer["p99_ms"]
    added = medians["with tagger"] - medians["without tagger"]  # type: ignore[index]
    runs = []
    for rows in (args.rows // 10, args.rows):
        asyncio.run(seed_comments(args.database_url, rows))
        runs.append((rows, in_subprocess(args.database_url)))
    first, cached = answer["tag_first_us"], answer["tag_cached_us"]
    body = (
        f"Load average before: {loadavg()}.\n\n"
        f"Answer path, `record_comment` on PostgreSQL, {args.comments:,} comments per mode "
        f"in rounds of {ROUND}, alternated:\n\n"
        + table(
            ["mode", "median ms", "p99 ms"],
            [(name, f"{medians[name]:.2f}", f"{p99[name]:.2f}") for name in medians],  # type: ignore[index]
        )
        + f"\n\nTagging adds **{added:.3f} ms** per comment (difference of the medians; "
        f"target at most 1 ms). The tagger alone: {first[0]:.0f} µs median, {first[1]:.0f} µs "  # type: ignore[index]
        f"p99 the first time a comment's words are seen; {cached[0]:.0f} µs median, "  # type: ignore[index]
        f"{cached[1]:.0f} µs p99 once they are cached.\n\n"  # type: ignore[index]
        "`npsbot themes --recompute`, PostgreSQL, fresh process each:\n\n"
        + table(
            ["comments", "seconds", "comments/s", "peak RSS MiB"],
            [
                (
                    f"{rows:,}",
                    f"{r['seconds']:.1f}",
                    f"{r['tagged'] / r['seconds']:,.0f}",  # type: ignore[operator]
                    f"{r['rss']:.0f}",
                )
                for rows, r in runs
            ],
        )
        + "\n\nTarget: 1,000,000 in under 180 s; peak RSS the same at both sizes (batches of "
        "5,000, one statement per distinct set of themes in a batch)."
    )
    report("themes", "Themes: tagging on the answer path, re-tagging stored comments", body,
           write=args.write)  # fmt: skip


if __name__ == "__main__":
    main()

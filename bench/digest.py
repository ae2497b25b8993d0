"""Digest: time and peak memory of building a digest over 1,000,000 responses in PostgreSQL.

Seeds N answered surveys (20% with a comment) spread evenly over the digest's week and the week
before it, with ``generate_series`` on the server (about a minute for a million). Then, each in
a fresh subprocess so peak memory is its own (``VmHWM`` from /proc/self/status):

- ``build``: ``DigestService.build(period)`` -- what the weekly digest does: the database counts
  answers per score (both weeks and the 12-week trend), sent surveys, answers per group and
  score, and per score and themes (the drivers); the week's comments, ratings and cases are read
  as rows, and the newest detractors' comments for the emerging words; pandas does the
  arithmetic;
- ``read_sql``: a bare ``pandas.read_sql`` of ``survey_window_query`` over the same async engine:
  every survey row of both weeks with its text columns, which is what the digest read before it
  let the database count. It stays the yardstick: the time of merely reading the rows.

Target: ``build`` within 1.5x of ``read_sql`` in time, and under 600 MB peak RSS.

    python bench/digest.py --rows 1000000 --write
    python bench/digest.py --rows 1000000 --reuse      # keep the seeded rows
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DATABASE_URL,
    hold_bench_lock,
    loadavg,
    report,
    reset_database,
    rss,
    table,
)

TZ = ZoneInfo("Europe/Moscow")
AS_OF = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def periods():  # type: ignore[no-untyped-def]
    from bot.core.periods import last_full_week, period_before

    period = last_full_week(AS_OF, TZ)
    return period, period_before(period, TZ)


async def seed(url: str, rows: int) -> float:
    from sqlalchemy import text

    from storage.db import make_engine

    period, previous = periods()
    span = (period.end - previous.start).total_seconds()
    started = time.perf_counter()
    engine = make_engine(url)
    params = {"n": rows, "start": previous.start, "span": span, "now": AS_OF}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customer (helpdesk_id, name, company, unreachable, created_at) "
                "SELECT 'dc-' || g, 'Client ' || g, 'Company ' || (g % 200), false, :now "
                "FROM generate_series(1, 10000) g"
            ),
            {"now": AS_OF},
        )
        await conn.execute(
            text(
                "INSERT INTO ticket (external_id, customer_id, created_at) "
                "SELECT 'D-' || g, 1 + g % 10000, :now FROM generate_series(1, :n) g"
            ),
            {"n": rows, "now": AS_OF},
        )
        await conn.execute(
            text(
                """
                INSERT INTO survey (ticket_id, customer_id, status, closed_at, agent, team,
                    channel, company, tags, due_at, queued_at, sent_at, chat_id, message_id,
                    score, answered_at, comment, commented_at, themes, completed_at, created_at)
                SELECT t.id, t.customer_id, 'completed', x.at - interval '2 hours',
                    'Agent ' || (t.id % 50), 'Team ' || (t.id % 5),
                    (ARRAY['email','chat','phone'])[1 + t.id % 3], 'Company ' || (t.id % 200),
                    '[]', x.at - interval '1 hour', x.at - interval '1 hour',
                    x.at - interval '1 hour', t.customer_id, 1, (t.id::bigint * 7919) % 11, x.at,
                    CASE WHEN t.id % 5 = 0 THEN 'The agent was helpful but it took ' ||
                        (t.id % 9) || ' days to resolve my request' END,
                    CASE WHEN t.id % 5 = 0 THEN x.at + interval '5 minutes' END,
                    CASE WHEN t.id % 5 = 0 THEN (ARRAY['attitude;speed', 'speed', 'resolution',
                        'attitude;resolution;speed', '', 'price', 'product'])[1 + t.id % 7] END,
                    x.at + interval '10 minutes', x.at - interval '2 hours'
                FROM ticket t,
                    LATERAL (SELECT CAST(:start AS timestamptz)
                        + (t.id - 1) * (CAST(:span AS float8) / CAST(:n AS float8))
                        * interval '1 second' AS at) x
                """
            ),
            params,
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - started


async def measure(url: str, mode: str) -> dict[str, object]:
    """One measurement in this (fresh) process: seconds, baseline and peak RSS in MiB."""
    import pandas as pd

    from bot.managers.digest import DigestService
    from bot.report.frames import survey_window_query
    from bot.themes.tagger import Tagger
    from bot.themes.taxonomy import builtin_taxonomy
    from storage.db import make_engine, make_session_factory

    period, previous = periods()
    engine = make_engine(url)
    service = DigestService(
        engine=engine,
        session_factory=make_session_factory(engine),
        chat_id=None,
        tz=TZ,
        language="en",
        clock=lambda: AS_OF,
        tagger=Tagger(builtin_taxonomy()),  # the emerging words, as the bot's digest has them
    )
    assert service.tagger is not None
    service.tagger.warm_up()  # the bot compiles it at its first score, not in its digest
    async with engine.connect() as conn:  # connect and warm the pool outside the timing
        await conn.run_sync(lambda c: pd.read_sql(survey_window_query(start=AS_OF, end=AS_OF), c))
    baseline = rss("VmRSS")
    started = time.perf_counter()
    if mode == "build":
        digest = await service.build(period)
        rows = digest.responses + digest.previous_responses
    else:
        async with engine.connect() as conn:
            frame = await conn.run_sync(
                lambda c: pd.read_sql(survey_window_query(start=previous.start, end=period.end), c)
            )
        rows = len(frame)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {
        "mode": mode,
        "seconds": elapsed,
        "rows": rows,
        "baseline_mib": baseline,
        "peak_mib": rss("VmHWM"),
        "load": loadavg(),
    }


def run_child(url: str, mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", mode, "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = dict(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps(result), flush=True)
    return result


async def count_surveys(url: str) -> int:
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM survey"))).scalar_one())
    except Exception:
        return -1
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="measurements of each kind")
    parser.add_argument("--reuse", action="store_true", help="keep rows if the count matches")
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.database_url, args.measure))))
        return
    load_before = loadavg()
    hold_bench_lock()
    seeded = "reused"
    if not (args.reuse and asyncio.run(count_surveys(args.database_url)) == args.rows):
        asyncio.run(reset_database(args.database_url))
        seeded = f"{asyncio.run(seed(args.database_url, args.rows)):.0f} s"
        print(f"seeded {args.rows} responses in {seeded}", flush=True)
    results = []
    for _ in range(args.repeat):
        for mode in ("read_sql", "build"):
            results.append(run_child(args.database_url, mode))
    best = {
        mode: min((r for r in results if r["mode"] == mode), key=lambda r: r["seconds"])  # type: ignore[arg-type, return-value]
        for mode in ("read_sql", "build")
    }
    ratio = float(best["build"]["seconds"]) / float(best["read_sql"]["seconds"])  # type: ignore[arg-type]
    rows = [
        (
            r["mode"],
            r["rows"],
            f"{r['seconds']:.2f}",
            f"{r['baseline_mib']:.0f}",
            f"{r['peak_mib']:.0f}",
            r["load"],
        )
        for r in results
    ]
    database = args.database_url.rsplit("/", 1)[-1].split("?", maxsplit=1)[0]
    body = (
        f"{args.rows:,} answered surveys (20% commented) over two weeks in PostgreSQL "
        f"`{database}` (seeding: {seeded}); each row below is a fresh process.\n\n"
        "- `read_sql`: a bare `pandas.read_sql` of `survey_window_query`, every survey row of "
        "both weeks with its text columns (what the digest read until it let the database "
        "count); `rows` is the rows read.\n"
        "- `build`: `DigestService.build`, the whole digest: counts per score, per sent "
        "survey and per group and score from the database (both weeks and the 12-week trend), "
        "the week's comments, ratings and cases as rows, and the pandas arithmetic; `rows` is "
        "the responses it counted (the week + the week before).\n\n"
        "Peak RSS is the process's VmHWM (Python, pandas, SQLAlchemy and the frames); baseline "
        "is VmRSS just before.\n\n"
        + table(["kind", "rows", "seconds", "baseline MiB", "peak MiB", "load avg after"], rows)
        + f"\n\nBest build vs best read_sql: **{ratio:.2f}x** the time (target <= 1.5x); "
        f"build peak {float(best['build']['peak_mib']):.0f} MiB (target < 600 MB). "  # type: ignore[arg-type]
        f"Load average before: {load_before}."
    )
    report("digest", f"Digest over {args.rows:,} responses", body, write=args.write)


if __name__ == "__main__":
    main()

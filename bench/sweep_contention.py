"""Deadlocks between sweeps and intakes of two instances on one PostgreSQL database.

Two instances (an engine and pool each) each run an intake writing batches of 50 closings of
300 linked customers (as the intake's group commit makes them) and two sweeps queueing what is
due (the scheduled one and the one an intake kicks), for ``--seconds``. Counted: transactions
PostgreSQL aborted (deadlocks, as ``DBAPIError``) on each side, closings recorded, surveys
queued. With ``--before REF`` the same load runs against the code of that git revision too
(checked out in a temporary worktree), alternating A/B/A/B, in one run.

    python bench/sweep_contention.py --seconds 20 --repeat 2 --before 4bd978f --write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DATABASE_URL,
    add_before_arguments,
    alternate,
    loadavg,
    report,
    reset_database,
    table,
)

CUSTOMERS = 300
BATCH = 50


async def load(url: str, seconds: float) -> dict[str, int]:
    """The load itself, against whichever npsbot is first on sys.path."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select
    from sqlalchemy.exc import DBAPIError

    from bot.core.rules import SurveyRules
    from bot.core.survey import SurveyStatus
    from bot.core.tickets import CustomerInfo, TicketClosed
    from bot.survey.sweep import SurveySweep
    from storage import tickets
    from storage.db import make_engine, make_session_factory
    from storage.models import Survey

    now = datetime.now(UTC)
    engines = [make_engine(url) for _ in range(2)]
    factories = [make_session_factory(engine) for engine in engines]
    counts = {"sweep_aborted": 0, "intake_aborted": 0, "closings": 0, "sweeps": 0}
    numbers = iter(range(10**9))
    chance = random.Random(7)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    def closing() -> tickets.Closing:
        customer = chance.randrange(CUSTOMERS)
        info = CustomerInfo(helpdesk_id=f"c-{customer:04d}", telegram_user_id=50_000 + customer)
        event = TicketClosed(
            ticket_id=f"T-{next(numbers)}",
            closed_at=now,
            customer=info,
            agent="Ivan Petrov",
            team="L2 support",
            channel="email",
        )
        return tickets.Closing(event=event, due_at=now - timedelta(seconds=1))

    async def intake(sessions: object) -> None:
        while loop.time() < end:
            try:
                async with sessions() as session:  # type: ignore[operator]
                    await tickets.record_closings(
                        session, [closing() for _ in range(BATCH)], now=now
                    )
            except DBAPIError:
                counts["intake_aborted"] += 1
            else:
                counts["closings"] += BATCH

    async def sweeping(sessions: object) -> None:
        sweep = SurveySweep(
            session_factory=sessions,  # type: ignore[arg-type]
            rules=SurveyRules(throttle=timedelta(0)),
            company="Acme",
            default_language="en",
            wake=lambda: None,
            clock=lambda: now,
        )
        while loop.time() < end:
            try:
                await sweep.queue_due()
                counts["sweeps"] += 1
            except DBAPIError:
                counts["sweep_aborted"] += 1
            await asyncio.sleep(0)

    await asyncio.gather(
        *(intake(f) for f in factories), *(sweeping(f) for f in factories for _ in range(2))
    )
    async with factories[0]() as session:
        found = await session.exec(
            select(func.count()).where(Survey.status == SurveyStatus.QUEUED)  # type: ignore[call-overload]
        )
        counts["queued"] = int(found.one()[0])
    for engine in engines:
        await engine.dispose()
    return counts


def child(url: str, seconds: str) -> None:
    """Run in a subprocess whose sys.path starts with the code under test."""
    import storage.survey_queries

    print(f"code: {storage.survey_queries.__file__}", file=sys.stderr)
    print(json.dumps(asyncio.run(load(url, float(seconds)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--seconds", type=float, default=20.0)
    add_before_arguments(parser)
    args = parser.parse_args()

    runs = alternate(
        args.before,
        args.repeat,
        "sweep_contention",
        args.database_url,
        str(args.seconds),
        prepare=lambda: asyncio.run(reset_database(args.database_url)),
    )
    rows = [
        (
            run,
            name,
            counts["sweep_aborted"],
            counts["intake_aborted"],
            counts["closings"],
            counts["queued"],
            counts["sweeps"],
        )
        for run, name, counts in runs
    ]
    body = (
        f"Two instances on one PostgreSQL database, each with an intake writing batches of "
        f"{BATCH} closings of {CUSTOMERS} linked customers and two sweeps queueing what is due, "
        f"for {args.seconds:g} s per run; runs alternate.\n\n"
        + table(
            [
                "run",
                "code",
                "sweep batches aborted (deadlock)",
                "intake batches aborted (deadlock)",
                "closings recorded",
                "surveys queued",
                "sweeps completed",
            ],
            rows,
        )
        + f"\n\nLoad average after: {loadavg()}."
    )
    report(
        "sweep-contention", "Sweeps and intakes of two instances at once", body, write=args.write
    )


if __name__ == "__main__":
    main()

"""Dispatch: N survey questions queued in the outbox, sent by the real Dispatcher + BotSender.

Two modes:

- ``--mode limited`` (default): the fake Bot API enforces Telegram's flood limits (30 msg/s
  overall); we report the achieved rate as a share of 30/s and the 429s the fake answered.
  Meanwhile clients answer (``--replies``, 2 a second by default): each answer queues a reply
  for its client in the dispatcher's process, as the answer path does (``Purpose.CLIENT``, a
  commit, then ``Dispatcher.wake``), and the reply's time from that commit to its arrival at
  the fake is reported (target p99 <= 1 s). 10,000 surveys take about 5.5 minutes.
- ``--mode unlimited``: the fake's limits off and ``Settings.global_rate_per_second`` high,
  which shows the dispatcher's own ceiling in msg/s (no replies unless ``--replies``).

The fake runs in its own process (bench/_fake_server.py) so it does not share the dispatcher's
event loop; the rate is measured from the arrival times the fake recorded.

    python bench/dispatch.py --count 10000 --write
    python bench/dispatch.py --mode unlimited --count 5000 --write
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DATABASE_URL,
    add_before_arguments,
    alternate,
    analyze,
    loadavg,
    percentile,
    profile,
    report,
    reset_database,
    seed_clients,
    start_fake,
    stop_fake,
    table,
)

FIRST_USER = 1_000_000
TELEGRAM_LIMIT = 30.0
REPLIES_FROM = 5_000_000  # the answering clients' chats: not the surveyed ones


async def seed_outbox(url: str, count: int) -> None:
    """``count`` queued surveys, each with its question in the outbox (as the sweep does)."""
    from sqlalchemy import insert

    from bot.delivery.purposes import Purpose
    from bot.i18n import translator
    from bot.survey import texts
    from storage.db import make_engine
    from storage.models import OutboxMessage

    now = datetime.now(UTC)
    pairs = await seed_clients(url, count=count, first_user=FIRST_USER, status="queued", now=now)
    tr = translator("en")
    engine = make_engine(url)
    async with engine.begin() as conn:
        rows = [
            {
                "method": "sendMessage",
                "chat_id": user,
                "payload": texts.question_payload(
                    tr, survey_id=survey_id, company="ACME", ticket=f"BENCH-{user}"
                ),
                "status": "pending",
                "attempts": 0,
                "not_before": now,
                "purpose": Purpose.SURVEY,
                "survey_id": survey_id,
                "created_at": now,
            }
            for survey_id, user in pairs
        ]
        for start in range(0, len(rows), 2000):
            await conn.execute(insert(OutboxMessage), rows[start : start + 2000])
    await engine.dispose()
    await analyze(url)


def start_dispatch_fake(
    count: int, *, limited: bool, cpu: int | None, replies: float
) -> tuple[subprocess.Popen[str], str, str]:
    """The fake with Telegram's flood limits, or without them for the dispatcher's ceiling.

    It also knows the answering clients (``REPLIES_FROM`` on, more than the run can need) and
    reports when each accepted send to one of them arrived.
    """
    answering = int(replies * (count / (TELEGRAM_LIMIT * 0.9) + 120)) + 10
    options = ["--watch-from", str(REPLIES_FROM), "--watch-users", str(answering)]
    if not limited:
        options.append("--no-flood-limits")
    if cpu is not None:
        options += ["--cpu", str(cpu)]
    return start_fake(FIRST_USER, count, *options)


async def answer_meanwhile(
    services: Any, rate: float, queued: dict[int, float], done: asyncio.Event
) -> None:
    """Clients answering while the broadcast goes out: a reply each, queued as the answer path
    queues one (its purpose's priority, a commit, a wake), at ``rate`` per second."""
    from bot.delivery.purposes import Purpose
    from storage import outbox

    loop = asyncio.get_running_loop()
    start, index = loop.time(), 0
    while not done.is_set():
        delay = start + index / rate - loop.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=delay)
            continue
        chat_id = REPLIES_FROM + index
        async with services.session_factory() as session:
            await outbox.enqueue(
                session,
                method="sendMessage",
                chat_id=chat_id,
                payload={"text": "Thank you! What could we do better?"},
                purpose=Purpose.CLIENT,
                now=services.dispatcher.clock(),
            )
            await session.commit()
        queued[chat_id] = time.time()  # the fake stamps arrivals with time.time() too
        services.dispatcher.wake()
        index += 1


async def dispatch(
    url: str,
    base_url: str,
    token: str,
    count: int,
    rate: float,
    *,
    concurrency: int = 1,
    profile_for: float = 0.0,
    replies: float = 0.0,
) -> dict[str, object]:
    """Run the product's dispatcher (wired by build_services) until every row is settled."""
    from sqlalchemy import func, select

    from bot.config import Settings
    from bot.services import build_services
    from storage.models import OutboxMessage, Survey

    settings = Settings(
        telegram_token=token,  # type: ignore[arg-type]
        telegram_api_url=base_url,
        database_url=url,
        global_rate_per_second=rate,
        outbox_concurrency=concurrency,
        _env_file=None,  # type: ignore[call-arg]
    )
    services = build_services(settings)
    await services.application.bot.initialize()
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    task = asyncio.create_task(services.dispatcher.run())
    queued: dict[int, float] = {}
    surveys_done = asyncio.Event()
    answering = (
        asyncio.create_task(answer_meanwhile(services, replies, queued, surveys_done))
        if replies > 0
        else None
    )
    spy = None
    if profile_for:
        spy = asyncio.get_running_loop().run_in_executor(None, profile, os.getpid(), profile_for)
    settled = 0
    while settled < count:
        await asyncio.sleep(0.5)
        async with services.session_factory() as session:
            settled = await session.scalar(
                select(func.count())
                .where(OutboxMessage.status.in_(["sent", "failed"]))  # type: ignore[attr-defined]
                .where(OutboxMessage.purpose == "survey")
            )
        if task.done():
            await task
    surveys_done.set()
    if answering is not None:
        await answering
    while True:  # the last replies
        async with services.session_factory() as session:
            waiting = await session.scalar(
                select(func.count()).where(
                    OutboxMessage.status.in_(["pending", "sending"])  # type: ignore[attr-defined]
                )
            )
        if not waiting:
            break
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    services.dispatcher.stop()
    await task
    async with services.session_factory() as session:
        sent_surveys = await session.scalar(select(func.count()).where(Survey.status == "sent"))
        failed = await session.scalar(select(func.count()).where(OutboxMessage.status == "failed"))
    await services.application.bot.shutdown()
    await services.close()
    profile_text = await spy if spy is not None else ""
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "surveys_sent": sent_surveys,
        "failed": failed,
        "profile": profile_text,
        "queued": queued,
    }


async def measure(options: dict[str, Any]) -> dict[str, Any]:
    """One run: seed, start the fake, dispatch everything; the table's rows and the calls."""
    count, url = int(options["count"]), str(options["database_url"])
    limited, replies = bool(options["limited"]), float(options["replies"])
    concurrency = int(options["concurrency"])
    load_before = loadavg()
    await reset_database(url)
    seeded = time.perf_counter()
    await seed_outbox(url, count)
    print(f"seeded {count} queued surveys in {time.perf_counter() - seeded:.1f}s", flush=True)
    fake, base_url, token = start_dispatch_fake(
        count, limited=limited, cpu=options["fake_cpu"], replies=replies
    )
    try:
        result = await dispatch(
            url,
            base_url,
            token,
            count,
            float(options["rate"]),
            concurrency=concurrency,
            profile_for=float(options["profile"]),
            replies=replies,
        )
    finally:
        stats = stop_fake(fake)
    accepted = int(stats["accepted_sends"])
    span = float(stats["last_send"]) - float(stats["first_send"])
    achieved = (accepted - 1) / span if span > 0 else float("nan")
    queued: dict[int, float] = result["queued"]  # type: ignore[assignment]
    arrived = {int(chat): float(at) for chat, at in stats["watched"]}
    latencies = sorted(arrived[chat] - at for chat, at in queued.items() if chat in arrived)
    surveys_accepted = accepted - len(arrived)
    cpu, elapsed = float(result["cpu"]), float(result["elapsed"])  # type: ignore[arg-type]
    rows: list[tuple[str, object]] = [
        ("database", url.split("://", maxsplit=1)[0]),
        ("NPSBOT_OUTBOX_CONCURRENCY", concurrency),
        ("surveys queued", count),
        ("accepted by the fake", accepted),
        ("surveys marked sent", result["surveys_sent"]),
        ("outbox rows failed", result["failed"]),
        ("429 answers", stats["too_many_requests"]),
    ]
    if limited:
        rows += [
            ("share of the 30 msg/s limit", f"{achieved / TELEGRAM_LIMIT:.1%}"),
            ("of which surveys", f"{surveys_accepted / max(span, 1e-9) / TELEGRAM_LIMIT:.1%}"),
        ]
    else:
        rows.append(("dispatcher ceiling", f"{achieved:.0f} msg/s"))
    rows += [
        ("client replies queued meanwhile", f"{len(queued)} ({replies:g}/s)"),
        ("replies delivered", len(latencies)),
    ]
    if latencies:
        rows.append(
            (
                "reply: queued -> at the fake, p50 / p99 / max",
                f"{percentile(latencies, 50) * 1000:.0f} / {percentile(latencies, 99) * 1000:.0f}"
                f" / {latencies[-1] * 1000:.0f} ms",
            )
        )
    rows += [
        ("first to last send", f"{span:.1f} s"),
        ("achieved rate", f"{achieved:.1f} msg/s"),
        ("wall time incl. start/settle", f"{elapsed:.1f} s"),
        (
            "dispatcher process CPU",
            f"{cpu:.1f} s = {cpu / count * 1000:.2f} ms/msg ({cpu / elapsed:.0%} of one core)",
        ),
        ("busiest 1-s window at the fake", stats["busiest_second"]),
        ("load average before", load_before),
        ("load average after", loadavg()),
    ]
    return {"rows": rows, "calls": stats["calls"], "profile": result["profile"]}


def child(options: str) -> None:
    """``measure`` in a subprocess whose sys.path starts with the code under test (--before)."""
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    from bot import eventloop

    result = eventloop.run(measure(json.loads(options)))
    print(json.dumps(result))


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--mode", choices=["limited", "unlimited"], default="limited")
    parser.add_argument("--count", type=int, default=10_000, help="surveys queued (default 10000)")
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="Settings.global_rate_per_second (default: 30, or 100000 unlimited)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="NPSBOT_OUTBOX_CONCURRENCY (default: 1 at the limit, 64 unlimited)",
    )
    parser.add_argument(
        "--replies",
        type=float,
        default=None,
        help="clients answering per second meanwhile (default: 2 at the limit, 0 unlimited)",
    )
    parser.add_argument("--fake-cpu", type=int, default=None, help="pin the fake to this CPU")
    parser.add_argument(
        "--profile", type=float, default=0.0, metavar="SECONDS", help="py-spy the dispatcher"
    )
    add_before_arguments(parser, repeat=1)
    args = parser.parse_args()
    limited = args.mode == "limited"
    options = {
        "count": args.count,
        "database_url": args.database_url,
        "limited": limited,
        "rate": args.rate or (TELEGRAM_LIMIT if limited else 100_000.0),
        "concurrency": args.concurrency or (1 if limited else 64),
        "replies": args.replies if args.replies is not None else (2.0 if limited else 0.0),
        "fake_cpu": args.fake_cpu,
        "profile": args.profile,
    }
    if limited:
        title = f"Dispatch at Telegram's limit ({args.count} surveys, 30 msg/s)"
        targets = (
            "Targets: share of the 30 msg/s limit >= 97% with no 429; replies p99 <= 1,000 ms."
        )
    else:
        title = f"Dispatch ceiling, flood limits off ({args.count} surveys)"
        targets = "Target: dispatcher ceiling >= 1,000 msg/s."
    if args.before is None:
        runs = [(1, "this tree", await measure(options))]
    else:  # each run in a subprocess of its own code, alternating (the lock is theirs)
        runs = await asyncio.to_thread(
            alternate, args.before, args.repeat, "dispatch", json.dumps(options)
        )
    names = [row[0] for row in runs[0][2]["rows"]]
    columns = [f"run {run}: {name}" for run, name, _ in runs]
    values = [dict((str(k), v) for k, v in result["rows"]) for _, _, result in runs]
    body = (
        targets + " A reply is a `Purpose.CLIENT` message queued in the dispatcher's process as the"
        " answer path queues it (a commit, then `Dispatcher.wake`), timed from that commit to"
        " its arrival at the fake.\n\n"
        + table(["measure", *columns], [(n, *(v.get(n, "-") for v in values)) for n in names])
        + "\n\nCalls seen by the fake (last run): `"
        + json.dumps(runs[-1][2]["calls"])
        + "`"
    )
    if runs[-1][2]["profile"]:
        body += "\n\nWhere the dispatcher process's time goes (py-spy):\n\n" + str(
            runs[-1][2]["profile"]
        )
    report(f"dispatch-{args.mode}", title, body, write=args.write)


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    from bot import eventloop  # _common put the repository on sys.path

    eventloop.run(main())  # the loop `npsbot run` uses

"""Answer path: a client's score press -> answer stored and (for a detractor) the alert queued.

The real ``NpsBot`` (polling, handlers, JobQueue, dispatcher, uvicorn) runs in this process on
the loop ``npsbot run`` uses, against the fake Bot API in a process of its own
(``_fake_server.py``). N clients each have a question in their chat (``sent`` surveys seeded
directly); the fake presses one score per client at ``--rate`` presses/s from a schedule, and
records the wall-clock time of each press. ``SurveyAnswers.record_score`` is wrapped, in this
process only, to stamp when it returns: by then the answer, the edit, the follow-up and the alert
rows are committed in one transaction. Latency = that stamp minus the press (one clock: both
processes are on this machine).

    python bench/answer.py --rate 200 --duration 20 --write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DATABASE_URL,
    loadavg,
    percentile,
    report,
    reset_database,
    seed_clients,
    start_fake,
    stop_fake,
    table,
)

MANAGERS = -1001234567890
FIRST_USER = 2_000_000
QUESTION_MESSAGE_ID = 1  # the first message of each client's chat at the fake


def start_answer_fake(
    users: int, plan_file: Path, rate: float, press_at: float
) -> tuple[subprocess.Popen[str], str, str]:
    """The fake, pressing the planned scores itself at ``rate`` from ``press_at`` on."""
    return start_fake(
        FIRST_USER,
        users,
        "--group",
        str(MANAGERS),
        "--press-plan",
        str(plan_file),
        "--press-rate",
        str(rate),
        "--press-at",
        str(press_at),
    )


async def bench(args: argparse.Namespace) -> str:  # noqa: PLR0915  (one scenario, top to bottom)
    from sqlalchemy import func, select

    from bot.app import NpsBot
    from bot.config import Settings
    from bot.core.callback import encode_score
    from bot.survey.answers import SurveyAnswers
    from storage.models import OutboxMessage, Survey

    count = int(args.rate * args.duration)
    load_before = loadavg()
    await reset_database(args.database_url)
    pairs = await seed_clients(
        args.database_url,
        count=count,
        first_user=FIRST_USER,
        status="sent",
        now=datetime.now(UTC),
        message_ids=[QUESTION_MESSAGE_ID] * count,
    )
    rng = random.Random(42)
    plan = [[user, encode_score(survey_id, rng.randint(0, 10))] for survey_id, user in pairs]

    done: dict[int, float] = {}
    own: dict[int, float] = {}
    original = SurveyAnswers.record_score

    async def timed(self: SurveyAnswers, *, survey_id: int, **kwargs: object) -> str:
        started = time.perf_counter()
        try:
            return await original(self, survey_id=survey_id, **kwargs)  # type: ignore[arg-type]
        finally:
            done[survey_id] = time.time()
            own[survey_id] = time.perf_counter() - started

    SurveyAnswers.record_score = timed  # type: ignore[method-assign]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as plan_file:
        json.dump(plan, plan_file)
    press_at = time.time() + 3.0  # the bot is up and polling by then
    fake, base_url, token = start_answer_fake(count, Path(plan_file.name), args.rate, press_at)
    try:
        settings = Settings(
            telegram_token=token,  # type: ignore[arg-type]
            telegram_api_url=base_url,
            database_url=args.database_url,
            manager_chat_id=MANAGERS,
            http_port=0,
            _env_file=None,  # type: ignore[call-arg]
        )
        bot = NpsBot(settings)
        started = time.perf_counter()
        await bot.start()
        startup = time.perf_counter() - started
        deadline = time.time() + args.duration + args.settle + 3.0
        while len(done) < count and time.time() < deadline:  # noqa: ASYNC110  (a deadline too)
            await asyncio.sleep(0.1)
        async with bot.services.session_factory() as session:
            answered = await session.scalar(select(func.count()).where(Survey.status == "answered"))
            alerts = await session.scalar(
                select(func.count()).where(OutboxMessage.chat_id == MANAGERS)
            )
        await bot.stop()
    finally:
        stats = stop_fake(fake)
        SurveyAnswers.record_score = original  # type: ignore[method-assign]
        Path(plan_file.name).unlink(missing_ok=True)  # noqa: ASYNC240  (after the run)

    press_times: list[float] = stats["press_times"]
    pressed = {
        survey_id: press_times[i] for i, (survey_id, _user) in enumerate(pairs[: len(press_times)])
    }
    latencies = [done[s] - pressed[s] for s in pressed if s in done]
    own_times = list(own.values())
    first, last = min(press_times), max(done.values(), default=float("nan"))
    rows = [
        (
            "presses",
            f"{len(press_times)} at {args.rate:g}/s (pressed in {max(press_times) - first:.1f} s)",
        ),
        ("answers stored / alerts queued", f"{answered} / {alerts}"),
        ("handled within the settle time", f"{len(latencies)}"),
        ("processing rate", f"{len(latencies) / (last - first):.0f} answers/s"),
        ("press -> stored + alert queued, p50", f"{percentile(latencies, 50) * 1000:.0f} ms"),
        ("press -> stored + alert queued, p99", f"{percentile(latencies, 99) * 1000:.0f} ms"),
        ("press -> stored, max", f"{max(latencies, default=float('nan')) * 1000:.0f} ms"),
        ("record_score alone, p50", f"{percentile(own_times, 50) * 1000:.1f} ms"),
        ("record_score alone, p99", f"{percentile(own_times, 99) * 1000:.1f} ms"),
        ("NpsBot.start()", f"{startup:.2f} s"),
        ("load average before", load_before),
        ("load average after", loadavg()),
    ]
    return (
        f"Database: {args.database_url.split('://')[0]}; scores uniform 0-10 (about 64% "
        "detractors, each alerted); the fake Bot API in its own process, pressing on a "
        "schedule; the bot on the loop `npsbot run` uses.\n\n" + table(["measure", "value"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="presses per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of pressing")
    parser.add_argument("--settle", type=float, default=120.0, help="max seconds to wait after")
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    from bot import eventloop  # _common put the repository on sys.path

    body = eventloop.run(bench(args))
    report(
        f"answer-{args.rate:g}",
        f"Answer path at {args.rate:g} presses/s",
        body,
        write=args.write,
    )


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    main()

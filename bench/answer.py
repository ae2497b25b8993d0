"""Answer path: a client's score press -> answer stored and (for a detractor) the alert queued.

The real ``NpsBot`` (PTB polling, handlers, JobQueue, dispatcher, uvicorn) runs against the
in-process ``FakeBotApi``, as the end-to-end tests run it. N clients each have a question in
their chat (``sent`` surveys seeded directly); the bench presses one score per client at
``--rate`` presses/s through the fake's client API (which queues the ``callback_query`` update
for the bot's long poll). ``SurveyAnswers.record_score`` is wrapped, in this process only, to
stamp when it returns: by then the answer, the edit, the follow-up and the alert rows are
committed in one transaction. Latency = that stamp minus the press.

The fake shares the bot's event loop and CPU here, so the numbers are pessimistic.

    python bench/answer.py --rate 200 --duration 20 --write
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
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
    table,
)

MANAGERS = -1001234567890
FIRST_USER = 2_000_000


async def bench(args: argparse.Namespace) -> str:  # noqa: PLR0915  (one scenario, top to bottom)
    from sqlalchemy import func, select

    from bot.app import NpsBot
    from bot.config import Settings
    from bot.core.callback import encode_score
    from bot.i18n import translator
    from bot.sandbox.server import FakeBotApi
    from bot.survey import texts
    from bot.survey.answers import SurveyAnswers
    from storage.models import OutboxMessage, Survey

    count = int(args.rate * args.duration)
    load_before = loadavg()
    await reset_database(args.database_url)
    now = datetime.now(UTC)

    pressed: dict[int, float] = {}
    done: dict[int, float] = {}
    own: dict[int, float] = {}
    original = SurveyAnswers.record_score

    async def timed(self: SurveyAnswers, *, survey_id: int, **kwargs: object) -> str:
        started = time.perf_counter()
        try:
            return await original(self, survey_id=survey_id, **kwargs)  # type: ignore[arg-type]
        finally:
            finished = time.perf_counter()
            done[survey_id] = finished
            own[survey_id] = finished - started

    SurveyAnswers.record_score = timed  # type: ignore[method-assign]

    async with FakeBotApi() as fake:
        fake.add_group(MANAGERS, "NPS alerts")
        tr = translator("en")
        users = range(FIRST_USER, FIRST_USER + count)
        questions = {}
        for user in users:
            fake.client(user, f"Client {user}")
            questions[user] = fake.world.add_message(
                user, from_bot=True, text="How likely...", reply_markup=texts.score_keyboard(tr, 1)
            )
        pairs = await seed_clients(
            args.database_url,
            count=count,
            first_user=FIRST_USER,
            status="sent",
            now=now,
            message_ids=[questions[user].message_id for user in users],
        )
        settings = Settings(
            telegram_token=fake.token,  # type: ignore[arg-type]
            telegram_api_url=fake.base_url,
            database_url=args.database_url,
            manager_chat_id=MANAGERS,
            http_port=0,
            _env_file=None,  # type: ignore[call-arg]
        )
        bot = NpsBot(settings)
        started = time.perf_counter()
        await bot.start()
        startup = time.perf_counter() - started
        rng = random.Random(42)
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.5
        for index, (survey_id, user) in enumerate(pairs):
            delay = t0 + index / args.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            pressed[survey_id] = time.perf_counter()
            fake.world.press(user, questions[user], encode_score(survey_id, rng.randint(0, 10)))
        press_span = time.perf_counter() - pressed[pairs[0][0]]
        deadline = loop.time() + args.settle
        while len(done) < count and loop.time() < deadline:  # noqa: ASYNC110  (a deadline too)
            await asyncio.sleep(0.1)
        async with bot.services.session_factory() as session:
            answered = await session.scalar(select(func.count()).where(Survey.status == "answered"))
            alerts = await session.scalar(
                select(func.count()).where(OutboxMessage.chat_id == MANAGERS)
            )
        await bot.stop()
    SurveyAnswers.record_score = original  # type: ignore[method-assign]

    latencies = [done[s] - pressed[s] for s in pressed if s in done]
    own_times = list(own.values())
    last = max(done.values(), default=float("nan"))
    rows = [
        ("presses", f"{count} at {args.rate:g}/s (pressed in {press_span:.1f} s)"),
        ("answers stored / alerts queued", f"{answered} / {alerts}"),
        ("handled within the settle time", f"{len(latencies)}"),
        ("processing rate", f"{len(latencies) / (last - pressed[pairs[0][0]]):.0f} answers/s"),
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
        "detractors, each alerted); the fake Bot API in the same process and event loop.\n\n"
        + table(["measure", "value"], rows)
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
    body = asyncio.run(bench(args))
    report(
        f"answer-{args.rate:g}",
        f"Answer path at {args.rate:g} presses/s",
        body,
        write=args.write,
    )


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    main()

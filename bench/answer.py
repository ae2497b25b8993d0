"""Answer path: a client's score press -> the toast, the answer stored and the alert queued.

Beside npsbot, in the same run, the bot a user would write by hand (the anchor): PTB 22's own
``Updater`` polling the same fake Bot API, and for each press one compare-and-set
``UPDATE survey ... WHERE id=$1 AND status IN (...) RETURNING ...`` through an asyncpg pool,
``answerCallbackQuery`` and ``editMessageText``. Runs alternate, npsbot, anchor, npsbot,
anchor (``--repeat``), each in a process of its own on a freshly reset and seeded database.

N clients each have a question in their chat (``sent`` surveys seeded directly); the fake Bot
API, in a process of its own (``_fake_server.py``), presses one score per client at ``--rate``
presses/s from a schedule, and records when each press was made and when the bot's
``answerCallbackQuery`` for it arrived (the toast). npsbot's ``SurveyAnswers.record_score`` is
wrapped, in the bot's process only, to stamp when it returns: by then the answer, the edit, the
follow-up and the alert rows are committed in one transaction; the anchor stamps when its
UPDATE returned. One clock: both processes are on this machine.

Statements per answer: SQLAlchemy's ``before_cursor_execute`` inside ``record_score`` (what the
answer itself runs), and across the whole bot while it ran (the dispatcher sending the replies,
the jobs) divided by the answers; pool check-outs per answer (each one a pre-ping round trip
while that is on); and from PostgreSQL's ``pg_stat_database`` the transactions (a pre-ping is a
BEGIN and a ROLLBACK of its own) and the new connections (``sessions``) of the whole run.

    python bench/answer.py --rate 200 --rate 100 --duration 20 --write
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

from _common import (
    BENCH_DATABASE_URL,
    ROOT,
    code_variants,
    command_line,
    hold_bench_lock,
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
VARIANTS = ("npsbot", "anchor")


def start_answer_fake(
    users: int, plan_file: Path, rate: float, press_at: float
) -> tuple[subprocess.Popen[str], str, str]:
    """The fake, pressing the planned scores itself at ``rate`` from ``press_at`` on.

    Without flood limits: npsbot keeps to 30 msg/s by itself (its outbox), and the anchor's
    edits, one per press, are real work rather than 429s.
    """
    return start_fake(
        FIRST_USER,
        users,
        "--group",
        str(MANAGERS),
        "--no-flood-limits",
        "--press-plan",
        str(plan_file),
        "--press-rate",
        str(rate),
        "--press-at",
        str(press_at),
    )


async def pg_counters(url: str) -> dict[str, int]:
    """The bench database's transactions and connections so far (``pg_stat_database``)."""
    if not url.startswith("postgresql"):
        return {}
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        row = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    return {"commits": row["xact_commit"], "rollbacks": row["xact_rollback"], "sessions": row[2]}


async def pg_delta(url: str, before: dict[str, int]) -> dict[str, int]:
    """What the run added to ``pg_counters`` (PostgreSQL publishes them within a second)."""
    if not before:
        return {}
    await asyncio.sleep(1.5)
    after = await pg_counters(url)
    # minus the reading connection itself: one session, one transaction
    return {
        "commits": after["commits"] - before["commits"] - 1,
        "rollbacks": after["rollbacks"] - before["rollbacks"],
        "sessions": after["sessions"] - before["sessions"] - 1,
    }


# -- npsbot -----------------------------------------------------------------------------------

_IN_ANSWER: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar(
    "in_answer", default=None
)


async def run_npsbot(  # noqa: PLR0915  (one scenario, top to bottom)
    args: argparse.Namespace, token: str, base_url: str
) -> dict[str, Any]:
    """The real ``NpsBot`` (polling, handlers, JobQueue, dispatcher, uvicorn) in this process."""
    from sqlalchemy import event, func, select
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    from bot.app import NpsBot
    from bot.config import Settings
    from bot.eventloop import freeze_startup_heap
    from bot.survey.answers import SurveyAnswers
    from storage.models import OutboxMessage, Survey

    stored: dict[int, float] = {}
    own: list[float] = []
    whole: Counter[str] = Counter()
    in_answers: Counter[str] = Counter()
    original = SurveyAnswers.record_score

    async def timed(self: SurveyAnswers, *, survey_id: int, **kwargs: object) -> str:
        started = time.perf_counter()
        tally: Counter[str] = Counter()
        token = _IN_ANSWER.set(tally)
        try:
            return await original(self, survey_id=survey_id, **kwargs)  # type: ignore[arg-type]
        finally:
            _IN_ANSWER.reset(token)
            stored[survey_id] = time.time()
            own.append(time.perf_counter() - started)
            in_answers.update(tally)
            in_answers["answers"] += 1

    def count(kind: str) -> Any:
        def listener(*_args: object, **_kwargs: object) -> None:
            whole[kind] += 1
            tally = _IN_ANSWER.get()
            if tally is not None:
                tally[kind] += 1

        return listener

    pauses: list[float] = []  # the bot's garbage collections of the oldest generation, seconds
    collecting: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:  # the full collection
            return
        if phase == "start":
            collecting[:] = [time.perf_counter()]
        elif collecting:
            pauses.append(time.perf_counter() - collecting[0])

    gc.callbacks.append(on_gc)
    event.listen(Engine, "before_cursor_execute", count("statements"))
    event.listen(Engine, "begin", count("begins"))
    event.listen(Pool, "checkout", count("checkouts"))
    event.listen(Pool, "connect", count("connects"))
    SurveyAnswers.record_score = timed  # type: ignore[method-assign]
    settings = Settings(
        telegram_token=token,  # type: ignore[arg-type]
        telegram_api_url=base_url,
        database_url=args.database_url,
        manager_chat_id=MANAGERS,
        http_port=0,
        _env_file=None,  # type: ignore[call-arg]
    )
    bot = NpsBot(settings)
    await bot.start()
    if not args.cold_tagger:
        # The steady state: the first score of a process compiles the theme tagger in a thread
        # (a quarter of a second of CPU, holding the GIL in turns with the loop), once per
        # process; compiled here before the presses, as the code before did at start-up.
        await asyncio.to_thread(bot.services.tagger.warm_up)
    freeze_startup_heap()  # as `npsbot run` does once started
    lags: list[tuple[float, float]] = []

    async def watch_loop() -> None:  # how late a 5 ms sleep wakes: the loop's own stalls
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.time(), time.perf_counter() - asked - 0.005))

    watcher = asyncio.create_task(watch_loop())
    whole.clear()
    deadline = time.time() + args.duration + args.settle + 3.0
    while len(stored) < args.count and time.time() < deadline:  # noqa: ASYNC110  (a deadline too)
        await asyncio.sleep(0.1)
    counted = dict(whole)
    watcher.cancel()
    async with bot.services.session_factory() as session:
        answered = await session.scalar(select(func.count()).where(Survey.status == "answered"))
        alerts = await session.scalar(select(func.count()).where(OutboxMessage.chat_id == MANAGERS))
    await bot.stop()
    gc.callbacks.remove(on_gc)
    SurveyAnswers.record_score = original  # type: ignore[method-assign]
    return {
        "stored": stored,
        "own": own,
        "answered": answered,
        "alerts": alerts,
        "whole": counted,
        "in_answers": dict(in_answers),
        "gc": pauses,
        "lags": lags,
    }


# -- the anchor -------------------------------------------------------------------------------

ANCHOR_UPDATE = (
    "UPDATE survey SET status = 'answered', score = $2, answered_at = now() "
    "WHERE id = $1 AND status IN ('queued', 'sent') RETURNING chat_id, message_id"
)


async def run_anchor(args: argparse.Namespace, token: str, base_url: str) -> dict[str, Any]:
    """A minimal PTB 22 bot, as a user would write it: Updater, one UPDATE, toast, edit."""
    import asyncpg
    from telegram import Update
    from telegram.error import TelegramError
    from telegram.ext import Application, CallbackQueryHandler, ContextTypes

    stored: dict[int, float] = {}
    pool = await asyncpg.create_pool(
        args.database_url.replace("postgresql+asyncpg", "postgresql"), min_size=10, max_size=10
    )

    async def press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        _kind, survey, score = query.data.split(":")
        row = await pool.fetchrow(ANCHOR_UPDATE, int(survey), int(score))
        stored[int(survey)] = time.time()
        await query.answer("Thank you!" if row else "Already answered")
        if row is not None:
            with contextlib.suppress(TelegramError):
                await query.edit_message_text(f"Your score: {score}. Thank you!")

    application = (
        Application.builder().token(token).base_url(base_url).concurrent_updates(True).build()
    )
    application.add_handler(CallbackQueryHandler(press))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        deadline = time.time() + args.duration + args.settle + 3.0
        while len(stored) < args.count and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await application.updater.stop()
        await application.stop()
    answered = await pool.fetchval("SELECT count(*) FROM survey WHERE status = 'answered'")
    await pool.close()
    return {"stored": stored, "own": [], "answered": answered, "alerts": None, "gc": [], "lags": []}


# -- one run ----------------------------------------------------------------------------------


async def one_run(args: argparse.Namespace) -> dict[str, Any]:
    """Reset and seed the database, start the fake, run ``args.child``; its numbers."""
    from bot.core.callback import encode_score

    args.count = int(args.rate * args.duration)
    load_before = loadavg()
    await reset_database(args.database_url)
    pairs = await seed_clients(
        args.database_url,
        count=args.count,
        first_user=FIRST_USER,
        status="sent",
        now=datetime.now(UTC),
        message_ids=[QUESTION_MESSAGE_ID] * args.count,
    )
    rng = random.Random(42)
    plan = [[user, encode_score(survey_id, rng.randint(0, 10))] for survey_id, user in pairs]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as plan_file:
        json.dump(plan, plan_file)
    survey_of_user = {user: survey_id for survey_id, user in pairs}
    press_at = time.time() + 3.0  # the bot is up and polling by then
    before = await pg_counters(args.database_url)
    fake, base_url, token = start_answer_fake(args.count, Path(plan_file.name), args.rate, press_at)
    try:
        runner = run_npsbot if args.child == "npsbot" else run_anchor
        result = await runner(args, token, base_url)
    finally:
        stats = stop_fake(fake)
        Path(plan_file.name).unlink(missing_ok=True)  # noqa: ASYNC240  (after the run)
    database = await pg_delta(args.database_url, before)

    presses: list[list[Any]] = stats["presses"]
    stored: dict[int, float] = result["stored"]
    pressed = {survey_of_user[user]: at for user, at, _toast in presses}
    latencies = [stored[s] - at for s, at in pressed.items() if s in stored]
    toasts = [toast - at for _user, at, toast in presses if toast is not None]
    first = min(at for _user, at, _toast in presses)
    last = max(stored.values(), default=float("nan"))
    answers = max(1, len(latencies))
    whole = result.get("whole", {})
    mine = result.get("in_answers", {})
    per_answer = {f"whole {k}": v / answers for k, v in whole.items()}
    per_answer |= {
        f"answer {k}": v / max(1, mine.get("answers", 1)) for k, v in mine.items() if k != "answers"
    }
    per_answer |= {f"pg {k}": v / answers for k, v in database.items()}
    polls = sum(n for call, n in stats["calls"].items() if call.startswith("getUpdates:"))
    per_answer["getUpdates calls"] = polls / answers
    return {
        "variant": args.child,
        "database": args.database_url.split("://")[0],
        "presses": len(presses),
        "pressed_in": max(at for _user, at, _toast in presses) - first,
        "answered": result["answered"],
        "alerts": result["alerts"],
        "handled": len(latencies),
        "rate": len(latencies) / (last - first),
        "toasts": len(toasts),
        "toast_p50": percentile(toasts, 50),
        "toast_p99": percentile(toasts, 99),
        "toast_max": max(toasts, default=float("nan")),
        "stored_p50": percentile(latencies, 50),
        "stored_p99": percentile(latencies, 99),
        "own_p50": percentile(result["own"], 50),
        "own_p99": percentile(result["own"], 99),
        "per_answer": per_answer,
        "new_connections": database.get("sessions"),
        "loop_lag_p99": percentile([lag for _at, lag in result["lags"]], 99),
        "loop_lag_max": max((lag for _at, lag in result["lags"]), default=float("nan")),
        "gc_full": len(result["gc"]),
        "gc_longest": max(result["gc"], default=0.0),
        "load_before": load_before,
        "load_after": loadavg(),
    }


def child(args: argparse.Namespace) -> None:
    if args.code:  # npsbot of another revision (--before): first on the path, before any import
        sys.path.insert(0, args.code)
    import _common

    from bot import eventloop  # _common put the repository on sys.path

    _common._LOCK = True  # the parent holds the bench lock for all its runs

    result = eventloop.run(one_run(args))
    print(json.dumps(result), flush=True)


# -- the A/B/A/B runs and their tables ----------------------------------------------------------


def run_child(
    variant: str, rate: float, args: argparse.Namespace, code: Path | None = None
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        variant,
        "--rate",
        str(rate),
        "--duration",
        str(args.duration),
        "--settle",
        str(args.settle),
        "--database-url",
        args.database_url,
        *(["--code", str(code)] if code is not None else []),
        *(["--cold-tagger"] if args.cold_tagger else []),
    ]
    done = subprocess.run(
        command,
        env={**os.environ, "PTB_TIMEDELTA": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"the {variant} run failed")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def section(rate: float, runs: list[dict[str, Any]]) -> str:
    """One table, the runs side by side in the order they ran, and the medians' ratio."""
    header = ["measure", *(f"{r['variant']} (run {r['run']})" for r in runs)]

    def row(name: str, cell: Any) -> list[str]:
        return [name, *(cell(r) for r in runs)]

    nan = float("nan")
    keys = sorted({k for r in runs for k in r["per_answer"]})
    rows = [
        row("presses", lambda r: f"{r['presses']} in {r['pressed_in']:.1f} s"),
        row("answers stored (alerts queued)", lambda r: f"{r['answered']} ({r['alerts'] or '-'})"),
        row("handled within the settle time", lambda r: str(r["handled"])),
        row("sustained rate, answers/s", lambda r: f"{r['rate']:.0f}"),
        row("press -> toast (answerCallbackQuery), p50", lambda r: ms(r["toast_p50"])),
        row("press -> toast, p99", lambda r: ms(r["toast_p99"])),
        row("press -> toast, max", lambda r: ms(r["toast_max"])),
        row("press -> stored (+ alert queued), p50", lambda r: ms(r["stored_p50"])),
        row("press -> stored (+ alert queued), p99", lambda r: ms(r["stored_p99"])),
        row("record_score alone, p50 / p99", lambda r: f"{ms(r['own_p50'])} / {ms(r['own_p99'])}"),
        *(
            row(f"per answer: {key}", lambda r, k=key: f"{r['per_answer'].get(k, nan):.2f}")
            for key in keys
        ),
        row("new PostgreSQL connections in the run", lambda r: str(r["new_connections"])),
        row(
            "the bot's event loop late, p99 / max",
            lambda r: (
                f"{ms(r['loop_lag_p99'])} / {ms(r['loop_lag_max'])}"
                if r["variant"] != "anchor"
                else "-"
            ),
        ),
        row(
            "full garbage collections in the bot (longest)",
            lambda r: f"{r['gc_full']} ({ms(r['gc_longest'])})" if r["gc_full"] else "-",
        ),
        row("load average before", lambda r: r["load_before"]),
    ]

    def median(variant: str, key: str) -> float:
        return statistics.median(r[key] for r in runs if r["variant"] == variant)

    names = [v for v in dict.fromkeys(r["variant"] for r in runs) if v != "anchor"]
    measures = (
        ("sustained answers/s", "rate", lambda v: f"{v:.0f}"),
        ("toast p99", "toast_p99", ms),
        ("stored p99", "stored_p99", ms),
    )
    ratios = table(
        ["median", *names, "anchor", *(f"{name} / anchor" for name in names)],
        [
            (
                label,
                *(fmt(median(name, key)) for name in names),
                fmt(median("anchor", key)),
                *(f"{median(name, key) / median('anchor', key):.2f}" for name in names),
            )
            for label, key, fmt in measures
        ],
    )
    return (
        f"Database: {runs[0].get('database', 'postgresql+asyncpg')}; {rate:g} presses/s; scores "
        "uniform 0-10 (about 64% detractors, each alerted by npsbot); the fake Bot API in its "
        "own process, pressing on a schedule and stamping each answerCallbackQuery; each run in "
        "its own process on a freshly seeded database, npsbot and the anchor (a minimal PTB 22 "
        "bot: Updater, one compare-and-set UPDATE ... RETURNING via asyncpg, answerCallbackQuery, "
        "editMessageText) alternating. 'whole' counts are the bot's, the dispatcher and jobs "
        "included; 'answer' counts run inside record_score; 'pg' counts are PostgreSQL's "
        "(pg_stat_database) for the whole run.\n\n" + table(header, rows) + "\n\n" + ratios
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--rate", type=float, action="append", help="presses per second (repeatable; 200 and 100)"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of pressing")
    parser.add_argument("--settle", type=float, default=120.0, help="max seconds to wait after")
    parser.add_argument("--repeat", type=int, default=2, help="npsbot/anchor pairs per rate")
    parser.add_argument("--only", choices=VARIANTS, help="run one variant (while developing)")
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument(
        "--cold-tagger",
        action="store_true",
        help="leave the theme tagger to compile on the first score, inside the measured presses",
    )
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--before", help="also run npsbot at this git revision (A/B/C: before, now, anchor)"
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.rate = args.rate[0]
        child(args)
        return
    print(command_line(), flush=True)
    if args.database_url.startswith("postgresql"):
        hold_bench_lock()
    chosen = (args.only,) if args.only else VARIANTS
    with code_variants(args.before) as trees:
        # (label, variant, code): npsbot at --before first, then this tree's, then the anchor
        variants = [
            (f"npsbot {name}" if name != "this tree" else variant, variant, code)
            for variant in chosen
            for name, code in (trees if variant == "npsbot" else trees[-1:])
        ]
        for rate in args.rate or [200.0, 100.0]:
            runs = []
            for run in range(1, args.repeat + 1):
                for label, variant, code in variants:
                    result = run_child(variant, rate, args, None if code == ROOT else code)
                    result |= {"variant": label, "run": run}
                    brief = {k: v for k, v in result.items() if k != "per_answer"}
                    print(json.dumps(brief), flush=True)
                    runs.append(result)
            body = section(rate, runs) if not args.only else json.dumps(runs, indent=1)
            title = f"Answer path at {rate:g} presses/s"
            report(f"answer-{rate:g}", title, body, write=args.write)


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    main()

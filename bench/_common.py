"""Shared helpers of the benchmark scripts: the machine, the results section, the bench database.

Benchmarks are scripts, never tests. Each prints its numbers and the exact command, and with
``--write`` replaces its own section of docs/benchmarks.md (between ``<!-- bench:NAME -->``
markers), so re-running one benchmark never disturbs the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
if str(ROOT) not in sys.path:  # `python bench/x.py` puts bench/ first, not the repo
    sys.path.insert(0, str(ROOT))

# The only database the benchmarks may touch: its schema is dropped and recreated at will.
BENCH_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
os.environ.setdefault("PTB_TIMEDELTA", "1")


def command_line() -> str:
    """The exact command that ran this benchmark (for the results section)."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    return shlex.join(["python", script, *sys.argv[1:]])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def calibration_ms() -> float:
    """A fixed pure-Python loop, best of five: how fast this CPU is right now.

    A shared virtual machine runs the same code a third faster or slower from one minute to
    the next; this number, taken with the results, tells the reader which kind of minute it was.
    """
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(i * i for i in range(100_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "ram": f"{ram_gib():.1f} GiB",
        "python": platform.python_version(),
        "load average (1/5/15 min) at the end": loadavg(),
        "CPU calibration at the end (sum of squares below 100,000, best of 5)": (
            f"{calibration_ms():.2f} ms"
        ),
    }


def rss(field: str) -> float:
    """A memory figure of this process in MiB (``VmRSS`` now, ``VmHWM`` its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def report(name: str, title: str, body: str, *, write: bool) -> None:
    """Print the results with the machine and the command; with ``write`` update the doc."""
    info = machine()
    facts = "\n".join(f"- {key}: {value}" for key, value in info.items())
    section = (
        f"## {title}\n\n"
        f"Command:\n\n```\n{command_line()}\n```\n\n"
        f"Machine:\n\n{facts}\n\n{body.strip()}\n"
    )
    print()
    print(section)
    if write:
        update_doc(name, section)
        print(f"(updated {os.path.relpath(DOC, Path.cwd())}, section {name!r})")


def update_doc(name: str, section: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{section.strip()}\n{end}"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text)


def is_bench_database(url: str) -> bool:
    """Refuse to reset any PostgreSQL database but ``bench`` (or ``bench_<something>``)."""
    name = url.rsplit("/", 1)[-1].split("?", maxsplit=1)[0]
    return url.startswith("postgresql") and (name == "bench" or name.startswith("bench_"))


_LOCK: Any = None


def hold_bench_lock() -> None:
    """One benchmark at a time: they share the ``bench`` database and would skew each other.

    The lock is held until the process exits.
    """
    global _LOCK  # noqa: PLW0603
    import fcntl

    if _LOCK is not None:
        return
    _LOCK = open("/tmp/npsbot-bench.lock", "w")  # noqa: SIM115
    try:
        fcntl.flock(_LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another benchmark is running; waiting for it to finish...", flush=True)
        fcntl.flock(_LOCK, fcntl.LOCK_EX)


async def reset_database(url: str) -> None:
    """An empty, migrated database: PostgreSQL ``bench`` gets a fresh schema, SQLite a new file."""
    if url.startswith("postgresql"):
        hold_bench_lock()
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import upgrade_to_head

    if url.startswith("postgresql"):
        if not is_bench_database(url):
            raise SystemExit(f"refusing to reset {url}: benchmarks use only the database 'bench'")
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    elif url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240  (before any load)
    engine = make_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()


async def analyze(url: str) -> None:
    """``ANALYZE`` the seeded tables, as autovacuum does on a production server soon after a
    bulk insert. This machine's PostgreSQL runs with autovacuum off: without statistics the
    planner takes the freshly seeded outbox for empty, and the claim's anti-join becomes a
    scan of every row for every row (3 s for the first claim of 10,000 waiting calls, 20 ms
    for the next ones against 19 and 6 ms once analysed)."""
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def seed_clients(
    url: str,
    *,
    count: int,
    first_user: int,
    status: str,
    now: datetime,
    message_ids: Sequence[int] | None = None,
    batch: int = 2000,
) -> list[tuple[int, int]]:
    """``count`` customers with a chat, each with one ticket and one survey in ``status``.

    Returns ``(survey_id, user_id)`` pairs. Uses SQLAlchemy Core multi-row inserts (fast
    enough for tens of thousands; the digest seeds its million rows with generate_series).
    """
    from sqlalchemy import insert, select

    from storage.db import make_engine
    from storage.models import Customer, Survey, Ticket

    engine = make_engine(url)
    pairs: list[tuple[int, int]] = []
    async with engine.begin() as conn:
        for offset in range(0, count, batch):
            users = range(first_user + offset, first_user + min(count, offset + batch))
            await conn.execute(
                insert(Customer),
                [
                    {
                        "helpdesk_id": f"bench-c{user}",
                        "telegram_user_id": user,
                        "chat_id": user,
                        "name": f"Client {user}",
                        "language": "en",
                        "unreachable": False,
                        "created_at": now,
                    }
                    for user in users
                ],
            )
            ids = dict(
                (
                    await conn.execute(
                        select(Customer.telegram_user_id, Customer.id).where(
                            Customer.telegram_user_id.in_(list(users))  # type: ignore[union-attr]
                        )
                    )
                ).all()
            )
            await conn.execute(
                insert(Ticket),
                [
                    {"external_id": f"BENCH-{user}", "customer_id": ids[user], "created_at": now}
                    for user in users
                ],
            )
            tickets = dict(
                (
                    await conn.execute(
                        select(Ticket.customer_id, Ticket.id).where(
                            Ticket.customer_id.in_(list(ids.values()))  # type: ignore[attr-defined]
                        )
                    )
                ).all()
            )
            rows: list[dict[str, Any]] = []
            for user in users:
                row: dict[str, Any] = {
                    "ticket_id": tickets[ids[user]],
                    "customer_id": ids[user],
                    "status": status,
                    "closed_at": now,
                    "agent": f"Agent {user % 17}",
                    "team": f"Team {user % 3}",
                    "channel": "email",
                    "tags": [],
                    "due_at": now,
                    "created_at": now,
                }
                if status in ("queued", "sent"):
                    row["queued_at"] = now
                if status == "sent":
                    row["sent_at"] = now
                    row["chat_id"] = user
                    assert message_ids is not None
                    row["message_id"] = message_ids[user - first_user]
                rows.append(row)
            await conn.execute(insert(Survey), rows)
            found = await conn.execute(
                select(Survey.id, Survey.customer_id).where(
                    Survey.customer_id.in_(list(ids.values()))  # type: ignore[attr-defined]
                )
            )
            by_customer = {customer: survey for survey, customer in found.all()}
            pairs += [(by_customer[ids[user]], user) for user in users]
    await engine.dispose()
    return pairs


class Stopwatch:
    """Monotonic seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def profile(pid: int, seconds: float) -> str:
    """py-spy's collapsed stacks of a process for ``seconds``, summarised as Markdown."""
    spy = shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy"
    out = Path(f"/tmp/npsbot-bench-{pid}.pyspy.txt")
    subprocess.run(
        [
            spy,
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return summarize_stacks(out)


BUCKETS = (  # first match wins, checked from the innermost frame outwards
    ("asyncpg / DB round trips", ("asyncpg", "sqlalchemy/dialects/postgresql/asyncpg")),
    ("aiosqlite / sqlite3", ("aiosqlite", "sqlite3")),
    ("SQLAlchemy ORM/Core (compile, unit of work, results)", ("sqlalchemy", "sqlmodel")),
    ("pydantic validation / serialisation", ("pydantic", "fastapi/_compat")),
    ("our code (bot/, storage/)", ("bot/", "storage/")),
    ("python-telegram-bot (request building, parsing)", ("telegram/",)),
    ("httpx / httpcore (Bot API client)", ("httpx", "httpcore")),
    ("FastAPI routing / dependencies", ("fastapi",)),
    ("Starlette", ("starlette",)),
    ("h11 / uvicorn HTTP protocol", ("h11", "uvicorn")),
    ("asyncio event loop", ("asyncio",)),
)


def summarize_stacks(path: Path) -> str:
    """Self-time per bucket (innermost recognised frame) and the top inclusive product frames."""
    buckets: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for frame in reversed(frames):
            bucket = next((name for name, keys in BUCKETS if any(k in frame for k in keys)), None)
            if bucket:
                buckets[bucket] += count
                break
        else:
            buckets["other (idle/selector, stdlib)"] += count
        seen = set()
        for frame in frames:
            if ("bot/" in frame or "storage/" in frame) and "sandbox" not in frame:
                name = (
                    frame.split(" (")[0] + " (" + frame.split("/")[-1].split(":")[0]
                    if "(" in frame
                    else frame
                )
                if name not in seen:
                    seen.add(name)
                    inclusive[name] += count
    lines = [
        f"py-spy samples: {total} (200 Hz)",
        "",
        table(
            ["where (innermost library frame)", "share of samples"],
            [(name, f"{count / total:.0%}") for name, count in buckets.most_common()],
        ),
        "",
        table(
            ["product frame (inclusive)", "share"],
            [(name, f"{count / total:.0%}") for name, count in inclusive.most_common(12)],
        ),
    ]
    return "\n".join(lines)


def start_fake(
    first_user: int, users: int, *options: str
) -> tuple[subprocess.Popen[str], str, str]:
    """The fake Bot API in its own process (bench/_fake_server.py): process, base URL, token.

    Its own process keeps its CPU out of the measured one; it prints READY when it listens.
    """
    command = [
        sys.executable,
        str(Path(__file__).with_name("_fake_server.py")),
        "--first-user",
        str(first_user),
        "--users",
        str(users),
        *options,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if not line or line[0] != "READY":
        raise SystemExit("the fake Bot API did not start")
    return process, line[1], line[2]


def stop_fake(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Stop the fake and return the statistics it prints on the way out."""
    process.terminate()
    out, _ = process.communicate(timeout=60)
    for line in out.splitlines():
        if line.startswith("STATS "):
            return dict(json.loads(line[6:]))
    raise SystemExit("the fake Bot API reported nothing")


@contextlib.contextmanager
def code_variants(before: str | None) -> Iterator[list[tuple[str, Path]]]:
    """This tree, and with ``before`` that git revision checked out in a temporary worktree.

    Benchmarks that compare a change with the code before it run both in one run, A/B/A/B,
    each in a subprocess of its own (``run_in``): the machine is too noisy for two runs apart.
    """
    variants = [("this tree", ROOT)]
    if before is None:
        yield variants
        return
    git = shutil.which("git") or "git"
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "before"
        subprocess.run(
            [git, "worktree", "add", "--detach", "-q", str(tree), before], cwd=ROOT, check=True
        )
        try:
            yield [(f"before ({before})", tree), *variants]
        finally:
            subprocess.run([git, "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def add_before_arguments(parser: Any, *, repeat: int = 2) -> None:
    """``--repeat``, ``--before REF`` and ``--write``, as the A/B benchmarks take them."""
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--before", help="a git revision to run beside this tree, A/B/A/B")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")


def alternate(
    before: str | None, repeat: int, module: str, *args: str, prepare: Any = None
) -> list[tuple[int, str, dict[str, Any]]]:
    """``run_in`` for each code variant in turn, ``repeat`` times: (run, variant, result)."""
    results = []
    with code_variants(before) as variants:
        for run in range(1, repeat + 1):
            for name, code in variants:
                if prepare is not None:
                    prepare()
                result = run_in(code, module, *args)
                print(name, result, flush=True)
                results.append((run, name, result))
    return results


def run_in(code: Path, module: str, *args: str) -> dict[str, Any]:
    """``bench/<module>.child(*args)`` in a subprocess running the npsbot of ``code``.

    The child prints one JSON object as its last line. ``code`` goes first on sys.path only
    after the module is imported: importing this module puts this tree there, and nothing of
    npsbot may be imported before ``child`` runs.
    """
    script = (
        f"import sys; sys.path.insert(0, sys.argv[1]); import {module} as bench; "
        "sys.path.insert(0, sys.argv[2]); bench.child(*sys.argv[3:])"
    )
    bench = str(Path(__file__).resolve().parent)
    done = subprocess.run(
        [sys.executable, "-c", script, bench, str(code), *args],
        env={**os.environ, "PTB_TIMEDELTA": "1"},
        capture_output=True,
        text=True,
        check=True,
        cwd=code,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))

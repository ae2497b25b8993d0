"""Intake: ``POST /api/v1/tickets/closed`` beside a hand-written anchor, on PostgreSQL.

Two servers, each in its own process pinned to the same CPU (0), on the loop ``npsbot run``
uses (``bot.eventloop``), under uvicorn configured as ``NpsBot`` does:

- **npsbot**: the product's FastAPI app (``bot.services.intake_app``). The bench adds two routes
  to that app object, in the bench process only, to show where the time goes: ``POST
  /bench/noop`` (202 at once: framework + HTTP floor) and ``POST /bench/parse`` (the body parsed
  into ``TicketClosedIn`` and the bearer guard, no database);
- **anchor**: what a user would write by hand: a bare FastAPI app, a plain pydantic model of the
  same body, a bearer-token comparison, one asyncpg pool and one ``INSERT ... RETURNING id`` per
  request into a table of its own (``anchor_closing``, primary key only) in the same database.

The load generator is a small asyncio HTTP/1.1 keep-alive client in a third process pinned to
CPU 1, ``--concurrency`` connections each sending back to back (closed loop); ``--rate`` makes
it an open loop at a fixed rate instead, with latency measured from the scheduled send time.
Rounds alternate (anchor, npsbot, anchor, npsbot, ...) ``--repeat`` times in one invocation, and
the summary gives the ratio of the median req/s and of the median p99. CPU per request is the
CPU time the server process and the PostgreSQL backends serving the bench database used during
the round (``/proc/<pid>/stat``), over the requests of the round, warm-up included; PostgreSQL's
shared background processes (WAL writer, checkpointer) are not counted.

    python bench/intake.py --repeat 3 --duration 15 --write
    python bench/intake.py --endpoints noop,parse,anchor,intake --repeat 1   # with the floors
    python bench/intake.py --profile          # py-spy on both servers during their first round

``--profile`` needs py-spy (``pip install --target /tmp/pyspy py-spy`` keeps it out of the venv).
"""

# No `from __future__ import annotations`: FastAPI must see the bench routes' real types.

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DATABASE_URL,
    loadavg,
    percentile,
    profile,
    report,
    reset_database,
    table,
)

from bot import eventloop  # _common put the repository on sys.path

TOKEN = "bench-intake-token"  # noqa: S105
ENDPOINTS = {
    "noop": "/bench/noop",
    "parse": "/bench/parse",
    "intake": "/api/v1/tickets/closed",
    "anchor": "/anchor/tickets/closed",
}
# The endpoints --profile samples (the first round of each).
PROFILED = ("intake", "anchor")
# Which server answers each endpoint.
SERVERS = {"noop": "npsbot", "parse": "npsbot", "intake": "npsbot", "anchor": "anchor"}
ANCHOR_TABLE = """
CREATE TABLE IF NOT EXISTS anchor_closing (
    id bigserial PRIMARY KEY,
    ticket_id text NOT NULL,
    closed_at timestamptz NOT NULL,
    customer_id text NOT NULL,
    customer_name text,
    language text,
    agent text,
    team text,
    channel text,
    tags jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


# -- server ----------------------------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """The product's HTTP app plus the bench-only routes, under uvicorn as NpsBot runs it."""
    from fastapi import Depends, Response

    from bot.config import Settings
    from bot.intake.auth import intake_guard
    from bot.intake.schemas import TicketClosedIn
    from bot.services import build_services, intake_app

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]  (never contacted here)
        database_url=args.database_url,
        api_token=TOKEN,  # type: ignore[arg-type]
        bot_username="npsbot_bench_bot",  # deep links without asking Telegram (getMe)
        _env_file=None,  # type: ignore[call-arg]
    )
    services = build_services(settings)
    app = intake_app(services)  # the app NpsBot serves, before it adds its own routes
    guard = intake_guard(TOKEN, signing_secret=None, clock=services.intake.clock)
    # How many closings each group-commit write took: the per-batch costs divide by it.
    closings = services.intake._closings
    if args.writers:  # a what-if: the product's own choice otherwise (bot.services)
        closings.writers = args.writers
    write = closings.write
    batches = Counter[str]()

    async def counted(items: Any) -> Any:
        batches["batches"] += 1
        batches["items"] += len(items)
        return await write(items)

    closings.write = counted

    @app.get("/bench/batches")
    async def batch_counts() -> dict[str, int]:
        return dict(batches)

    @app.post("/bench/noop", status_code=202)
    async def noop() -> Response:
        return Response(b"{}", status_code=202, media_type="application/json")

    @app.post("/bench/parse", status_code=202, dependencies=[Depends(guard)])
    async def parse(ticket: TicketClosedIn) -> dict[str, object]:
        event = ticket.to_event()
        return {"ticket_id": event.ticket_id, "status": "pending"}

    await _serve(app, args)
    await services.close()


async def serve_anchor(args: argparse.Namespace) -> None:
    """The anchor: the intake a user would write by hand, served exactly as npsbot's is."""
    import asyncpg
    from fastapi import FastAPI, Header, HTTPException, Response
    from pydantic import AwareDatetime, BaseModel

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})

    class Customer(BaseModel):
        id: str
        name: str | None = None
        language: str | None = None
        phone: str | None = None
        company: str | None = None
        telegram_user_id: int | None = None

    class Closing(BaseModel):
        ticket_id: str
        closed_at: AwareDatetime
        customer: Customer
        agent: str | None = None
        team: str | None = None
        channel: str | None = None
        tags: list[str] = []

    dsn = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn)  # asyncpg's defaults: 10 connections
    await pool.execute(ANCHOR_TABLE)
    insert = (
        "INSERT INTO anchor_closing (ticket_id, closed_at, customer_id, customer_name, language,"
        " agent, team, channel, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)"
        " RETURNING id"
    )
    expected = f"Bearer {TOKEN}"
    app = FastAPI()

    @app.post("/anchor/tickets/closed", status_code=202)
    async def closed(closing: Closing, authorization: str = Header("")) -> Response:
        if authorization != expected:
            raise HTTPException(401, "wrong token")
        row_id = await pool.fetchval(
            insert,
            closing.ticket_id,
            closing.closed_at,
            closing.customer.id,
            closing.customer.name,
            closing.customer.language,
            closing.agent,
            closing.team,
            closing.channel,
            json.dumps(closing.tags),
        )
        body = json.dumps({"id": row_id, "ticket_id": closing.ticket_id, "status": "pending"})
        return Response(body, status_code=202, media_type="application/json")

    await _serve(app, args)
    await pool.close()


async def _serve(app: object, args: argparse.Namespace) -> None:
    """uvicorn as ``NpsBot`` configures it; prints ``READY <port> <loop+http>`` once listening."""
    import uvicorn

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    eventloop.freeze_startup_heap()  # as `npsbot run` does once started (the anchor too)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    http = server.config.http_protocol_class.__module__.rsplit(".", 1)[-1]  # type: ignore[union-attr]
    print(f"READY {port} {loop}+{http}", flush=True)
    await task


# -- load generator --------------------------------------------------------------------------


def body_for(phase: str, conn: int, index: int) -> bytes:
    customer = (conn * 7919 + index) % 5000
    return json.dumps(
        {
            "ticket_id": f"B-{phase}-{conn}-{index}",
            "closed_at": "2026-11-20T14:03:00Z",
            "customer": {"id": f"c-{customer}", "name": "Anna", "language": "en"},
            "agent": f"Agent {index % 17}",
            "team": "L2",
            "channel": "email",
            "tags": ["billing"],
        }
    ).encode()


async def load(args: argparse.Namespace) -> None:
    """Hit one path with ``concurrency`` keep-alive connections; print a JSON result line."""
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    path = ENDPOINTS[args.endpoint]
    phase = f"{args.endpoint}{int(time.time() * 1000) % 10**8}"
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    sent = 0  # warm-up included: the CPU of the whole round is shared by all of them
    loop = asyncio.get_running_loop()
    warm_until = loop.time() + args.warmup
    stop_at = warm_until + args.duration
    interval = args.concurrency / args.rate if args.rate else 0.0

    async def connection(conn: int) -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        index = 0
        next_send = loop.time() + (interval * conn / args.concurrency if interval else 0)
        while True:
            if interval:
                delay = next_send - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                scheduled = next_send
                next_send += interval
            else:
                scheduled = loop.time()
            if scheduled >= stop_at:
                break
            body = body_for(phase, conn, index)
            index += 1
            writer.write(
                b"POST " + path.encode() + b" HTTP/1.1\r\nHost: bench\r\n"
                b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            done = loop.time()
            sent += 1
            if scheduled >= warm_until:
                latencies.append(done - scheduled)
                statuses[status] += 1
        writer.close()

    await asyncio.gather(*(connection(c) for c in range(args.concurrency)))
    print(
        json.dumps(
            {
                "endpoint": args.endpoint,
                "requests": len(latencies),
                "sent": sent,
                "statuses": {str(k): v for k, v in statuses.items()},
                "rps": len(latencies) / args.duration,
                "p50_ms": percentile(latencies, 50) * 1000,
                "p90_ms": percentile(latencies, 90) * 1000,
                "p99_ms": percentile(latencies, 99) * 1000,
                "max_ms": max(latencies, default=float("nan")) * 1000,
            }
        ),
        flush=True,
    )


# -- orchestration ---------------------------------------------------------------------------


def start_server(args: argparse.Namespace, app: str) -> tuple[subprocess.Popen[str], int, str]:
    """One server process (``npsbot`` or ``anchor``): the process, its port, its loop."""
    command = [sys.executable, __file__, "--role", app, "--database-url", args.database_url]
    command += ["--cpu", str(args.server_cpu), "--writers", str(args.writers)]
    env = dict(os.environ)
    if args.extra_path:  # e.g. a --target dir holding uvloop/httptools, for a what-if run
        env["PYTHONPATH"] = os.pathsep.join([args.extra_path, env.get("PYTHONPATH", "")])
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if not line or line[0] != "READY":
        raise SystemExit(f"the {app} server did not start")
    return process, int(line[1]), line[2]  # e.g. uvloop+httptools_impl


def run_client(args: argparse.Namespace, port: int, endpoint: str) -> dict[str, object]:
    command = [
        sys.executable,
        __file__,
        "--role",
        "client",
        "--port",
        str(port),
        "--endpoint",
        endpoint,
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--concurrency",
        str(args.concurrency),
        "--cpu",
        str(args.client_cpu),
    ]
    if args.rate:
        command += ["--rate", str(args.rate)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


# -- CPU accounting --------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def batch_counts(port: int) -> dict[str, int]:
    """The npsbot server's group-commit writes and closings so far (``/bench/batches``)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/batches", timeout=10) as answer:
        return dict(json.loads(answer.read()))


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (``/proc/<pid>/stat``); None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


async def backends(url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench database (both servers' pools)."""
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def cpu_snapshot(url: str, server: int) -> dict[int, float]:
    pids = [server] + (await backends(url) if url.startswith("postgresql") else [])
    return {pid: cpu for pid in pids if (cpu := cpu_seconds(pid)) is not None}


async def cpu_used(url: str, server: int, before: dict[int, float]) -> tuple[float, float]:
    """(server, PostgreSQL) CPU seconds since ``before``; a backend new since then counts whole."""
    after = await cpu_snapshot(url, server)
    server_cpu = after.get(server, 0.0) - before.get(server, 0.0)
    database = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items() if pid != server)
    return server_cpu, database


# -- orchestration ---------------------------------------------------------------------------


async def orchestrate(args: argparse.Namespace) -> None:
    load_before = loadavg()
    await reset_database(args.database_url)
    endpoints = args.endpoints.split(",")
    apps = sorted({SERVERS[endpoint] for endpoint in endpoints})
    servers = {app: start_server(args, app) for app in apps}
    args.loop_kind = next(iter(servers.values()))[2]
    results: list[dict[str, object]] = []
    profiles: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    try:
        for round_ in range(1, args.repeat + 1):
            for endpoint in endpoints:
                process, port, _ = servers[SERVERS[endpoint]]
                before = await cpu_snapshot(args.database_url, process.pid)
                counted = batch_counts(port) if endpoint == "intake" else None
                if args.profile and endpoint in PROFILED and endpoint not in profiles:
                    # The load runs while py-spy samples the server.
                    spy = loop.run_in_executor(
                        None, profile, process.pid, args.warmup + args.duration
                    )
                    result = await loop.run_in_executor(None, run_client, args, port, endpoint)
                    profiles[endpoint] = await spy
                else:
                    result = await loop.run_in_executor(None, run_client, args, port, endpoint)
                server_cpu, database_cpu = await cpu_used(args.database_url, process.pid, before)
                sent = max(1, int(result["sent"]))  # type: ignore[call-overload]
                if counted is not None:
                    after = batch_counts(port)
                    written = after.get("batches", 0) - counted.get("batches", 0)
                    items = after.get("items", 0) - counted.get("items", 0)
                    result["batch"] = items / written if written else float("nan")
                result |= {
                    "round": round_,
                    "server_cpu_ms": server_cpu * 1000 / sent,
                    "db_cpu_ms": database_cpu * 1000 / sent,
                    "load": loadavg(),
                }
                print(json.dumps(result), flush=True)
                results.append(result)
    finally:
        for process, _, _ in servers.values():
            process.send_signal(signal.SIGINT)
        for process, _, _ in servers.values():
            process.wait(timeout=30)
    report(
        f"intake{'-' + args.label if args.label else ''}",
        f"Intake throughput{' (' + args.label + ')' if args.label else ''}",
        summary(args, results, load_before, profiles),
        write=args.write,
    )


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if not ordered:
        return float("nan")
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def summary(
    args: argparse.Namespace,
    results: list[dict[str, Any]],
    load_before: str,
    profiles: dict[str, str],
) -> str:
    """The rounds, the medians per endpoint, and npsbot's ratios to the anchor."""
    rows = [
        (
            r["round"],
            f"`{ENDPOINTS[r['endpoint']]}`",
            f"{r['rps']:.0f}",
            r["statuses"],
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['server_cpu_ms']:.3f}",
            f"{r['db_cpu_ms']:.3f}",
            f"{r['batch']:.1f}" if "batch" in r else "",
            r["load"],
        )
        for r in results
    ]
    medians: dict[str, dict[str, float]] = {}
    for endpoint in dict.fromkeys(r["endpoint"] for r in results):
        mine = [r for r in results if r["endpoint"] == endpoint]
        medians[endpoint] = {
            key: median([r[key] for r in mine])
            for key in ("rps", "p50_ms", "p99_ms", "server_cpu_ms", "db_cpu_ms")
        }
    median_rows = [
        (
            f"`{ENDPOINTS[endpoint]}`",
            f"{m['rps']:.0f}",
            f"{m['p50_ms']:.1f}",
            f"{m['p99_ms']:.1f}",
            f"{m['server_cpu_ms']:.3f}",
            f"{m['db_cpu_ms']:.3f}",
            f"{m['server_cpu_ms'] + m['db_cpu_ms']:.3f}",
        )
        for endpoint, m in medians.items()
    ]
    mode = f"open loop at {args.rate:g} req/s" if args.rate else "closed loop"
    database = args.database_url.rsplit("/", 1)[-1]
    body = (
        f"Servers: npsbot and the anchor, each one uvicorn process pinned to CPU "
        f"{args.server_cpu} (event loop `{loop_kind(args)}`, access log off, the heap frozen "
        f"at start); client: asyncio raw HTTP/1.1, {args.concurrency} keep-alive connections, "
        f"{mode}, pinned to CPU {args.client_cpu}; {args.duration:g} s measured after "
        f"{args.warmup:g} s warm-up per round; rounds alternate. Database: PostgreSQL "
        f"`{database}`. CPU per request: the server process, and the PostgreSQL backends of "
        "the bench database, over the round's requests (warm-up included). The anchor: a bare "
        "FastAPI app, a plain pydantic model of the same body, a bearer-token comparison and "
        "one asyncpg `INSERT ... RETURNING id` per request (asyncpg's default pool of 10). "
        "Target (issue 15): npsbot >= 0.8x the anchor's req/s, p99 <= 1.5x the anchor's.\n\n"
        + table(
            [
                "round",
                "endpoint",
                "req/s",
                "statuses",
                "p50 ms",
                "p99 ms",
                "server CPU ms/req",
                "PostgreSQL CPU ms/req",
                "closings per write",
                "load avg after",
            ],
            rows,
        )
        + "\n\nMedians over the rounds:\n\n"
        + table(
            [
                "endpoint",
                "req/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms/req",
                "PostgreSQL CPU ms/req",
                "total CPU ms/req",
            ],
            median_rows,
        )
    )
    if "anchor" in medians and "intake" in medians:
        a, n = medians["anchor"], medians["intake"]
        cpu = (n["server_cpu_ms"] + n["db_cpu_ms"]) / (a["server_cpu_ms"] + a["db_cpu_ms"])
        body += (
            f"\n\nnpsbot / anchor: **{n['rps'] / a['rps']:.2f}x** the req/s (target >= 0.8), "
            f"p99 **{n['p99_ms'] / a['p99_ms']:.2f}x** (target <= 1.5), "
            f"{cpu:.2f}x the CPU per request (server + PostgreSQL)."
        )
    body += f"\n\nLoad average before: {load_before}."
    for endpoint, text in profiles.items():
        who = "npsbot's" if SERVERS[endpoint] == "npsbot" else "the anchor's"
        body += f"\n\nWhere {who} time goes during its first round:\n\n" + text
    return body


def loop_kind(args: argparse.Namespace) -> str:
    extra = " (extra path)" if args.extra_path else ""
    return f"{getattr(args, 'loop_kind', 'unknown')}{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--role",
        choices=["main", "npsbot", "anchor", "client"],
        default="main",
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", default="intake", help=argparse.SUPPRESS)
    parser.add_argument(
        "--endpoints",
        default="anchor,intake",
        help="which paths each round, in order (of noop, parse, intake, anchor)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds (A/B/A/B...)")
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds measured per endpoint"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop at this rate (req/s)")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy each server during its first round (intake and anchor)",
    )
    parser.add_argument(
        "--writers",
        type=int,
        default=0,
        help="what-if: npsbot's group-commit writes in flight at once (default: the product's)",
    )
    parser.add_argument("--extra-path", default="", help="PYTHONPATH prefix for the server only")
    parser.add_argument("--label", default="", help="suffix of the docs section (e.g. uvloop)")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.role in ("npsbot", "anchor"):
        with contextlib.suppress(KeyboardInterrupt):  # SIGINT is how the bench stops it
            eventloop.run((serve if args.role == "npsbot" else serve_anchor)(args))
    elif args.role == "client":
        asyncio.run(load(args))
    else:
        asyncio.run(orchestrate(args))


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    main()

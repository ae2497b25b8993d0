"""Intake: sustained ``POST /api/v1/tickets/closed`` per second and latency, on PostgreSQL.

The server is the product's FastAPI app (``bot.services.intake_app``, served by
uvicorn configured as ``NpsBot`` does) in its own process pinned to CPU 0. The bench adds two
routes to that app object, in the bench process only, to show where the time goes:

- ``POST /bench/noop``: returns 202 at once (framework + HTTP floor);
- ``POST /bench/parse``: the same body parsed into ``TicketClosedIn`` and the bearer guard, no DB.

The load generator is a small asyncio HTTP/1.1 keep-alive client in a second process pinned to
CPU 1, ``--concurrency`` connections each sending back to back (closed loop). ``--rate`` makes it
an open loop at a fixed rate instead, with latency measured from the scheduled send time.

    python bench/intake.py --duration 15 --concurrency 32 --write
    python bench/intake.py --profile          # py-spy on the server during the intake phase

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
}


# -- server ----------------------------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """The product's HTTP app plus the bench-only routes, under uvicorn as NpsBot runs it."""
    import uvicorn
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

    @app.post("/bench/noop", status_code=202)
    async def noop() -> Response:
        return Response(b"{}", status_code=202, media_type="application/json")

    @app.post("/bench/parse", status_code=202, dependencies=[Depends(guard)])
    async def parse(ticket: TicketClosedIn) -> dict[str, object]:
        event = ticket.to_event()
        return {"ticket_id": event.ticket_id, "status": "pending"}

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    eventloop.freeze_startup_heap()  # as `npsbot run` does once started
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    loop = type(asyncio.get_running_loop()).__module__.split(".")[0]
    http = server.config.http_protocol_class.__module__.rsplit(".", 1)[-1]  # type: ignore[union-attr]
    print(f"READY {port} {loop}+{http}", flush=True)
    await task
    await services.close()


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
    loop = asyncio.get_running_loop()
    warm_until = loop.time() + args.warmup
    stop_at = warm_until + args.duration
    interval = args.concurrency / args.rate if args.rate else 0.0

    async def connection(conn: int) -> None:
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


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, __file__, "--role", "server", "--database-url", args.database_url]
    command += ["--cpu", str(args.server_cpu)]
    env = dict(os.environ)
    if args.extra_path:  # e.g. a --target dir holding uvloop/httptools, for a what-if run
        env["PYTHONPATH"] = os.pathsep.join([args.extra_path, env.get("PYTHONPATH", "")])
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if not line or line[0] != "READY":
        raise SystemExit("the intake server did not start")
    args.loop_kind = line[2]  # e.g. uvloop+httptools_impl, as uvicorn and bot.eventloop chose
    return process, int(line[1])


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
    result = dict(json.loads(out.strip().splitlines()[-1]))
    result["load"] = loadavg()
    print(json.dumps(result), flush=True)
    return result


async def orchestrate(args: argparse.Namespace) -> None:
    load_before = loadavg()
    await reset_database(args.database_url)
    server, port = start_server(args)
    results = []
    profile_text = ""
    try:
        for endpoint in args.endpoints.split(","):
            if args.profile and endpoint == "intake":
                # The load runs while py-spy samples the server.
                loop = asyncio.get_running_loop()
                spy = loop.run_in_executor(None, profile, server.pid, args.warmup + args.duration)
                results.append(await loop.run_in_executor(None, run_client, args, port, endpoint))
                profile_text = await spy
            else:
                results.append(run_client(args, port, endpoint))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    rows = [
        (
            f"`{ENDPOINTS[r['endpoint']]}`",  # type: ignore[index]
            f"{r['rps']:.0f}",
            r["statuses"],
            f"{r['p50_ms']:.1f}",
            f"{r['p90_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            r["load"],
        )
        for r in results
    ]
    mode = f"open loop at {args.rate:g} req/s" if args.rate else "closed loop"
    body = (
        f"Server: 1 uvicorn process pinned to CPU {args.server_cpu} (event loop "
        f"`{loop_kind(args)}`); client: asyncio raw HTTP/1.1, {args.concurrency} keep-alive "
        f"connections, {mode}, pinned to CPU {args.client_cpu}; {args.duration:g} s measured "
        f"after {args.warmup:g} s warm-up per endpoint. Database: PostgreSQL `bench`. "
        f"Target: >= 2,000 req/s and p99 < 50 ms for the intake.\n\n"
        + table(
            [
                "endpoint",
                "req/s",
                "statuses",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "load avg after",
            ],
            rows,
        )
        + f"\n\nLoad average before: {load_before}."
    )
    if profile_text:
        body += "\n\nWhere the server's time goes during the intake phase:\n\n" + profile_text
    report(
        f"intake{'-' + args.label if args.label else ''}",
        f"Intake throughput{' (' + args.label + ')' if args.label else ''}",
        body,
        write=args.write,
    )


def loop_kind(args: argparse.Namespace) -> str:
    extra = " (extra path)" if args.extra_path else ""
    return f"{getattr(args, 'loop_kind', 'unknown')}{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--role", choices=["main", "server", "client"], default="main", help=argparse.SUPPRESS
    )
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", default="intake", help=argparse.SUPPRESS)
    parser.add_argument("--endpoints", default="noop,parse,intake", help="which paths, in order")
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds measured per endpoint"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop at this rate (req/s)")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the server during the intake"
    )
    parser.add_argument("--extra-path", default="", help="PYTHONPATH prefix for the server only")
    parser.add_argument("--label", default="", help="suffix of the docs section (e.g. uvloop)")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if args.role == "server":
        with contextlib.suppress(KeyboardInterrupt):  # SIGINT is how the bench stops it
            eventloop.run(serve(args))  # the loop `npsbot run` uses
    elif args.role == "client":
        asyncio.run(load(args))
    else:
        asyncio.run(orchestrate(args))


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    main()

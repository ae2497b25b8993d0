"""The fake Bot API in its own process, with benchmark users, reporting what it received.

Used by bench/dispatch.py so the fake's own CPU does not share the dispatcher's event loop
(``python -m bot.sandbox`` cannot pre-register thousands of users). Prints ``READY <base_url>``
once listening; on SIGTERM/SIGINT prints ``STATS <json>`` (calls by method and status, and the
accepted sends' arrival times summarised) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections import Counter, deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sandbox.flood import FloodLimits, is_counted
from bot.sandbox.server import FakeBotApi


def summarize(fake: FakeBotApi) -> dict[str, object]:
    calls = list(fake.calls)
    by = Counter(f"{call.method}:{call.status}" for call in calls)
    sent = sorted(c.timestamp for c in calls if is_counted(c.method) and c.status == 200)
    busiest = 0
    window: deque[float] = deque()
    for stamp in sent:  # the most accepted sends in any 1-second sliding window
        window.append(stamp)
        while window[0] <= stamp - 1.0:
            window.popleft()
        busiest = max(busiest, len(window))
    return {
        "calls": dict(by),
        "accepted_sends": len(sent),
        "too_many_requests": sum(1 for c in calls if c.status == 429),
        "first_send": sent[0] if sent else None,
        "last_send": sent[-1] if sent else None,
        "busiest_second": busiest,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first-user", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=0)
    parser.add_argument("--group", type=int, action="append", default=[])
    parser.add_argument("--no-flood-limits", action="store_true")
    parser.add_argument("--global-per-second", type=int, default=30)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    limits = FloodLimits(global_per_second=args.global_per_second, enabled=not args.no_flood_limits)
    fake = FakeBotApi(limits=limits)
    for user in range(args.first_user, args.first_user + args.users):
        fake.world.add_user(user, f"Client {user}", language_code="en")
    for group in args.group:
        fake.add_group(group)
    await fake.start()
    print(f"READY {fake.base_url} {fake.token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await fake.stop()
    print("STATS " + json.dumps(summarize(fake)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())

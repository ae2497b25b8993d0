"""The fake Bot API in its own process, with benchmark users, reporting what it received.

Used by bench/dispatch.py and bench/answer.py so the fake's own CPU does not share the bot's
event loop (``python -m bot.sandbox`` cannot pre-register thousands of users). Prints
``READY <base_url> <token>`` once listening; on SIGTERM/SIGINT prints ``STATS <json>`` (calls
by method and status, the accepted sends' arrival times summarised, and the wall-clock time of
each scripted press) and exits.

``--press-plan FILE`` (JSON ``[[user_id, callback_data], ...]``) gives each user a question
message and, from ``--press-at`` (Unix time) on, presses it at ``--press-rate`` per second:
the clients of the answer benchmark, pressing from outside the bot's process. For each press
the stats give ``[user_id, press time, time its answerCallbackQuery arrived or null]`` (the
toast the client sees), both on this machine's wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sandbox.flood import FloodLimits, is_counted
from bot.sandbox.server import FakeBotApi
from bot.sandbox.state import CallbackQueryRecord


def summarize(fake: FakeBotApi, *, watch_from: int | None = None) -> dict[str, object]:
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
    # Accepted sends to the watched chats (from ``watch_from`` on): chat id and arrival time.
    watched = (
        []
        if watch_from is None
        else [
            [int(c.params.get("chat_id", 0)), c.timestamp]
            for c in calls
            if is_counted(c.method)
            and c.status == 200
            and int(c.params.get("chat_id", 0)) >= watch_from
        ]
    )
    return {
        "calls": dict(by),
        "watched": watched,
        "accepted_sends": len(sent),
        "too_many_requests": sum(1 for c in calls if c.status == 429),
        "first_send": sent[0] if sent else None,
        "last_send": sent[-1] if sent else None,
        "busiest_second": busiest,
    }


async def press_on_schedule(
    fake: FakeBotApi,
    plan: list[list[Any]],
    *,
    rate: float,
    start: float,
    times: list[float],
    queries: list[CallbackQueryRecord],
) -> None:
    """Press each planned button at its slot; record when each press was made."""
    questions = {
        int(user): fake.world.add_message(int(user), from_bot=True, text="How likely...")
        for user, _data in plan
    }
    loop = asyncio.get_running_loop()
    begin = loop.time() + max(0.0, start - time.time())
    for index, (user, data) in enumerate(plan):
        delay = begin + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        times.append(time.time())
        queries.append(fake.world.press(int(user), questions[int(user)], str(data)))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first-user", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=0)
    parser.add_argument("--group", type=int, action="append", default=[])
    parser.add_argument("--no-flood-limits", action="store_true")
    parser.add_argument("--global-per-second", type=int, default=30)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--press-plan", default=None, help="JSON [[user_id, data], ...]")
    parser.add_argument("--press-rate", type=float, default=200.0)
    parser.add_argument("--press-at", type=float, default=0.0, help="Unix time of the first")
    parser.add_argument(
        "--watch-from", type=int, default=None, help="report each accepted send to chats >= this"
    )
    parser.add_argument("--watch-users", type=int, default=0, help="users from --watch-from on")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    limits = FloodLimits(global_per_second=args.global_per_second, enabled=not args.no_flood_limits)
    fake = FakeBotApi(limits=limits)
    for user in range(args.first_user, args.first_user + args.users):
        fake.world.add_user(user, f"Client {user}", language_code="en")
    for user in range(args.watch_from or 0, (args.watch_from or 0) + args.watch_users):
        fake.world.add_user(user, f"Client {user}", language_code="en")
    for group in args.group:
        fake.add_group(group)
    await fake.start()
    press_times: list[float] = []
    queries: list[CallbackQueryRecord] = []
    pressing = None
    if args.press_plan:
        plan = json.loads(Path(args.press_plan).read_text())  # noqa: ASYNC240  (before serving)
        pressing = asyncio.create_task(
            press_on_schedule(
                fake,
                plan,
                rate=args.press_rate,
                start=args.press_at,
                times=press_times,
                queries=queries,
            )
        )
    print(f"READY {fake.base_url} {fake.token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    if pressing is not None:
        pressing.cancel()
    await fake.stop()
    presses = [
        [query.user_id, pressed, query.answered_at]
        for query, pressed in zip(queries, press_times, strict=True)
    ]
    stats = {
        **summarize(fake, watch_from=args.watch_from),
        "press_times": press_times,
        "presses": presses,
    }
    print("STATS " + json.dumps(stats), flush=True)


if __name__ == "__main__":
    asyncio.run(main())

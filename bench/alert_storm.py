"""How late a new detractor alert reaches the managers' group while one client changes their
score as often as they can.

The real ``NpsBot`` (polling, outbox, flood limits on: 20 messages a minute per group) runs
against the in-process fake Bot API (its flood limits on too), on a fresh SQLite database. One
client scores 3 and then presses another score ``--press-every`` seconds after the last press
was answered (as fast as a thumb), for ``--seconds``; meanwhile another client scores 2 every
``--every`` seconds, and we time each of their alerts from the press until it is in the group.
With ``--before REF`` the same runs against the code of that git revision (a temporary
worktree), alternating A/B/A/B, in one run.

    python bench/alert_storm.py --seconds 30 --every 6 --repeat 2 --before d0a6f8a --write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_before_arguments, alternate, loadavg, percentile, report, table

MANAGERS = -1001234567890
GIVE_UP = 120.0  # seconds: an alert not in the group by then is counted as late


async def storm(  # noqa: PLR0915  (one scenario, read top to bottom)
    seconds: float, every: float, press_every: float, database: Path
) -> dict[str, object]:
    """The scenario, against whichever npsbot is first on sys.path."""
    from datetime import UTC, datetime

    import httpx

    from bot.app import NpsBot
    from bot.config import Settings
    from bot.sandbox.server import FakeBotApi

    calm_clients = int(seconds // every)
    async with FakeBotApi() as fake:
        fake.add_group(MANAGERS, "NPS alerts")
        settings = Settings(
            telegram_token=fake.token,  # type: ignore[arg-type]
            telegram_api_url=fake.base_url,
            database_url=f"sqlite+aiosqlite:///{database}",
            manager_chat_id=MANAGERS,
            api_token="bench-token",  # type: ignore[arg-type]
            http_port=0,
            sweep_interval_seconds=0.2,
            survey_delay_minutes=0,
            _env_file=None,  # type: ignore[call-arg]
        )
        bot = NpsBot(settings)
        await bot.start()
        http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{bot.http_port}",
            headers={"Authorization": "Bearer bench-token"},
        )
        try:
            users = [7000 + n for n in range(calm_clients + 1)]
            clients = [fake.client(user, f"Client {user}") for user in users]
            for user in users:
                body = {
                    "ticket_id": f"T-{user}",
                    "closed_at": datetime.now(UTC).isoformat(),
                    "customer": {"id": f"c-{user}", "telegram_user_id": user},
                }
                (await http.post("/api/v1/tickets/closed", json=body)).raise_for_status()
            questions = [
                await client.wait_for_bot_message(lambda m: "recommend" in m.content, timeout=120)
                for client in clients
            ]
            stormy, question = clients[0], questions[0]
            await stormy.press(question, question.callback_data("3"))
            alert = await fake.wait_for(lambda m: "3/10" in m.content, chat_id=MANAGERS)
            stop = asyncio.Event()
            presses = 0

            async def keep_changing() -> None:
                nonlocal presses
                while not stop.is_set():
                    score = 4 + presses % 3
                    query = await stormy.press(question, question.callback_data(str(score)))
                    await fake.wait_for_callback_answer(query, timeout=60)
                    presses += 1
                    await asyncio.sleep(press_every)  # a person's thumb, not a script's

            changing = asyncio.create_task(keep_changing())
            latencies: list[float] = []
            late = 0
            for client, calm in zip(clients[1:], questions[1:], strict=True):
                await asyncio.sleep(every)
                ticket = f"T-{client.user_id}"
                started = time.monotonic()
                await client.press(calm, calm.callback_data("2"))
                try:
                    await fake.wait_for(
                        lambda m, t=ticket: t in m.content and "2/10" in m.content,
                        chat_id=MANAGERS,
                        timeout=GIVE_UP,
                    )
                except TimeoutError:
                    late += 1
                else:
                    latencies.append(time.monotonic() - started)
            stop.set()
            await changing
            edits = sum(
                1
                for call in fake.calls_of("editMessageText")
                if call.params.get("chat_id") == MANAGERS
                and call.params.get("message_id") == alert.message_id
            )
        finally:
            await http.aclose()
            await bot.stop()
    return {"latencies": latencies, "late": late, "presses": presses, "edits": edits}


def child(seconds: str, every: str, press_every: str) -> None:
    """Run in a subprocess whose sys.path starts with the code under test."""
    import logging

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "npsbot.db"
        result = asyncio.run(storm(float(seconds), float(every), float(press_every), database))
    print(json.dumps(result))


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=6.0)
    parser.add_argument("--press-every", type=float, default=0.5)
    add_before_arguments(parser)
    args = parser.parse_args()

    rows = []
    runs = alternate(
        args.before,
        args.repeat,
        "alert_storm",
        str(args.seconds),
        str(args.every),
        str(args.press_every),
    )
    for run, name, result in runs:
        latencies = [float(x) for x in result["latencies"]]
        late = int(result["late"])
        rows.append(
            (
                run,
                name,
                len(latencies) + late,
                _seconds(statistics.median(latencies) if latencies else None),
                _seconds(percentile(latencies, 90) if latencies else None),
                _seconds(max(latencies) if latencies else None),
                late,
                result["presses"],
                result["edits"],
            )
        )
    body = (
        f"One client changes their score {args.press_every:g} s after each press is answered, "
        f"for {args.seconds:g} s; another client's new detractor alert every {args.every:g} s is "
        f"timed from the press until it is in the managers' group (flood limits on: 20 a "
        f"minute per group). Latencies are of the alerts that arrived; the storm goes on until the "
        f"last alert arrived or was given up, so a slower code sees more score changes. SQLite; "
        f"runs alternate.\n\n"
        + table(
            [
                "run",
                "code",
                "new alerts",
                "latency median s",
                "p90 s",
                "max s",
                f"not there after {GIVE_UP:g} s",
                "score changes",
                "edits of the storm's alert sent",
            ],
            rows,
        )
        + f"\n\nLoad average after: {loadavg()}."
    )
    report("alert-storm", "New alerts during a score-change storm", body, write=args.write)


if __name__ == "__main__":
    main()

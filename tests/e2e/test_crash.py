"""``kill -9`` in the middle of a big dispatch: after a restart every survey arrives, and only
messages that were in flight at the kill may arrive twice (the documented crash window)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.tickets import CustomerInfo, TicketClosed
from bot.sandbox.flood import FloodLimits
from bot.sandbox.server import FakeBotApi
from storage import tickets
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from tests.e2e.conftest import on_both_databases
from tests.e2e.test_process import ROOT, wait_healthy

# Three sweep batches of 500 (500, 500, 200) and a kill in the second: what 2,500 showed, in
# half the time (each survey is one send and one commit, one at a time, in another process).
SURVEYS = 1200
KILL_AT = 650  # not a multiple of the sweep's batch of 500: the dispatcher is busy then
FIRST = 700_000


async def seed(database_url: str) -> None:
    """Closed tickets, each for its own Telegram user, all due now."""
    engine = make_engine(database_url)
    await upgrade_to_head(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    closings = [
        tickets.Closing(
            TicketClosed(
                ticket_id=f"K-{n}",
                closed_at=now,
                customer=CustomerInfo(helpdesk_id=f"k-{n}", telegram_user_id=FIRST + n),
            ),
            due_at=now,
        )
        for n in range(SURVEYS)
    ]
    for start in range(0, SURVEYS, 500):  # as the intake writes a burst of webhooks
        async with sessions() as session:
            await tickets.record_closings(session, closings[start : start + 500], now=now)
    await engine.dispose()


async def start_bot(
    fake: FakeBotApi, database_url: str, port: int, workdir: Path
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NPSBOT_TELEGRAM_TOKEN": fake.token,
        "NPSBOT_TELEGRAM_API_URL": fake.base_url,
        "NPSBOT_DATABASE_URL": database_url,
        "NPSBOT_HTTP_PORT": str(port),
        "NPSBOT_SWEEP_INTERVAL_SECONDS": "0.2",
        "NPSBOT_SURVEY_DELAY_MINUTES": "0",
        "NPSBOT_GLOBAL_RATE_PER_SECOND": "5000",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await wait_healthy(f"http://127.0.0.1:{port}", process)
    return process


def questions(fake: FakeBotApi) -> Counter[int]:
    return Counter(
        int(call.params["chat_id"])
        for call in fake.calls_of("sendMessage")
        if call.status == 200 and FIRST <= int(call.params.get("chat_id", 0)) < FIRST + SURVEYS
    )


@on_both_databases  # claims a killed process left behind, on both databases
@pytest.mark.timeout(300)  # two process starts and 1,200 sends; slow on a loaded CI machine
async def test_sigkill_during_dispatch_loses_nothing(
    database_url: str, tmp_path: Path, unused_tcp_port: int
) -> None:
    await seed(database_url)
    async with FakeBotApi(limits=FloodLimits(enabled=False)) as fake:
        for n in range(SURVEYS):
            fake.client(FIRST + n, f"K{n}")
        process = await start_bot(fake, database_url, unused_tcp_port, tmp_path)
        try:
            while sum(questions(fake).values()) < KILL_AT:
                assert process.returncode is None
                await asyncio.sleep(0.01)
            process.send_signal(signal.SIGKILL)  # no shutdown, no cleanup: a power cut
            await process.wait()
            delivered_before = sum(questions(fake).values())
            assert delivered_before < SURVEYS  # the kill really landed mid-dispatch

            process = await start_bot(fake, database_url, unused_tcp_port, tmp_path)
            for _ in range(1200):
                if len(questions(fake)) == SURVEYS:
                    break
                await asyncio.sleep(0.1)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=30)

    received = questions(fake)
    assert len(received) == SURVEYS  # every survey arrived
    twice = [chat for chat, count in received.items() if count > 1]
    assert all(count <= 2 for count in received.values())
    # Calls go out one at a time, each recorded before the next: only the one in flight at
    # the kill can go twice.
    assert len(twice) <= 1, twice

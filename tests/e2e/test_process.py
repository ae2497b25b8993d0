"""``npsbot run`` as a real process: starts on SQLite from the environment, serves the intake,
sends surveys to Telegram (the fake), and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from bot.cli_commands import post_digest
from bot.config import Settings
from bot.sandbox.server import FakeBotApi
from tests.e2e.conftest import API_TOKEN, MANAGERS, ticket

ROOT = Path(__file__).resolve().parents[2]


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError(f"npsbot exited early with {process.returncode}")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("npsbot did not become healthy")


async def test_npsbot_run_process_sends_a_survey_and_stops_on_sigterm(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    async with FakeBotApi() as fake:
        client = fake.client(9001, "Olga")
        env = {
            **os.environ,
            "NPSBOT_TELEGRAM_TOKEN": fake.token,
            "NPSBOT_TELEGRAM_API_URL": fake.base_url,
            "NPSBOT_API_TOKEN": API_TOKEN,
            "NPSBOT_HTTP_PORT": str(unused_tcp_port),
            "NPSBOT_SWEEP_INTERVAL_SECONDS": "0.5",
            "NPSBOT_SURVEY_DELAY_MINUTES": "0",
        }
        env["PYTHONPATH"] = str(ROOT)
        env.pop("NPSBOT_DATABASE_URL", None)  # the default: SQLite in the working directory
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{unused_tcp_port}"
            await wait_healthy(url, process)
            async with httpx.AsyncClient(base_url=url) as http:
                response = await http.post(
                    "/api/v1/tickets/closed",
                    json=ticket("T-P1", {"id": "c-p1", "telegram_user_id": 9001}),
                    headers={"Authorization": f"Bearer {API_TOKEN}"},
                )
            assert response.status_code == 202
            await client.wait_for_bot_message(lambda m: "T-P1" in m.content)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, stderr.decode()
        assert (tmp_path / "npsbot.db").is_file()
        log = stderr.decode()
        assert "npsbot stopped" in log
        assert "Traceback" not in log
        assert fake.token not in log  # the token is part of every Bot API URL: never log it


async def test_digest_now_posts_once_from_the_shell(tmp_path: Path) -> None:
    async with FakeBotApi() as fake:
        fake.add_group(MANAGERS)
        settings = Settings(
            telegram_token=fake.token,  # type: ignore[arg-type]
            telegram_api_url=fake.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}",
            manager_chat_id=MANAGERS,
            _env_file=None,  # type: ignore[call-arg]
        )
        assert await post_digest(settings) == "digest posted"
        assert await post_digest(settings) == "this period's digest was already posted to this chat"
        digests = [m for m in fake.bot_messages(MANAGERS) if "NPS digest" in m.content]
        assert len(digests) == 1
        assert "No answers in this period" in digests[0].content

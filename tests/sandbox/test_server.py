"""Lifecycle, the ``/sandbox`` control routes and the standalone entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.sandbox import FakeBotApi

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_url_is_only_known_while_running() -> None:
    fake = FakeBotApi(token="42:ABC")
    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.url
    await fake.start()
    try:
        assert fake.url.startswith("http://127.0.0.1:")
        assert fake.base_url == f"{fake.url}/bot"
        with pytest.raises(RuntimeError, match="already started"):
            await fake.start()
    finally:
        await fake.stop()
    await fake.stop()  # idempotent


async def test_fake_can_be_restarted_and_keeps_its_world() -> None:
    fake = FakeBotApi()
    client = fake.client(42)
    await fake.start()
    await fake.stop()
    await client.send_text("still here")
    async with fake, httpx.AsyncClient() as http:
        answer = await http.get(f"{fake.base_url}{fake.token}/getUpdates", params={"timeout": 5})
    assert [u["message"]["text"] for u in answer.json()["result"]] == ["still here"]


async def test_busy_port_raises_instead_of_exiting(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeBotApi() as running:
        port = int(running.url.rsplit(":", 1)[1])
        with pytest.raises(RuntimeError, match="failed to start"):
            await FakeBotApi().start(port=port)
    assert "address already in use" in caplog.text


async def test_two_fakes_run_side_by_side() -> None:
    async with FakeBotApi() as first, FakeBotApi(bot_username="other_bot") as second:
        assert first.url != second.url
        async with httpx.AsyncClient() as http:
            me = await http.get(f"{second.base_url}{second.token}/getMe")
        assert me.json()["result"]["username"] == "other_bot"


async def test_control_routes_play_the_user(fake: FakeBotApi) -> None:
    async with httpx.AsyncClient(base_url=fake.url) as http:
        written = await http.post("/sandbox/chats/42/messages", json={"text": "/start"})
        assert written.status_code == 200
        assert written.json()["text"] == "/start"
        sent = await http.post(
            f"/bot{fake.token}/sendMessage",
            data={
                "chat_id": "42",
                "text": "Rate us",
                "reply_markup": '{"inline_keyboard": [[{"text": "9", "callback_data": "n:9"}]]}',
            },
        )
        message_id = sent.json()["result"]["message_id"]
        pressed = await http.post(
            f"/sandbox/chats/42/messages/{message_id}/press", json={"button": "9"}
        )
        listed = await http.get("/sandbox/chats/42/messages")
        calls = await http.get("/sandbox/calls")
        missing = await http.post("/sandbox/chats/42/messages/999/press", json={"data": "x"})
    query_id = pressed.json()["callback_query_id"]
    assert fake.world.callback_queries[query_id].data == "n:9"
    assert [m["text"] for m in listed.json()] == ["/start", "Rate us"]
    assert [c["method"] for c in calls.json()] == ["sendMessage"]
    assert missing.status_code == 404
    assert [u.get("callback_query", {}).get("data") for u in fake.pending_updates()] == [
        None,
        "n:9",
    ]


def test_module_runs_standalone_and_prints_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox", "--port", "0", "--token", "9:XYZ"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.startswith("Fake Telegram Bot API listening on http://127.0.0.1:")
        url = first_line.rsplit(" ", 1)[-1].strip()
        me = httpx.get(f"{url}/bot9:XYZ/getMe", timeout=5)
        assert me.json()["result"]["is_bot"] is True
        process.terminate()
        assert process.wait(timeout=5) == 0, "SIGTERM stops the fake cleanly"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

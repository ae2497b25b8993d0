"""/readyz: the database answers a SELECT 1 in time, and Telegram is reachable without a getMe
per probe; 503 names what is not ready."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import InvalidToken, NetworkError, RetryAfter

from bot.observability.metrics import Metrics
from bot.observability.readiness import DatabaseCheck, Readiness, TelegramCheck
from bot.observability.routes import ops_router
from bot.observability.telegram import TelegramWatch
from storage.db import make_engine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class GetMe:
    """A stand-in for ``bot.get_me`` that counts its calls and fails or hangs on demand."""

    def __init__(self, watch: TelegramWatch) -> None:
        self.watch = watch
        self.calls = 0
        self.error: Exception | None = None
        self.release: asyncio.Event | None = None  # set: the call hangs until it is released

    async def __call__(self) -> object:
        self.calls += 1
        if self.release is not None:
            await self.release.wait()
        if self.error is not None:
            if isinstance(self.error, NetworkError):
                self.watch.answered(502, b"")  # what the transport reports for a 502
            raise self.error
        self.watch.answered(200, b"{}")
        return object()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watch(clock: Clock) -> TelegramWatch:
    watch = Metrics().telegram
    watch.clock = clock
    return watch


def check_of(
    watch: TelegramWatch, clock: Clock, probe: Callable[[], Awaitable[object]]
) -> TelegramCheck:
    return TelegramCheck(watch, probe, fresh_for=30, probe_every=15, wait=1, clock=clock)


async def test_recent_calls_answer_without_a_getme(watch: TelegramWatch, clock: Clock) -> None:
    get_me = GetMe(watch)
    check = check_of(watch, clock, get_me)
    watch.answered(200, b"{}")  # a send or a getUpdates the process made anyway
    for _ in range(50):
        assert await check() is None
    assert get_me.calls == 0


async def test_an_idle_process_asks_getme_at_most_once_per_interval(
    watch: TelegramWatch, clock: Clock
) -> None:
    get_me = GetMe(watch)
    check = check_of(watch, clock, get_me)
    results = await asyncio.gather(*(check() for _ in range(20)))  # probes arriving together
    assert results == [None] * 20 and get_me.calls == 1
    clock.now += 29  # the getMe's own answer is fresh
    assert await check() is None and get_me.calls == 1
    clock.now += 2
    assert await check() is None and get_me.calls == 2


async def test_telegram_unreachable_is_named_and_rechecked_later(
    watch: TelegramWatch, clock: Clock
) -> None:
    get_me = GetMe(watch)
    get_me.error = NetworkError("Bad Gateway")
    check = check_of(watch, clock, get_me)
    assert await check() == "unreachable (server_error)"
    clock.now += 10
    assert await check() == "unreachable (server_error)"  # the cached answer: no new getMe
    assert get_me.calls == 1
    get_me.error = None
    clock.now += 5
    assert await check() is None and get_me.calls == 2


async def test_a_rejected_token_and_a_flood_limit(watch: TelegramWatch, clock: Clock) -> None:
    get_me = GetMe(watch)
    get_me.error = InvalidToken("Unauthorized")
    assert await check_of(watch, clock, get_me)() == "the bot token was rejected"
    get_me.error = RetryAfter(3)  # Telegram is there; it only asks us to slow down
    assert await check_of(watch, clock, get_me)() is None


async def test_a_slow_getme_does_not_hold_the_probe(watch: TelegramWatch, clock: Clock) -> None:
    get_me = GetMe(watch)
    get_me.release = asyncio.Event()
    check = TelegramCheck(watch, get_me, fresh_for=30, probe_every=15, wait=0.05, clock=clock)
    assert await check() == "no answer to getMe within 0.05 s"
    assert await check() == "no answer to getMe within 0.05 s"
    assert get_me.calls == 1  # the one getMe is still out; no second
    get_me.release.set()
    await check.aclose()
    assert await check() is None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def down_engine() -> AsyncIterator[AsyncEngine]:
    """A PostgreSQL server that is not there: the connection is refused."""
    engine = make_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{closed_port()}/none")
    yield engine
    await engine.dispose()


async def test_the_database_check(engine: AsyncEngine, down_engine: AsyncEngine) -> None:
    assert await DatabaseCheck(engine)() is None
    assert await DatabaseCheck(down_engine)() == "unavailable (ConnectionRefusedError)"


async def test_a_database_that_does_not_answer_times_out() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accepts the connection, never says a word

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = make_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    try:
        assert await DatabaseCheck(engine, timeout=0.2)() == "no answer within 0.2 s"
    finally:
        await engine.dispose()
        for writer in connections:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()


async def readyz(database: AsyncEngine, telegram: TelegramCheck) -> httpx.Response:
    app = FastAPI()
    checks = {"database": DatabaseCheck(database), "telegram": telegram}
    app.include_router(ops_router(Readiness(checks), Metrics(), metrics_token=None))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        return await http.get("/readyz")


async def test_readyz_200_when_both_are_fine(
    engine: AsyncEngine, watch: TelegramWatch, clock: Clock
) -> None:
    response = await readyz(engine, check_of(watch, clock, GetMe(watch)))
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "telegram": "ok"}}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_503_names_the_database(
    down_engine: AsyncEngine, watch: TelegramWatch, clock: Clock
) -> None:
    response = await readyz(down_engine, check_of(watch, clock, GetMe(watch)))
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "unavailable (ConnectionRefusedError)", "telegram": "ok"},
    }


async def test_readyz_503_names_telegram(
    engine: AsyncEngine, watch: TelegramWatch, clock: Clock
) -> None:
    get_me = GetMe(watch)
    get_me.error = NetworkError("Bad Gateway")
    response = await readyz(engine, check_of(watch, clock, get_me))
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "telegram": "unreachable (server_error)"},
    }

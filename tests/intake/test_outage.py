"""A database outage at the intake: every endpoint answers 503 with Retry-After, stores nothing,
logs no personal data, and works again by itself once the database is back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.intake.adapters import build_adapters
from bot.intake.http import create_http_app
from bot.intake.outage import RETRY_AFTER_SECONDS
from bot.intake.service import TicketIntake
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade_to_head
from tests.conftest import POSTGRES_URL
from tests.intake.cases import CASES, NOW, SKEW, encode
from tests.intake.conftest import API_TOKEN, intake_for, settings, stored

BEARER = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
SECRET_NAME = "Anna Karenina-Secretname"
TICKET = {
    "ticket_id": "T-503",
    "closed_at": "2026-11-18T09:45:00Z",
    "customer": {"id": "c-503", "name": SECRET_NAME, "phone": "+79001234567"},
}


def requests() -> list[tuple[str, bytes, dict[str, str]]]:
    """One request that needs the database for every intake and webhook endpoint."""
    made = [
        ("/api/v1/tickets/closed", json.dumps(TICKET).encode(), BEARER),
        ("/api/v1/tickets/reopened", b'{"ticket_id": "T-503"}', BEARER),
        ("/api/v1/customers/connect-link", json.dumps(TICKET["customer"]).encode(), BEARER),
    ]
    for case in CASES:
        body = encode(case.body())
        made.append((f"/api/v1/webhooks/{case.name}", body, case.headers(body)))
        reopen = encode(case.body(case.reopen))
        made.append((f"/api/v1/webhooks/{case.name}", reopen, case.headers(reopen)))
    return made


@contextlib.asynccontextmanager
async def http_for(intake: TicketIntake) -> AsyncIterator[httpx.AsyncClient]:
    """The whole app over ``intake``; an unhandled error is a 500 answer, as under uvicorn."""
    app = create_http_app(
        intake,
        api_token=API_TOKEN,
        adapters=build_adapters(settings(), clock=lambda: NOW),
        webhook_max_skew=SKEW,
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://npsbot.test") as http:
        yield http


async def post_all(http: httpx.AsyncClient) -> list[httpx.Response]:
    sent = requests()
    answers = [await http.post(path, content=body, headers=h) for path, body, h in sent]
    assert len(answers) == 3 + 2 * len(CASES)
    return answers


async def settle_sqlite_threads() -> None:
    """Let aiosqlite's worker threads of failed connections finish while the loop still runs.

    After a failed connect aiosqlite stops its thread without awaiting it; if the test's loop
    closed first, the thread would fail to report back (a warning, here an error).
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 5)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.headers["Content-Type"] == "application/json"
    assert "database is unavailable" in response.json()["error"]


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("postgresql+asyncpg://postgres@127.0.0.1:1/none", id="postgres-refused"),
        pytest.param("sqlite", id="sqlite-missing-directory"),
    ],
)
async def test_unreachable_database_is_503_with_retry_after_everywhere(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if url == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'not-there' / 'npsbot.db'}"
    engine = make_engine(url)
    try:
        async with http_for(intake_for(make_session_factory(engine))) as http:
            with caplog.at_level(logging.INFO):
                answers = await post_all(http)
    finally:
        await engine.dispose()
        await settle_sqlite_threads()
    for answer in answers:
        assert_unavailable(answer)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "answered 503" in logged
    assert SECRET_NAME not in logged and "79001234567" not in logged and "SELECT" not in logged


class Failing:
    """A session factory whose every session fails with ``error``, like a dead driver."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __call__(self) -> Failing:
        return self

    async def __aenter__(self) -> Any:
        raise self.error

    async def __aexit__(self, *_exc: object) -> None:
        return None


def failing(error: BaseException) -> TicketIntake:
    """An intake whose database fails every session with ``error``."""
    return intake_for(Failing(error))  # type: ignore[arg-type]


def dbapi(kind: Callable[..., DBAPIError], *, invalidated: bool = False) -> DBAPIError:
    return kind(
        "SELECT name FROM customer",
        {"name": SECRET_NAME},
        OSError("gone"),
        connection_invalidated=invalidated,
    )


OUTAGES: dict[str, BaseException] = {
    "operational": dbapi(OperationalError),
    "interface": dbapi(InterfaceError),
    "invalidated": dbapi(DBAPIError, invalidated=True),
    "connecting": DBAPIError(None, None, Exception("the database system is starting up")),
    "refused": ConnectionRefusedError(111, "Connect call failed"),
    "reset": ConnectionResetError(),
    "timeout": TimeoutError(),
    "dns": OSError(-2, "Name or service not known"),
    "pool": PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached"),
}


@pytest.mark.parametrize("error", list(OUTAGES.values()), ids=list(OUTAGES))
async def test_every_kind_of_outage_is_503(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    async with http_for(failing(error)) as http:
        with caplog.at_level(logging.WARNING):
            answer = await http.post("/api/v1/tickets/closed", json=TICKET, headers=BEARER)
    assert_unavailable(answer)
    assert [record.getMessage() for record in caplog.records] == [
        f"database unavailable ({type(error).__name__}) at /api/v1/tickets/closed: answered 503"
    ]


async def test_a_bug_is_still_a_500_not_a_retry() -> None:
    bug = IntegrityError("INSERT INTO survey ...", {}, Exception("UNIQUE constraint failed"))
    async with http_for(failing(bug)) as http:
        answer = await http.post("/api/v1/tickets/closed", json=TICKET, headers=BEARER)
    assert answer.status_code == 500 and "Retry-After" not in answer.headers


async def test_an_ignored_webhook_needs_no_database() -> None:
    case = CASES[0]
    body = encode(case.body(case.ignore))
    async with http_for(failing(TimeoutError())) as http:
        answer = await http.post(
            f"/api/v1/webhooks/{case.name}", content=body, headers=case.headers(body)
        )
    assert answer.status_code == 202 and "ignored" in answer.json()


async def test_openapi_documents_the_503_and_its_retry_after() -> None:
    async with http_for(failing(TimeoutError())) as http:
        schema = (await http.get("/openapi.json")).json()
    for path, item in schema["paths"].items():
        if path.startswith("/api/"):
            answer = item["post"]["responses"]["503"]
            assert "Retry-After" in answer["headers"], path


async def test_sqlite_recovers_by_itself_once_the_database_is_there(tmp_path: Path) -> None:
    folder = tmp_path / "mounted-later"
    engine = make_engine(f"sqlite+aiosqlite:///{folder / 'npsbot.db'}")
    sessions = make_session_factory(engine)
    try:
        async with http_for(intake_for(sessions)) as http:
            for answer in await post_all(http):
                assert_unavailable(answer)
            folder.mkdir()
            await upgrade_to_head(engine)
            answers = await post_all(http)
        assert {answer.status_code for answer in answers} == {200, 202}, answers[0].text
        assert await stored(sessions) == (1 + len(CASES),) * 3
    finally:
        await engine.dispose()
        await settle_sqlite_threads()


class Plug:
    """A TCP proxy in front of PostgreSQL that can be pulled (every connection cut, new ones
    refused) and put back on the same port: a database restart as the pool sees it."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()

    async def insert(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def pull(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.open):
            writer.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.open |= {writer, upstream}
        try:
            await asyncio.gather(self._pipe(reader, upstream), self._pipe(upstream_reader, writer))
        finally:
            self.open -= {writer, upstream}
            writer.transport.abort()
            upstream.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()


@pytest.mark.skipif(not POSTGRES_URL, reason="NPSBOT_TEST_DATABASE_URL is not set")
async def test_postgres_restart_is_503_then_recovers_by_itself(
    engine: AsyncEngine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL restart")
    real = make_url(database_url)
    plug = Plug(real.host or "127.0.0.1", real.port or 5432)
    await plug.insert()
    proxied = make_engine(real.set(host="127.0.0.1", port=plug.port).render_as_string(False))
    sessions = make_session_factory(proxied)
    try:
        async with http_for(intake_for(sessions)) as http:
            first = await http.post("/api/v1/tickets/closed", json=TICKET, headers=BEARER)
            assert first.status_code == 202, first.text  # the pool now holds a live connection
            await plug.pull()
            for answer in await post_all(http):
                assert_unavailable(answer)
            await plug.insert()
            answers = await post_all(http)
        assert {answer.status_code for answer in answers} == {200, 202}, answers[0].text
        assert answers[0].json()["survey_id"] == first.json()["survey_id"]
        # the outage wrote nothing: one closing per helpdesk after it, plus the first one
        assert await stored(make_session_factory(engine)) == (1 + len(CASES),) * 3
    finally:
        await proxied.dispose()
        if plug.server is not None:
            await plug.pull()


@pytest.mark.skipif(not POSTGRES_URL, reason="NPSBOT_TEST_DATABASE_URL is not set")
async def test_a_connection_lost_while_idle_is_replaced_before_it_is_used(
    engine: AsyncEngine, database_url: str
) -> None:
    """PostgreSQL restarted while the pool sat idle: the next request is served, not a 503.

    Connections are no longer pinged at every checkout (three round trips per transaction);
    one idle for ``ping_after_idle`` is, and a lost one is replaced before the request uses it.
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL restart")
    real = make_url(database_url)
    plug = Plug(real.host or "127.0.0.1", real.port or 5432)
    await plug.insert()
    proxied = make_engine(
        real.set(host="127.0.0.1", port=plug.port).render_as_string(False), ping_after_idle=0.2
    )
    try:
        async with http_for(intake_for(make_session_factory(proxied))) as http:
            first = await http.post("/api/v1/tickets/closed", json=TICKET, headers=BEARER)
            assert first.status_code == 202, first.text  # the pool now holds a live connection
            await plug.pull()  # the restart, while no request runs
            await plug.insert()
            await asyncio.sleep(0.3)
            again = await http.post("/api/v1/tickets/closed", json=TICKET, headers=BEARER)
        assert again.status_code in (200, 202), again.text
        assert again.json()["survey_id"] == first.json()["survey_id"]
    finally:
        await proxied.dispose()
        if plug.server is not None:
            await plug.pull()

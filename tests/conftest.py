"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when CI provides one.

Under pytest-xdist each worker gets a PostgreSQL database of its own (``<base>_gw0``, ...), made
next to the one NPSBOT_TEST_DATABASE_URL names: the fixtures reset the whole schema per test, so
two workers on one database would drop each other's tables.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")  # as bot.app does: PTB 23 durations
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import SessionFactory, make_engine, make_session_factory
from storage.migrate import upgrade_to_head

# Hypothesis' default 200 ms deadline per example measures the machine, not the code: with
# xdist workers sharing CI's two cores an example that takes 70 ms alone took 286 ms. A real
# hang still fails, through pytest-timeout.
settings.register_profile("npsbot", deadline=None)
settings.load_profile("npsbot")


def worker_database_url(base: str | None, worker: str | None) -> str | None:
    """The database this test process uses: the base one, or ``<base>_<worker>`` under xdist."""
    if not base or not worker:
        return base
    url = make_url(base)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


BASE_POSTGRES_URL = os.environ.get("NPSBOT_TEST_DATABASE_URL")
POSTGRES_URL = worker_database_url(BASE_POSTGRES_URL, os.environ.get("PYTEST_XDIST_WORKER"))
_created: set[str] = set()
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="NPSBOT_TEST_DATABASE_URL is not set"),
    ),
]


async def create_database_once(url: str) -> None:
    """Create the worker's database from the base one the first time this process needs it."""
    if url in _created or url == BASE_POSTGRES_URL or BASE_POSTGRES_URL is None:
        return
    name = make_url(url).database
    server = create_async_engine(BASE_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await server.dispose()
    _created.add(url)


async def reset_postgres(url: str) -> None:
    """Start each PostgreSQL test from an empty schema, as a fresh SQLite file would."""
    await create_database_once(url)
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def empty_database(backend: str, tmp_path: Path) -> str:
    """An empty database of ``backend`` ("sqlite" or "postgresql"), as a URL."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}"
    assert POSTGRES_URL is not None
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend, as a URL."""
    return await empty_database(request.param, tmp_path)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database."""
    engine = make_engine(database_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    """Sessions on the migrated database."""
    return make_session_factory(engine)

"""Shared fixtures: every database test runs on SQLite, and on PostgreSQL when CI provides one."""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")  # as bot.app does: PTB 23 durations
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import SessionFactory, make_engine, make_session_factory
from storage.migrate import upgrade_to_head

POSTGRES_URL = os.environ.get("NPSBOT_TEST_DATABASE_URL")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="NPSBOT_TEST_DATABASE_URL is not set"),
    ),
]


async def reset_postgres(url: str) -> None:
    """Start each PostgreSQL test from an empty schema, as a fresh SQLite file would."""
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend, as a URL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}"
    assert POSTGRES_URL is not None
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


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

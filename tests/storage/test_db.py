"""The engine's pool: sized to what runs at once, pinging only connections left idle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from bot.config import Settings
from storage.db import POOL_SIZE, Database, make_engine

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"  # an engine connects only on use


async def test_a_server_database_gets_the_sized_pool_without_overflow() -> None:
    engine = make_engine(UNREACHABLE)
    try:
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.size() == POOL_SIZE
        assert engine.pool._max_overflow == 0  # an overflow connection is closed on its return
    finally:
        await engine.dispose()
    async with Database.open(UNREACHABLE, pool_size=7, max_overflow=3) as database:
        pool = database.engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow) == (7, 3)


def test_the_pool_size_is_a_setting_with_the_storage_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).database_pool_size == POOL_SIZE  # type: ignore[call-arg]
    monkeypatch.setenv("NPSBOT_DATABASE_POOL_SIZE", "40")
    monkeypatch.setenv("NPSBOT_DATABASE_MAX_OVERFLOW", "5")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.database_pool_size, settings.database_max_overflow) == (40, 5)


def test_a_pool_of_one_connection_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The polling lock holds one connection all the time: one alone would leave handlers none."""
    monkeypatch.setenv("NPSBOT_DATABASE_POOL_SIZE", "1")
    with pytest.raises(ValidationError, match="database_pool_size"):
        Settings(_env_file=None)  # type: ignore[call-arg]


async def test_sqlite_keeps_its_own_pool(tmp_path: Path) -> None:
    async with Database.open(f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}") as database:
        assert database.engine.pool.size() != POOL_SIZE  # SQLAlchemy's choice for SQLite


async def test_a_connection_is_pinged_only_after_it_sat_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pool_pre_ping cost a BEGIN, a ';' and a ROLLBACK before every transaction."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}", ping_after_idle=0.2)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return bool(real_ping(dbapi_connection))  # type: ignore[arg-type]

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        for _ in range(5):  # in use all the time: never pinged
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert pings == []
        await asyncio.sleep(0.3)
        async with engine.connect() as connection:  # idle for longer: pinged first
            await connection.execute(text("SELECT 1"))
        assert len(pings) == 1
    finally:
        await engine.dispose()

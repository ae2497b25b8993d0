"""Database fixtures for the report tests: SQLite always, PostgreSQL when one is configured."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage.db import make_engine

POSTGRES_URL_ENV = "NPSBOT_TEST_DATABASE_URL"


async def _create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database on SQLite, and on PostgreSQL when NPSBOT_TEST_DATABASE_URL names one.

    Each PostgreSQL test gets a schema of its own, so test sessions sharing the server never drop
    each other's tables.
    """
    if request.param == "sqlite":
        sqlite = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'report.db'}")
        try:
            await _create_tables(sqlite)
            yield sqlite
        finally:
            await sqlite.dispose()
        return

    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    server = make_engine(url)
    schema = f"report_test_{uuid4().hex}"
    try:
        async with server.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        scoped = server.execution_options(schema_translate_map={None: schema})
        await _create_tables(scoped)
        yield scoped
    finally:
        async with server.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await server.dispose()

"""Alembic migrations and the SQLModel tables describe the same schema."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade_to_head


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_upgrading_twice_is_harmless(engine: AsyncEngine) -> None:
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_calls_waiting_at_the_upgrade_get_their_purposes_priority(database_url: str) -> None:
    """Migration 0006: a waiting reply queued before the upgrade still goes before bulk sends."""

    def upgrade(connection: Connection, revision: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade, "0005")
            for chat_id, purpose, status in (
                (1, "survey", "pending"),
                (2, "client", "pending"),
                (3, "client", "sent"),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO outbox (method, chat_id, payload, status, attempts,"
                        " not_before, purpose, created_at) VALUES ('sendMessage', :chat, '{}',"
                        " :status, 0, :now, :purpose, :now)"
                    ),
                    {
                        "chat": chat_id,
                        "status": status,
                        "purpose": purpose,
                        "now": datetime.now(UTC),
                    },
                )
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT chat_id, priority FROM outbox"))
            assert sorted(tuple(row) for row in found) == [(1, 1), (2, 0), (3, 1)]
    finally:
        await engine.dispose()

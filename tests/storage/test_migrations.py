"""Alembic migrations and the SQLModel tables describe the same schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.db import make_engine
from storage.migrate import (
    UnknownRevisionError,
    alembic_config,
    at_head,
    shipped_heads,
    upgrade_to_head,
)


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


def test_the_heads_read_without_alembic_are_alembics_own() -> None:
    """``upgrade_to_head`` skips Alembic when the database is at these: they must be right."""
    scripts = ScriptDirectory.from_config(alembic_config())
    assert shipped_heads() == frozenset(scripts.get_heads())


def _downgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def _version(connection: Connection) -> set[str]:
    return {
        str(row[0]) for row in connection.execute(text("SELECT version_num FROM alembic_version"))
    }


async def test_a_database_behind_the_head_is_still_migrated(engine: AsyncEngine) -> None:
    (head,) = shipped_heads() or ()
    scripts = ScriptDirectory.from_config(alembic_config())
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade_to, previous)
    async with engine.connect() as connection:
        assert await connection.run_sync(_version) == {previous}
        assert not await connection.run_sync(at_head)
    await upgrade_to_head(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_version) == {head}
        assert await connection.run_sync(at_head)
        assert await connection.run_sync(_differences) == []


async def test_a_revision_from_a_newer_npsbot_is_still_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999_newer'"))
    with pytest.raises(UnknownRevisionError, match="9999_newer"):
        await upgrade_to_head(engine)


async def test_calls_waiting_at_the_upgrade_get_their_purposes_priority(database_url: str) -> None:
    """Migration 0007: a waiting reply queued before the upgrade still goes before bulk sends."""

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

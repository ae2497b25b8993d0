"""Alembic environment: runs on the connection npsbot hands it, or on ``sqlalchemy.url``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the caller's connection (npsbot's async engine) or build a sync one from the URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or ""
    sync_url = url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    engine = engine_from_config(
        {"sqlalchemy.url": sync_url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as sync_connection:
        _run(sync_connection)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `npsbot migrate`")
run_migrations_online()

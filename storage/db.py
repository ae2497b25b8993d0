"""The async engine and sessions; SQLite gets the pragmas that make it safe to share."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.migrate import SchemaStatus, require_newest_schema, schema_status, upgrade_to_head

SessionFactory = async_sessionmaker[AsyncSession]


class DatabaseUrlError(ArgumentError):
    """The URL names a database npsbot has no async driver for (``postgresql://`` alone means
    psycopg2, which is not installed and not async); an ``ArgumentError`` so callers that
    already refuse a malformed URL refuse this one too, with a message that says what to use."""


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """WAL lets the bot read while the intake writes; busy_timeout waits instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``)."""
    # hide_parameters: error messages must not carry names, phones or comments into the logs.
    try:
        engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)
    except (ImportError, InvalidRequestError) as error:  # the driver is missing or not async
        scheme = make_url(url).drivername
        raise DatabaseUrlError(
            f"npsbot cannot open {scheme}:// databases ({type(error).__name__}): "
            "use postgresql+asyncpg://... or sqlite+aiosqlite:///..."
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit (no lazy reloads in async code)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@dataclass(frozen=True, slots=True)
class Database:
    """One engine and its sessions: what a command that only reads and writes the database needs.

    The one place the product makes an engine (``Database.open``); as an async context manager it
    disposes the engine on exit, so a one-shot command cannot leave connections behind.
    """

    engine: AsyncEngine
    sessions: SessionFactory

    @classmethod
    def open(cls, url: str) -> Database:
        """An engine for ``url`` and its sessions; nothing connects until first used."""
        engine = make_engine(url)
        return cls(engine, make_session_factory(engine))

    async def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision."""
        await upgrade_to_head(self.engine)

    async def require_newest_schema(self) -> None:
        """Refuse (``OutdatedSchemaError``) a schema that is not the newest; never migrate."""
        await require_newest_schema(self.engine)

    async def schema_status(self) -> SchemaStatus:
        """Where the schema stands, for the doctor; never creates or migrates anything."""
        return await schema_status(self.engine)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.dispose()

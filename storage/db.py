"""The async engine and sessions; SQLite gets the pragmas that make it safe to share.

The PostgreSQL pool is sized to what runs at once (``POOL_SIZE``, ``NPSBOT_DATABASE_POOL_SIZE``),
with no overflow by default: SQLAlchemy's 5 + 10 under 64 concurrent handlers opened and closed
a connection for most answers (190-300 per benchmark run, 6 ms of PostgreSQL's CPU each), since
an overflow connection is closed as soon as it comes back to a full pool. A handler that finds
every connection busy waits its turn (``pool_timeout``), which costs less than a new one.

A pooled connection is pinged only when it has been idle for ``PING_AFTER_IDLE_SECONDS``:
``pool_pre_ping`` pinged every checkout, a BEGIN, a ``;`` and a ROLLBACK (asyncpg), three round
trips per transaction, to catch what only happens to a connection left idle (PostgreSQL
restarted, a proxy or firewall dropped it). A connection that breaks while in use is still an
outage to the caller (``bot.resilience``: a handler is retried, the intake answers 503), and
SQLAlchemy then drops every connection pooled before it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DisconnectionError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.migrate import SchemaStatus, require_newest_schema, schema_status, upgrade_to_head

SessionFactory = async_sessionmaker[AsyncSession]

# Connections the bot's own work uses at once: the poller's handlers (64 people at once, each
# holding a connection only for its transaction), the outbox dispatcher, the jobs, the HTTP
# intake and the polling lock (one, held). Two cores do not run more statements at once than a
# few; PostgreSQL's default max_connections (100) leaves room for a second instance.
POOL_SIZE = 20
PING_AFTER_IDLE_SECONDS = 10.0
_RETURNED_AT = "npsbot_returned_at"


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


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only if it has been idle for ``idle_seconds``.

    A failed ping raises ``DisconnectionError``, on which the pool discards the connection and
    checks out another (a new one if need be), as ``pool_pre_ping`` does.
    """
    dialect = engine.dialect

    def checkin(_dbapi: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(
        dbapi: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        returned = record.info.get(_RETURNED_AT)  # none yet: a connection just opened
        if returned is None or time.monotonic() - returned < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi)
        except Exception as error:
            raise DisconnectionError("an idle pooled connection was lost") from error

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


def make_engine(
    url: str,
    *,
    pool_size: int | None = None,
    max_overflow: int = 0,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    **kwargs: Any,
) -> AsyncEngine:
    """Create the engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    ``pool_size`` (default ``POOL_SIZE``) and ``max_overflow`` size a server database's pool;
    SQLite keeps SQLAlchemy's own pool for it.
    """
    if not make_url(url).drivername.startswith("sqlite"):
        kwargs |= {"pool_size": pool_size or POOL_SIZE, "max_overflow": max_overflow}
    # hide_parameters: error messages must not carry names, phones or comments into the logs.
    try:
        engine = create_async_engine(url, hide_parameters=True, **kwargs)
    except (ImportError, InvalidRequestError) as error:  # the driver is missing or not async
        scheme = make_url(url).drivername
        raise DatabaseUrlError(
            f"npsbot cannot open {scheme}:// databases ({type(error).__name__}): "
            "use postgresql+asyncpg://... or sqlite+aiosqlite:///..."
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    _ping_when_idle(engine, ping_after_idle)
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
    def open(cls, url: str, *, pool_size: int | None = None, max_overflow: int = 0) -> Database:
        """An engine for ``url`` and its sessions; nothing connects until first used."""
        engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
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

"""Locks that let several npsbot processes share one database safely.

- ``PollingLock``: only one process may poll Telegram for a bot (Telegram itself answers a
  second ``getUpdates`` with 409 Conflict). On PostgreSQL it is a session advisory lock held on a
  connection for the process's life; on SQLite an exclusive ``flock`` beside the database file.
  Either is released by the operating system or the server when the process dies, even by
  ``kill -9``.
- ``try_transaction_lock``: a PostgreSQL advisory lock for the length of a transaction, for jobs
  that must run once across instances (the digest); SQLite has one writer anyway.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AlreadyRunningError(RuntimeError):
    """Another process holds the lock; the message says what to do."""


class PollingLock:
    """Held while this process polls Telegram; ``acquire`` fails if another process holds it."""

    def __init__(self, engine: AsyncEngine, name: str = "npsbot:polling") -> None:
        self._engine = engine
        self._key = lock_key(name)
        self._connection: AsyncConnection | None = None
        self._file: IO[bytes] | None = None

    def _sqlite_path(self) -> Path | None:
        database = make_url(str(self._engine.url)).database
        if not database or database == ":memory:":
            return None
        return Path(f"{database}.polling.lock")

    async def acquire(self) -> None:
        """Take the lock or raise ``AlreadyRunningError``."""
        if self._engine.dialect.name == "postgresql":
            connection = await self._engine.connect()
            got = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                )
            ).scalar_one()
            await connection.commit()  # the lock is the session's, not the transaction's
            if not got:
                await connection.close()
                raise AlreadyRunningError(_BUSY)
            self._connection = connection
            return
        path = self._sqlite_path()
        if path is None:
            return
        handle = path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AlreadyRunningError(_BUSY) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._file = handle

    async def release(self) -> None:
        """Let another process poll (also happens when this one dies)."""
        if self._connection is not None:
            await self._connection.close()  # ends the session, and with it the lock
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


_BUSY = (
    "another npsbot process is already polling Telegram with this database; run one polling "
    "instance, or set NPSBOT_TELEGRAM_WEBHOOK_URL on every instance to run several"
)


async def try_transaction_lock(session: AsyncSession, name: str) -> bool:
    """Take a PostgreSQL advisory lock until the session's transaction ends (True elsewhere)."""
    bind = session.bind
    if bind is None or bind.dialect.name != "postgresql":
        return True
    result = await session.exec(  # type: ignore[call-overload]
        text("SELECT pg_try_advisory_xact_lock(:key)").bindparams(key=lock_key(name))
    )
    return bool(result.scalar_one())

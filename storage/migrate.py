"""Bring a database to the newest schema with Alembic, from async code or the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str = "") -> Config:
    """An Alembic config that needs no alembic.ini (so an installed package can migrate)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


class UnknownRevisionError(RuntimeError):
    """The database was migrated by a newer npsbot: this one does not know its schema.

    Alembic says so with a CommandError and a traceback; the CLI says it in one line.
    """


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    unknown = [revision for revision in _current(connection) if revision not in known]
    if unknown:
        raise UnknownRevisionError(
            f"the database is at revision {', '.join(unknown)}, which this npsbot does not "
            "know: a newer version migrated it; upgrade npsbot"
        )
    command.upgrade(config, "head")


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Apply every pending migration in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database stands against the migrations this version of npsbot ships."""

    current: tuple[str, ...]  # the revisions the database is at; empty: no schema yet
    heads: tuple[str, ...]  # the newest revisions shipped
    known: frozenset[str]  # every revision shipped

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def from_the_future(self) -> bool:
        """Migrated by a newer npsbot: this one would not know its tables."""
        return any(revision not in self.known for revision in self.current)


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    """Read the database's revision without changing anything (``npsbot doctor``)."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    scripts = ScriptDirectory.from_config(alembic_config())
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return SchemaStatus(current, tuple(scripts.get_heads()), known)


class OutdatedSchemaError(RuntimeError):
    """The database is behind the newest migration, and the command must not migrate it."""


async def require_newest_schema(engine: AsyncEngine) -> None:
    """Check, without changing anything, that the database is at the newest schema.

    For commands that promise to change nothing (``npsbot purge --dry-run``): migrating is a
    change, and one that old instances still running on the database cannot undo.
    """
    status = await schema_status(engine)
    if status.from_the_future:
        raise UnknownRevisionError(
            f"the database is at revision {', '.join(status.current)}, which this npsbot does "
            "not know: a newer version migrated it; upgrade npsbot"
        )
    if not status.up_to_date:
        raise OutdatedSchemaError(
            "the database is not at the newest schema and a dry run changes nothing: "
            "run `npsbot migrate` first"
        )

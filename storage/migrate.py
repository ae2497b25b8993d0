"""Bring a database to the newest schema with Alembic, from async code or the CLI.

Alembic is imported only when a migration is to run or the revision history is read: every
``npsbot run`` migrates at start, but almost always the schema is already at the newest
revision, and Alembic's import (about 10 MiB and 60 ms) would then buy nothing. So
``upgrade_to_head`` first reads ``alembic_version`` with plain SQL and compares it with the heads
the shipped revision files declare (``shipped_heads``, read with ``ast``); only a database that
is behind, ahead, or new goes through Alembic, which checks and migrates it as before.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def alembic_config(url: str = "") -> Config:
    """An Alembic config that needs no alembic.ini (so an installed package can migrate)."""
    from alembic.config import Config  # noqa: PLC0415  (only to migrate: see the module doc)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


class UnknownRevisionError(RuntimeError):
    """The database was migrated by a newer npsbot: this one does not know its schema.

    Alembic says so with a CommandError and a traceback; the CLI says it in one line.
    """


def _literal(tree: ast.Module, name: str) -> object:
    """The literal value a revision file assigns to ``name`` (``revision: str = "0005"``)."""
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        if value is not None and any(
            isinstance(target, ast.Name) and target.id == name for target in targets
        ):
            return ast.literal_eval(value)
    raise ValueError(f"no literal {name}")


@cache
def shipped_heads() -> frozenset[str] | None:
    """The newest revisions this npsbot ships, read from the revision files without Alembic:
    every ``revision`` that no file names as its ``down_revision``. None when a file is not in
    the plain form Alembic writes (the caller then asks Alembic itself)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in sorted(VERSIONS.glob("*.py")):
            if path.name == "__init__.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            revision = _literal(tree, "revision")
            down = _literal(tree, "down_revision")
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            if isinstance(down, str):
                parents.add(down)
            elif isinstance(down, tuple | list):
                parents.update(str(parent) for parent in down)
            elif down is not None:
                return None
    except (OSError, SyntaxError, ValueError):
        return None
    heads = frozenset(revisions - parents)
    return heads or None


def _recorded(connection: Connection) -> frozenset[str] | None:
    """The revisions in ``alembic_version``; None when there is no such table (a new database)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
    return frozenset(str(row[0]) for row in found)


def at_head(connection: Connection) -> bool:
    """Whether the database is already at the newest shipped schema, read without Alembic."""
    heads = shipped_heads()
    return heads is not None and _recorded(connection) == heads


def _upgrade(connection: Connection) -> None:
    if at_head(connection):
        return  # nothing to migrate: Alembic is not even imported (see the module doc)
    # Imported here, not at the top: see the module doc.
    from alembic import command  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

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
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415  (see the module doc)

    return tuple(MigrationContext.configure(connection).get_current_heads())


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    """Read the database's revision without changing anything (``npsbot doctor``)."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    from alembic.script import ScriptDirectory  # noqa: PLC0415  (see the module doc)

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

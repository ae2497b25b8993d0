"""``INSERT ... ON CONFLICT`` in the construct of the dialect that runs it.

SQLAlchemy has no dialect-neutral ``on_conflict_do_update``: PostgreSQL's and SQLite's
``insert`` each carry their own. The PostgreSQL one is imported only when a PostgreSQL
connection asks for it: importing ``sqlalchemy.dialects.postgresql`` loads every PostgreSQL
driver's dialect (asyncpg, psycopg, psycopg2, pg8000: about 2 MiB that a bot on SQLite would
keep for nothing), and a bot on PostgreSQL has imported it already to connect.
"""

from __future__ import annotations

from typing import Any


def insert_for(dialect: str) -> Any:
    """The ``insert`` of ``dialect`` (an engine's ``dialect.name``): PostgreSQL's or SQLite's."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415  (see the docstring)

        return postgresql.insert
    from sqlalchemy.dialects import sqlite  # noqa: PLC0415

    return sqlite.insert

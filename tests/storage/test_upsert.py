"""storage.upsert: each dialect's own ON CONFLICT insert, PostgreSQL's imported only for it."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from storage.upsert import insert_for


def test_each_dialect_gets_its_own_insert() -> None:
    assert insert_for("postgresql") is postgresql.insert
    assert insert_for("sqlite") is sqlite.insert

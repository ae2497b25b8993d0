"""The SQLAlchemy ``Table`` behind a SQLModel class, typed, for Core statements.

Batch statements (``INSERT ... ON CONFLICT``, keyset passes, aggregates) are written against
tables rather than the ORM. SQLModel sets ``__table__`` on every ``table=True`` class at run
time but declares no type for it, so each use needed a ``type: ignore``. This is the one place
that reads it, and it checks what it finds instead of silencing the type checker.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """The table of a ``table=True`` model; a model without one is a programming error."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table

"""Which columns can point back at a person, and what each of the two erasures does to them.

Personal data is erased on two paths: ``/forget``, at the person's request
(``storage.clients.forget``), and the age purge of ``npsbot purge`` (``storage.retention``). They
differ on purpose: ``/forget`` also replaces the pseudonymous keys and the company that tie a
person's scores to them, while the purge keeps what the statistics and the helpdesk's retries
need. So each personal column says once, on its model (``sa_column_kwargs=personal(...)``),
what each path leaves in it; both paths build their statements from these marks, and
tests/storage/test_personal.py fills every marked column and holds both paths to them. A new
column whose name looks personal fails that test until it is marked here or listed there as
not personal, with the reason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Table

INFO_KEY: Final = "personal"  # the key of the mark in a column's ``info``


class Path(enum.Enum):
    """The two ways personal data is erased."""

    FORGET = "forget"  # /forget: the person asked
    PURGE = "purge"  # npsbot purge: the survey is older than the retention period


class Erasure(enum.Enum):
    """What one path does to a personal column."""

    CLEARED = "cleared"  # set to the column's ``erased`` value by the path's UPDATE
    REPLACED = "replaced"  # given a new value that names no one (a pseudonym, a negative id)
    DELETED = "deleted"  # the row goes (a kept opt-out keeps the row, with the column cleared)
    KEPT = "kept"  # left as it is, for the reason the mark gives


@dataclass(frozen=True, slots=True)
class Personal:
    """The mark of a personal column: what ``/forget`` and the purge each leave in it."""

    forget: Erasure
    purge: Erasure
    erased: object = None  # what CLEARED writes
    why_kept: str = ""  # why a path keeps it: required when one does
    # The outbox's ids are a person's only when the row's chat is private (a positive id); a
    # group's or channel's id names no one and stays.
    private_chats_only: bool = False

    def __post_init__(self) -> None:
        if Erasure.KEPT in (self.forget, self.purge) and not self.why_kept:
            raise ValueError("a personal column that a path keeps needs the reason")

    def by(self, path: Path) -> Erasure:
        """What ``path`` does to the column."""
        return self.forget if path is Path.FORGET else self.purge


def personal(
    *,
    forget: Erasure,
    purge: Erasure,
    erased: object = None,
    why_kept: str = "",
    private_chats_only: bool = False,
) -> dict[str, Any]:
    """Column keyword arguments that mark a column personal (SQLAlchemy's ``info``)."""
    mark = Personal(forget, purge, erased, why_kept, private_chats_only)
    return {"info": {INFO_KEY: mark}}


def marks(table: Table) -> dict[str, Personal]:
    """The personal columns of ``table`` by name, with their marks."""
    return {
        column.name: column.info[INFO_KEY] for column in table.columns if INFO_KEY in column.info
    }


def cleared_values(table: Table, path: Path) -> dict[str, object]:
    """What ``path``'s UPDATE of ``table`` writes: each column it clears, and the value."""
    return {
        name: mark.erased for name, mark in marks(table).items() if mark.by(path) is Erasure.CLEARED
    }


# Short names for the marks on storage.models.
CLEARED: Final = Erasure.CLEARED
REPLACED: Final = Erasure.REPLACED
DELETED: Final = Erasure.DELETED
KEPT: Final = Erasure.KEPT

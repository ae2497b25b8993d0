"""Tagging stored comments with themes in batches: after an import, and on ``--recompute``.

Keyset pagination by survey id, one short transaction per batch, and one UPDATE per distinct set
of themes in the batch (a few dozen, not one per comment), so a million comments are re-tagged in
minutes on either database with memory that does not grow with the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Survey
from storage.tables import table_of

DEFAULT_BATCH = 5_000
_SURVEY = table_of(Survey)


@dataclass(frozen=True, slots=True)
class CommentScope:
    """Which stored comments to tag: written in [since, until), and whether only untagged ones."""

    since: datetime | None = None
    until: datetime | None = None
    only_untagged: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        """The conditions of the scope on ``survey``."""
        conditions: list[ColumnElement[bool]] = [_SURVEY.c.comment.is_not(None)]
        if self.since is not None:
            conditions.append(_SURVEY.c.commented_at >= self.since)
        if self.until is not None:
            conditions.append(_SURVEY.c.commented_at < self.until)
        if self.only_untagged:
            conditions.append(_SURVEY.c.themes.is_(None))
        return conditions


async def count_comments(engine: AsyncEngine, scope: CommentScope) -> int:
    """How many comments ``scope`` covers (for a progress bar)."""
    async with engine.connect() as connection:
        query = select(func.count()).select_from(_SURVEY).where(*scope.where())
        return int((await connection.execute(query)).scalar_one())


async def tag_comments(
    engine: AsyncEngine,
    themes_of: Callable[[str], str],
    scope: CommentScope,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] = lambda _done: None,
) -> int:
    """Store ``themes_of(comment)`` for every comment of ``scope``; the number tagged.

    ``progress`` is called with each batch's size after it is committed.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    tagged, after = 0, 0
    while True:
        async with engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(_SURVEY.c.id, _SURVEY.c.comment)
                    .where(_SURVEY.c.id > after, *scope.where())
                    .order_by(_SURVEY.c.id)
                    .limit(batch_size)
                )
            ).all()
            if not rows:
                return tagged
            by_themes: defaultdict[str, list[int]] = defaultdict(list)
            for survey_id, comment in rows:
                by_themes[themes_of(comment)].append(survey_id)
            for themes, ids in by_themes.items():
                await connection.execute(
                    update(_SURVEY).where(_SURVEY.c.id.in_(ids)).values(themes=themes)
                )
        after = rows[-1][0]
        tagged += len(rows)
        progress(len(rows))

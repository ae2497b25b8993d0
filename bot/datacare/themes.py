"""``npsbot themes``: try the taxonomy on a text, and re-tag stored comments after a change.

Both read ``NPSBOT_THEMES_FILE`` as the bot does, so a mistake in it shows here, with every
problem named, before a restart would.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.core.periods import Period
from bot.themes.stored import join_themes
from bot.themes.tagger import Match, Tagger
from bot.themes.taxonomy import load_taxonomy
from storage.db import Database
from storage.themes import CommentScope, count_comments, tag_comments

# Given how many comments will be tagged, returns what to call with each batch's size.
TagProgress = Callable[[int], Callable[[int], None]]


def tagger_of(settings: Settings) -> Tagger:
    """The taxonomy the bot would use; ``ThemesError`` names every problem of the file."""
    return Tagger(load_taxonomy(settings.themes_file))


def explain(settings: Settings, text: str) -> list[Match]:
    """``npsbot themes --test TEXT``: the themes of ``text`` and the words that matched."""
    return tagger_of(settings).explain(text)


async def tag_stored(
    database: Database,
    tagger: Tagger,
    scope: CommentScope,
    progress: TagProgress = lambda _total: lambda _done: None,
) -> int:
    """Tag the comments of ``scope``; how many were tagged."""
    advance = progress(await count_comments(database.engine, scope))
    return await tag_comments(
        database.engine, lambda text: join_themes(tagger.tag(text)), scope, progress=advance
    )


async def recompute(
    settings: Settings,
    period: Period | None,
    progress: TagProgress = lambda _total: lambda _done: None,
) -> int:
    """``npsbot themes --recompute [--period P]``: re-tag every comment written in ``period``."""
    tagger = tagger_of(settings)
    async with Database.open(settings.database_url) as database:
        await database.migrate()
        scope = CommentScope(
            since=period.start if period else None, until=period.end if period else None
        )
        return await tag_stored(database, tagger, scope, progress)

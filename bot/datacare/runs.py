"""What ``npsbot purge`` and ``npsbot import`` do, as async functions the tests can call.

Neither needs a Telegram token, and neither sends anything: they only read and write the
database (``storage.db.Database``, nothing of ``bot.services``), so they may run beside a
running bot.
"""

from __future__ import annotations

import contextlib
import csv
import errno
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.core.clock import utc_now
from bot.core.retention import parse_age
from bot.datacare.importer import ImportReport, Rejected, count_lines, import_answers, open_source
from bot.datacare.themes import tag_stored, tagger_of
from storage.db import Database
from storage.retention import DEFAULT_BATCH_SIZE, PurgeReport, purge
from storage.themes import CommentScope

# Given the total line count, returns what to call with the lines read so far.
ImportProgress = Callable[[int], Callable[[int], None]]


async def purge_old_data(
    settings: Settings,
    *,
    older_than: str,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PurgeReport:
    """``npsbot purge``: raises ``AgeError`` for an age it cannot read or that is too short."""
    moment = now or utc_now()
    age = parse_age(older_than, now=moment, force=force)
    async with Database.open(settings.database_url) as database:
        await (database.require_newest_schema if dry_run else database.migrate)()
        return await purge(
            database.engine, cutoff=age.cutoff(moment), dry_run=dry_run, batch_size=batch_size
        )


async def import_file(
    settings: Settings,
    path: Path,
    *,
    on_reject: Callable[[Rejected], None],
    rejects: Path | None = None,
    progress: ImportProgress = lambda _total: lambda _lines: None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """``npsbot import``: raises ``HeaderError`` before writing anything if the header is wrong,
    and ``OSError`` if a file cannot be read or written.

    ``on_reject`` hears of every rejected line; with ``rejects`` they are also written there as
    CSV: ``line``, ``reason``, then the line's own columns, so the file can be fixed and imported
    as it is (the import ignores the two extra columns).
    """
    if rejects is not None:
        _refuse_the_input_as_rejects(path, rejects)
    tagger = tagger_of(settings)  # a wrong themes file stops the import before it starts
    with contextlib.ExitStack() as stack:
        binary = stack.enter_context(path.open("rb"))
        total = count_lines(binary)
        source = open_source(binary)
        advance = progress(total)
        report_reject = on_reject
        if rejects is not None:
            file = stack.enter_context(rejects.open("w", encoding="utf-8", newline=""))
            writer = csv.writer(file)
            writer.writerow(["line", "reason", *source.header])

            def write_and_tell(rejected: Rejected) -> None:
                writer.writerow([rejected.line, rejected.reason, *rejected.values])
                on_reject(rejected)

            report_reject = write_and_tell

        async with Database.open(settings.database_url) as database:
            await database.migrate()
            report = await import_answers(
                database.engine,
                source,
                tz=settings.tz,
                now=now or utc_now(),
                on_reject=report_reject,
                progress=advance,
                batch_size=batch_size,
            )
            # Imported comments get their themes as live ones do (and any stored before
            # themes existed with them: the scope is every comment not tagged yet).
            await tag_stored(database, tagger, CommentScope(only_untagged=True))
            return report


def _refuse_the_input_as_rejects(path: Path, rejects: Path) -> None:
    """Opening the file being imported for the rejects would empty it before it is read."""
    try:
        same = rejects.samefile(path)
    except FileNotFoundError:  # a new rejects file, or no input (its open says so)
        return
    if same:
        raise OSError(
            errno.EINVAL, "is the file being imported: give --rejects another file", str(rejects)
        )

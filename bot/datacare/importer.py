"""``npsbot import``: past NPS answers from a CSV file, streamed and written in batches.

The file is read one record at a time and written a batch at a time (each batch its own
transaction), so a file of any size goes through in flat memory, and an import stopped half-way
is finished by running it again: what is stored already is recognised, not added twice. A row
that cannot be imported is reported with its line and the reason, and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.history import ImportedAnswer, RowError, parse_row
from bot.datacare.csvfile import CsvSource, Record
from storage.history import store_answers

DEFAULT_BATCH_SIZE: Final = 1000
DUPLICATE: Final = "repeats an earlier line of this file (same ticket_id and answered_at)"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line that was not imported: where, why, and its fields as read (for a rejects file)."""

    line: int
    reason: str
    values: list[str]


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    rows: int = 0
    imported: int = 0
    existing: int = 0
    rejected: int = 0
    ignored_columns: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The report as lines for a terminal (counts only)."""
        lines = [
            f"rows read: {self.rows}",
            f"imported: {self.imported}",
            f"already there (not added again): {self.existing}",
            f"rejected: {self.rejected}",
        ]
        if self.ignored_columns:
            lines.append(f"columns ignored: {', '.join(self.ignored_columns)}")
        return lines


@dataclass(slots=True)
class _Batch:
    answers: list[tuple[int, ImportedAnswer]]
    values: dict[int, list[str]]  # line -> fields as read, for a duplicate's reject row


async def import_answers(
    engine: AsyncEngine,
    source: CsvSource,
    *,
    tz: ZoneInfo,
    now: datetime,
    on_reject: Callable[[Rejected], None],
    progress: Callable[[int], None] = lambda _lines: None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Import every record of ``source``; ``progress`` gets the physical lines read so far.

    ``now`` is when the import runs: answers after it are refused, and it is every imported
    survey's ``created_at``, by which a line repeated further down the file is recognised.
    """
    report = ImportReport(ignored_columns=tuple(source.ignored))
    batch = _Batch([], {})

    async def flush() -> None:
        if not batch.answers:
            return
        async with engine.begin() as connection:
            outcome = await store_answers(connection, batch.answers, now=now)
        report.imported += outcome.imported
        report.existing += outcome.existing
        for line in outcome.duplicates:
            reject(Rejected(line, DUPLICATE, batch.values[line]))
        batch.answers, batch.values = [], {}
        progress(source.lines_read)

    def reject(rejected: Rejected) -> None:
        report.rejected += 1
        on_reject(rejected)

    for record in source:
        report.rows += 1
        answer = _answer(record, tz=tz, now=now, reject=reject)
        if answer is None:
            continue
        batch.answers.append((record.line, answer))
        batch.values[record.line] = record.values
        if len(batch.answers) >= batch_size:
            await flush()
    await flush()
    progress(source.lines_read)
    return report


def _answer(
    record: Record, *, tz: ZoneInfo, now: datetime, reject: Callable[[Rejected], None]
) -> ImportedAnswer | None:
    if record.fields is None:
        reject(Rejected(record.line, record.error or "cannot be read", record.values))
        return None
    try:
        return parse_row(record.fields, tz=tz, now=now)
    except RowError as error:
        reject(Rejected(record.line, str(error), record.values))
        return None


def open_source(binary: BinaryIO) -> CsvSource:
    """The file's header, checked (raises ``HeaderError``), and its records to come."""
    return CsvSource.open(binary)


def count_lines(binary: BinaryIO) -> int:
    """Physical lines of the file, read in blocks (for the progress bar); rewinds it."""
    lines, ends_with_newline, size = 0, True, 0
    while block := binary.read(1 << 20):
        lines += block.count(b"\n")
        ends_with_newline = block.endswith(b"\n")
        size += len(block)
    binary.seek(0)
    return lines + (0 if ends_with_newline or size == 0 else 1)

"""A period's responses as CSV or XLSX, read in chunks so a large export never sits in memory.

One row per survey answered in the period. Times are local to the team's time zone: with their
offset in CSV, and as plain local times in XLSX, which has no notion of a time zone. Text that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is prefixed with an apostrophe:
comments come from clients, and a client must not be able to put a formula in a manager's Excel.
Control characters that XML 1.0 cannot hold (a comment may carry any of them) become U+FFFD in
XLSX, where they would otherwise abort the whole file; CSV keeps them as typed.

openpyxl is imported by the XLSX writer only: ``npsbot run`` imports this module at start-up
(the formats, the CSV of a digest), and openpyxl would cost every process its import time and
memory for a file format only ``/export ... xlsx`` and ``npsbot export --format xlsx`` write.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, BinaryIO, Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.nps import classify
from bot.core.periods import Period
from storage.models import Customer, Survey, Ticket
from storage.tables import table_of

ExportFormat = Literal["csv", "xlsx"]
FORMATS: Final[tuple[ExportFormat, ...]] = ("csv", "xlsx")
HEADER: Final = (
    "survey_id",
    "ticket",
    "customer",
    "agent",
    "team",
    "company",
    "channel",
    "sent_at",
    "answered_at",
    "score",
    "category",
    "comment",
    "themes",  # theme ids separated by ";" (bot.themes.stored); empty: none, or not tagged
)
CHUNK_SIZE: Final = 1000
MEDIA_TYPES: Final[dict[ExportFormat, str]] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ONE_MICROSECOND: Final = timedelta(microseconds=1)
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

_SURVEY: Final[Table] = table_of(Survey)
_TICKET: Final[Table] = table_of(Ticket)
_CUSTOMER: Final[Table] = table_of(Customer)

Progress = Callable[[int], None]
Row = tuple[Any, ...]


def _answered_in(period: Period) -> Any:
    answered = _SURVEY.c.answered_at
    return and_(answered >= period.start, answered < period.end, _SURVEY.c.score.is_not(None))


def responses_query(period: Period) -> Select[Any]:
    """Surveys scored in [start, end), oldest answer first, with what identifies them."""
    survey, ticket, customer = _SURVEY.c, _TICKET.c, _CUSTOMER.c
    return (
        select(
            survey.id,
            ticket.external_id,
            customer.helpdesk_id,
            survey.agent,
            survey.team,
            survey.company,
            survey.channel,
            survey.sent_at,
            survey.answered_at,
            survey.score,
            survey.comment,
            survey.themes,
        )
        .join_from(_SURVEY, _TICKET, survey.ticket_id == ticket.id)
        .join(_CUSTOMER, survey.customer_id == customer.id)
        .where(_answered_in(period))
        .order_by(survey.answered_at, survey.id)
    )


async def count_responses(engine: AsyncEngine, period: Period) -> int:
    """How many rows an export of ``period`` has, for a progress bar."""
    async with engine.connect() as conn:
        total = await conn.scalar(
            select(func.count()).select_from(_SURVEY).where(_answered_in(period))
        )
    return int(total or 0)


def _safe(text: str | None) -> str:
    if text is None:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(tz)


def _row(raw: Row, tz: ZoneInfo) -> Row:
    """One export row: local times, the NPS band spelt out, text made spreadsheet-safe."""
    (survey_id, ticket, customer, agent, team, company, channel, sent, answered, score, comment,
     themes) = raw  # fmt: skip
    return (
        int(survey_id),
        _safe(ticket),
        _safe(customer),
        _safe(agent),
        _safe(team),
        _safe(company),
        _safe(channel),
        _local(sent, tz),
        _local(answered, tz),
        int(score),
        str(classify(int(score))),
        _safe(comment),
        themes or "",
    )


async def response_chunks(
    engine: AsyncEngine, period: Period, *, tz: ZoneInfo, chunk_size: int = CHUNK_SIZE
) -> AsyncIterator[list[Row]]:
    """Export rows of ``period`` in chunks streamed from the database (a server-side cursor)."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    async with engine.connect() as conn:
        result = await conn.stream(responses_query(period))
        async for partition in result.partitions(chunk_size):
            yield [_row(tuple(raw), tz) for raw in partition]


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "" if value is None else value


def _xlsx_cell(value: Any, illegal: re.Pattern[str]) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # already local; Excel cannot store an offset
    if isinstance(value, str):
        return illegal.sub("\ufffd", value)
    return value


class _CsvSink:
    """UTF-8 with a BOM, so Excel opens Cyrillic comments correctly too."""

    def __init__(self, out: BinaryIO) -> None:
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        self._writer = csv.writer(self._text)

    def write(self, rows: Iterable[Row]) -> None:
        self._writer.writerows([_csv_cell(value) for value in row] for row in rows)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the caller owns ``out``


class _XlsxSink:
    """openpyxl's write-only mode streams rows to a temporary file instead of keeping cells."""

    def __init__(self, out: BinaryIO) -> None:
        # Here, not at the top: see the module's docstring.
        from openpyxl import Workbook  # noqa: PLC0415
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # noqa: PLC0415

        self._out = out
        self._illegal: re.Pattern[str] = ILLEGAL_CHARACTERS_RE
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("responses")

    def write(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self._sheet.append([_xlsx_cell(value, self._illegal) for value in row])

    def close(self) -> None:
        self._book.save(self._out)


async def export_responses(
    engine: AsyncEngine,
    period: Period,
    out: BinaryIO,
    *,
    fmt: ExportFormat,
    tz: ZoneInfo,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> int:
    """Write the responses of ``period`` to ``out``; return how many rows were written.

    ``progress`` is called after every chunk with the number of rows just written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use csv or xlsx")
    sink: _CsvSink | _XlsxSink = _CsvSink(out) if fmt == "csv" else _XlsxSink(out)
    sink.write([HEADER])
    written = 0
    async for chunk in response_chunks(engine, period, tz=tz, chunk_size=chunk_size):
        sink.write(chunk)
        written += len(chunk)
        if progress is not None:
            progress(len(chunk))
    sink.close()
    return written


def export_filename(period: Period, fmt: ExportFormat, tz: ZoneInfo) -> str:
    """``nps-2026-10-01_2026-10-31.csv``: the local first and last day of the period."""
    first = period.start.astimezone(tz).date()
    last = (period.end.astimezone(tz) - _ONE_MICROSECOND).date()
    return f"nps-{first.isoformat()}_{last.isoformat()}.{fmt}"

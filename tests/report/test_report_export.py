"""CSV and XLSX exports of a period's responses, streamed in chunks, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.periods import Period
from bot.report.export import HEADER, count_responses, export_filename, export_responses

from .helpers import WEEK, at, insert_surveys

MOSCOW = ZoneInfo("Europe/Moscow")


async def seed(engine: AsyncEngine) -> None:
    await insert_surveys(
        engine,
        [
            {"ticket": "T-1", "sent_at": at(7, 9), "answered_at": at(7, 10), "score": 9,
             "agent": "ann", "team": "L1", "company": "ACME", "channel": "chat",
             "comment": "Спасибо, всё быстро", "themes": "speed"},
            {"ticket": "T-2", "sent_at": at(7, 9), "answered_at": at(8, 10), "score": 3,
             "comment": "=HYPERLINK(\"http://evil\")"},
            {"ticket": "T-3", "sent_at": at(7, 9), "answered_at": at(9, 10), "score": 7},
            {"ticket": "T-4", "sent_at": at(7, 9)},  # never answered
            {"ticket": "T-5", "sent_at": at(1), "answered_at": at(2), "score": 10},  # before
            {"ticket": "T-6", "sent_at": at(12), "answered_at": WEEK.end, "score": 10},  # after
        ],
    )  # fmt: skip


async def test_csv_export(engine: AsyncEngine) -> None:
    await seed(engine)
    out = io.BytesIO()
    chunks: list[int] = []

    written = await export_responses(
        engine, WEEK, out, fmt="csv", tz=MOSCOW, progress=chunks.append, chunk_size=2
    )

    assert written == 3
    assert chunks == [2, 1]  # two reads of two rows at most
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADER
    assert rows[1] == [
        rows[1][0], "T-1", "customer-1", "ann", "L1", "ACME", "chat",
        "2025-01-07T12:00:00+03:00", "2025-01-07T13:00:00+03:00", "9", "promoter",
        "Спасибо, всё быстро", "speed",
    ]  # fmt: skip
    assert [row[1] for row in rows[1:]] == ["T-1", "T-2", "T-3"]
    assert [row[10] for row in rows[1:]] == ["promoter", "detractor", "passive"]
    assert rows[2][11] == '\'=HYPERLINK("http://evil")'  # no formula from a client
    assert [row[12] for row in rows[1:]] == ["speed", "", ""]  # themes; none, or not tagged
    assert await count_responses(engine, WEEK) == 3


async def test_xlsx_export(engine: AsyncEngine) -> None:
    await seed(engine)
    out = io.BytesIO()

    written = await export_responses(engine, WEEK, out, fmt="xlsx", tz=MOSCOW)

    assert written == 3
    sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True)["responses"]
    rows = [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[1][1:10] == (
        "T-1", "customer-1", "ann", "L1", "ACME", "chat",
        at(7, 12).replace(tzinfo=None), at(7, 13).replace(tzinfo=None), 9,
    )  # fmt: skip
    assert rows[2][11] == '\'=HYPERLINK("http://evil")'
    assert rows[3][5] is None  # no company given


async def test_xlsx_export_survives_control_characters(engine: AsyncEngine) -> None:
    """XML 1.0 cannot hold most C0 controls; a client's comment must not abort the whole file."""
    comment = "bad\x0btab\x1besc\x01soh\tok\nline"
    await insert_surveys(
        engine,
        [{"ticket": "T-\x07", "sent_at": at(7, 9), "answered_at": at(7, 10), "score": 2,
          "agent": "a\x1fgent", "comment": comment}],
    )  # fmt: skip
    out = io.BytesIO()

    assert await export_responses(engine, WEEK, out, fmt="xlsx", tz=MOSCOW) == 1

    sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True)["responses"]
    row = list(sheet.iter_rows(values_only=True))[1]
    assert row[11] == "bad\ufffdtab\ufffdesc\ufffdsoh\tok\nline"  # tab and newline are legal
    assert (row[1], row[3]) == ("T-\ufffd", "a\ufffdgent")
    csv_out = io.BytesIO()
    await export_responses(engine, WEEK, csv_out, fmt="csv", tz=MOSCOW)
    assert "bad\x0btab\x1besc" in csv_out.getvalue().decode("utf-8-sig")  # CSV keeps them


async def test_empty_period_has_only_the_header(engine: AsyncEngine) -> None:
    out = io.BytesIO()
    empty = Period(start=WEEK.end + timedelta(days=30), end=WEEK.end + timedelta(days=31))
    assert await export_responses(engine, empty, out, fmt="csv", tz=MOSCOW) == 0
    assert out.getvalue().decode("utf-8-sig").strip() == ",".join(HEADER)


async def test_unknown_format_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="csv or xlsx"):
        await export_responses(engine, WEEK, io.BytesIO(), fmt="pdf", tz=MOSCOW)  # type: ignore[arg-type]


def test_filename_names_the_local_days() -> None:
    assert export_filename(WEEK, "xlsx", MOSCOW) == "nps-2025-01-06_2025-01-13.xlsx"

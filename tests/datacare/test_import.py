"""``npsbot import`` on both backends: what is refused, what is stored, and that it counts."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.config import Settings
from bot.datacare.csvfile import HeaderError
from bot.datacare.importer import ImportReport, Rejected
from bot.datacare.runs import import_file
from bot.report.export import count_responses
from storage.db import SessionFactory
from storage.models import AlertCase, Customer, OutboxMessage, Survey, Ticket
from tests.datacare.helpers import digest_of, settings_for

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
HEADER = "ticket_id,answered_at,score,comment,customer_id,agent,team,channel,company,language\n"
GOOD = (
    "T-1,2026-10-05T10:00:00+03:00,9,Quick and kind,c-1,Ivan,L2,email,Globex,ru\n"
    'T-2,2026-10-06T09:30:00Z,2,"Slow,\nand rude",c-2,Olga,L1,phone,Initech,en\n'
    "T-3,2026-10-07,7,,,,,,,\n"
)


def write(tmp_path: Path, text: str | bytes, name: str = "answers.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


async def run_import(
    settings: Settings, path: Path, *, now: datetime = NOW, **extra: object
) -> tuple[ImportReport, list[Rejected]]:
    """One import run; every run has its own ``now``, as every real one does."""
    rejected: list[Rejected] = []
    report = await import_file(
        settings,
        path,
        on_reject=rejected.append,
        now=now,
        **extra,  # type: ignore[arg-type]
    )
    return report, rejected


async def surveys(sessions: SessionFactory) -> list[Survey]:
    async with sessions() as session:
        return list((await session.exec(select(Survey).order_by(col(Survey.id)))).all())


async def test_answers_become_finished_surveys_attributed_like_live_ones(
    engine: AsyncEngine, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url)
    report, rejected = await run_import(settings, write(tmp_path, HEADER + GOOD))
    assert rejected == []
    assert (report.rows, report.imported, report.existing, report.rejected) == (3, 3, 0, 0)
    stored = await surveys(sessions)
    assert [(s.score, s.status, s.agent, s.team, s.channel, s.company) for s in stored] == [
        (9, "completed", "Ivan", "L2", "email", "Globex"),
        (2, "completed", "Olga", "L1", "phone", "Initech"),
        (7, "completed", None, None, None, None),
    ]
    first, second, third = stored
    assert first.answered_at == datetime(2026, 10, 5, 7, 0, tzinfo=UTC)
    assert second.comment == "Slow,\nand rude" and second.commented_at == second.answered_at
    # A bare date is local midnight in NPSBOT_TIMEZONE (Europe/Moscow, UTC+3).
    assert third.answered_at == datetime(2026, 10, 6, 21, 0, tzinfo=UTC)
    assert third.comment is None and third.commented_at is None
    for survey in stored:
        # Over and done: never sent by this bot, nothing for the sweep to lock or remind.
        assert survey.sent_at is None and survey.chat_id is None and survey.message_id is None
        assert survey.score_locked_at == survey.answered_at == survey.closed_at
        assert survey.completed_at == survey.answered_at
    async with sessions() as session:
        customers = (
            await session.exec(select(Customer.helpdesk_id, Customer.language, Customer.company))
        ).all()
        assert sorted(customers) == [
            ("c-1", "ru", "Globex"),
            ("c-2", "en", "Initech"),
            ("import:anonymous", None, None),
        ]
        tickets = (await session.exec(select(Ticket.external_id).order_by(col(Ticket.id)))).all()
        assert tickets == ["T-1", "T-2", "T-3"]
        # Nothing is sent for an imported answer: no message, no alert, no case.
        assert (await session.exec(select(func.count()).select_from(OutboxMessage))).one() == 0
        assert (await session.exec(select(func.count()).select_from(AlertCase))).one() == 0


async def test_the_digest_and_export_count_imported_answers(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url)
    await run_import(settings, write(tmp_path, HEADER + GOOD))
    digest, _summary, period = await digest_of(settings, "2026-10")
    assert (digest.responses, digest.promoters, digest.passives, digest.detractors) == (3, 1, 1, 1)
    assert digest.nps == 0.0
    assert digest.surveys_sent == 0  # the response rate is about what this bot sent
    assert sorted(comment.text for comment in digest.comments) == [
        "Quick and kind",
        "Slow,\nand rude",
    ]
    assert await count_responses(engine, period) == 3


async def test_a_second_import_of_the_same_file_adds_nothing(
    engine: AsyncEngine, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url)
    path = write(tmp_path, HEADER + GOOD)
    await run_import(settings, path, batch_size=2)
    before = [(s.id, s.score, s.answered_at) for s in await surveys(sessions)]
    again, rejected = await run_import(settings, path, batch_size=2, now=LATER)
    assert rejected == []
    assert (again.imported, again.existing) == (0, 3)
    assert [(s.id, s.score, s.answered_at) for s in await surveys(sessions)] == before


async def test_an_answer_a_live_survey_already_has_is_not_added(
    engine: AsyncEngine, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url)
    await run_import(settings, write(tmp_path, HEADER + GOOD))
    async with sessions() as session:  # as if T-1 had been a live survey closed earlier
        survey = (await session.exec(select(Survey).where(Survey.score == 9))).one()
        survey.closed_at = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)
        session.add(survey)
        await session.commit()
    report, _ = await run_import(
        settings, write(tmp_path, HEADER + GOOD.splitlines(True)[0]), now=LATER
    )
    assert (report.imported, report.existing) == (0, 1)


async def test_bad_rows_are_rejected_with_line_and_reason_and_the_rest_imported(
    engine: AsyncEngine, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    lines = [
        "ticket_id,answered_at,score,comment",
        "T-1,2026-10-05T10:00:00+03:00,9,fine",  # 2
        "T-2,2026-10-05T10:00:00+03:00,11,too high",  # 3
        "T-3,2026-10-05T10:00:00+03:00,7.5,",  # 4
        "T-4,05/10/2026,8,",  # 5
        ",2026-10-05T10:00:00Z,8,",  # 6
        "T-6,2026-10-05T10:00:00,8,",  # 7 no offset
        "T-1,2026-10-05T07:00:00Z,3,the same answer again",  # 8 duplicate of line 2
        "T-8,2026-12-01T10:00:00Z,8,",  # 9 in the future
        "T-9,2026-10-05T10:00:00Z,8,a,b",  # 10 too many fields
        "T-10,2026-10-05T10:00:00Z,,",  # 11 no score
        "T-11,2026-10-05T10:00:00Z,10",  # 12 fine, trailing comment left out
    ]
    raw = "\n".join(lines).encode() + b"\nT-12,2026-10-05T10:00:00Z,5,caf\xe9\n"  # 13 Latin-1
    rejects = tmp_path / "rejects.csv"
    report, rejected = await run_import(
        settings_for(database_url), write(tmp_path, raw), rejects=rejects, batch_size=3
    )
    assert [(r.line, r.reason) for r in rejected] == [
        (3, "score must be a whole number from 0 to 10"),
        (4, "score must be a whole number from 0 to 10"),
        (5, "answered_at is not an ISO 8601 time or date (e.g. 2026-10-01T12:30:00+03:00)"),
        (6, "ticket_id is empty"),
        (7, "answered_at has no UTC offset: add one (+03:00, Z) or give just a date"),
        (9, "answered_at is in the future"),
        (10, "has 5 fields, the header has 4"),
        (11, "score is empty"),
        # Found when its batch (lines 2, 8 and 12) is written.
        (8, "repeats an earlier line of this file (same ticket_id and answered_at)"),
        (13, "is not valid UTF-8"),
    ]
    assert (report.rows, report.imported, report.rejected) == (12, 2, 10)
    assert sorted(s.score for s in await surveys(sessions)) == [9, 10]
    with rejects.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["line", "reason", "ticket_id", "answered_at", "score", "comment"]
    assert rows[1] == [
        "3",
        "score must be a whole number from 0 to 10",
        "T-2",
        "2026-10-05T10:00:00+03:00",
        "11",
        "too high",
    ]
    assert len(rows) == 11


async def test_a_repeated_line_in_a_later_batch_is_still_a_duplicate(
    engine: AsyncEngine, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    body = "".join(f"T-{n},2026-10-05T10:00:00Z,{n % 11}\n" for n in range(1, 8))
    report, rejected = await run_import(
        settings_for(database_url),
        write(tmp_path, "ticket_id,answered_at,score\n" + body + "T-2,2026-10-05T10:00:00Z,5\n"),
        batch_size=2,
    )
    assert [(r.line, r.reason[:27]) for r in rejected] == [(9, "repeats an earlier line of ")]
    assert report.imported == 7


async def test_semicolons_a_byte_order_mark_and_unknown_columns(
    engine: AsyncEngine, sessions: SessionFactory, database_url: str, tmp_path: Path
) -> None:
    text = "\ufeffTicket_ID ; Answered_At;Score;Region\r\nT-1;2026-10-05;10;EU\r\n"
    report, rejected = await run_import(settings_for(database_url), write(tmp_path, text))
    assert rejected == [] and report.imported == 1
    assert report.ignored_columns == ("region",)
    assert [s.score for s in await surveys(sessions)] == [10]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ticket,answered_at,score\nT-1,2026-10-05,9\n", "the header has no ticket_id column"),
        ("ticket_id;when\nT-1;2026-10-05\n", "no answered_at, score columns"),
        ("", "the file is empty"),
        ("ticket_id,answered_at,score,score\n", "names score more than once"),
    ],
)
async def test_a_header_without_a_required_column_stops_before_anything_is_written(
    sessions: SessionFactory,
    database_url: str,
    tmp_path: Path,
    text: str,
    message: str,
) -> None:
    with pytest.raises(HeaderError, match=message):
        await run_import(settings_for(database_url), write(tmp_path, text))
    assert await surveys(sessions) == []

"""The closed loop counted from alert_case rows on SQLite and PostgreSQL, against hand counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.report.closed_loop import LoopStats, compute_loop, load_case_frame
from storage.db import make_session_factory
from storage.models import AlertCase

from .helpers import WEEK, at, insert_surveys

HOUR = timedelta(hours=1)


async def insert_cases(engine: AsyncEngine, cases: list[dict[str, Any]]) -> None:
    ids = await insert_surveys(engine, [{"ticket": f"T-{n}"} for n in range(len(cases))])
    async with make_session_factory(engine)() as session:
        for n, fields in enumerate(cases):
            session.add(AlertCase(survey_id=ids[f"T-{n}"], chat_id=-100, **fields))
        await session.commit()


async def loop_of(engine: AsyncEngine) -> LoopStats:
    async with engine.connect() as conn:
        frame = await conn.run_sync(lambda sync: load_case_frame(sync, period=WEEK))
    return compute_loop(frame, WEEK)


async def test_closed_loop_by_hand(engine: AsyncEngine) -> None:
    start = at(7, 10)
    await insert_cases(
        engine,
        [
            # Alerted this week: contacted after 1 h, taken and resolved, recovered.
            {"created_at": start, "status": "resolved", "taken_at": start + HOUR,
             "first_contact_at": start + HOUR, "resolved_at": start + 5 * HOUR,
             "recovery_answer": True, "recovery_answered_at": start + 6 * HOUR},
            # Alerted this week: taken, contacted after 3 h, re-announced twice, still open.
            {"created_at": start, "status": "taken", "taken_at": start + 2 * HOUR,
             "first_contact_at": start + 3 * HOUR, "reannounce_count": 2,
             "first_reannounced_at": start + HOUR, "reannounced_at": start + 2 * HOUR},
            # Alerted this week, never touched, said "no" to recovery; re-announced only after
            # the week ended, which a digest posted late must not count.
            {"created_at": start, "status": "open", "recovery_answer": False,
             "recovery_answered_at": start + HOUR, "reannounce_count": 1,
             "first_reannounced_at": WEEK.end + HOUR, "reannounced_at": WEEK.end + HOUR},
            # Alerted this week, contacted only after the week ended: no wait counted yet.
            {"created_at": WEEK.end - HOUR, "status": "resolved", "taken_at": WEEK.end,
             "first_contact_at": WEEK.end + HOUR, "resolved_at": WEEK.end + 2 * HOUR},
            # Alerted the week before, resolved in this one: not alerted, not open at the end.
            {"created_at": WEEK.start - HOUR, "status": "resolved",
             "resolved_at": WEEK.start + HOUR},
            # Alerted the week before, still open: open at the end, not alerted this week.
            {"created_at": WEEK.start - 30 * HOUR, "status": "open"},
            # Alerted next week: nowhere.
            {"created_at": WEEK.end, "status": "open"},
            # Resolved before the week: not loaded at all.
            {"created_at": WEEK.start - 50 * HOUR, "status": "resolved",
             "resolved_at": WEEK.start - 40 * HOUR},
        ],
    )  # fmt: skip

    assert await loop_of(engine) == LoopStats(
        alerted=4,
        taken=2,  # the fourth was taken at the end, which is outside [start, end)
        resolved=1,
        median_first_contact=2 * HOUR,  # median of 1 h and 3 h
        open_at_end=4,  # cases 2, 3 and 4 (resolved only after the end) and 6
        reannounced=1,  # the second case; the third only after the end
        recovery_answered=2,
        recovered=1,
    )


async def test_no_cases(engine: AsyncEngine) -> None:
    assert await loop_of(engine) == LoopStats(0, 0, 0, None, 0, 0, 0, 0)

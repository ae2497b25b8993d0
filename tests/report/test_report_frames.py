"""load_survey_frame against real databases: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.report.frames import COLUMNS, load_survey_frame
from bot.report.period import build_period_digest

from .helpers import PREVIOUS_WEEK, WEEK, at, insert_surveys

MICROSECOND = timedelta(microseconds=1)
BEFORE = WEEK.start - timedelta(days=2)


async def load(engine: AsyncEngine, start: datetime, end: datetime) -> pd.DataFrame:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: load_survey_frame(sync, start=start, end=end))


async def seed_boundaries(engine: AsyncEngine) -> dict[str, int]:
    """One survey per boundary case; the ticket id says whether it belongs to WEEK."""
    return await insert_surveys(
        engine,
        [
            {"ticket": "in-sent-at-start", "sent_at": WEEK.start, "score": 9,
             "answered_at": WEEK.start + timedelta(hours=1), "agent": "bob", "team": "tier-2",
             "channel": "chat", "comment": "Great <b>help</b> & fast",
             "commented_at": WEEK.start + timedelta(hours=2)},
            {"ticket": "in-sent-just-before-end", "sent_at": WEEK.end - MICROSECOND},
            {"ticket": "out-sent-at-end", "sent_at": WEEK.end},
            {"ticket": "out-sent-just-before-start", "sent_at": WEEK.start - MICROSECOND},
            {"ticket": "in-answered", "sent_at": BEFORE, "answered_at": WEEK.start, "score": 3},
            {"ticket": "in-commented", "sent_at": BEFORE, "answered_at": BEFORE, "score": 7,
             "comment": "later thought", "commented_at": WEEK.end - MICROSECOND},
            {"ticket": "out-answered-at-end", "sent_at": BEFORE, "answered_at": WEEK.end,
             "score": 10, "commented_at": WEEK.end, "comment": "next week"},
            {"ticket": "out-never-sent", "status": "pending"},
        ],
    )  # fmt: skip


async def test_window_is_start_inclusive_end_exclusive(engine: AsyncEngine) -> None:
    ids = await seed_boundaries(engine)

    frame = await load(engine, WEEK.start, WEEK.end)

    expected = sorted(survey for ticket, survey in ids.items() if ticket.startswith("in-"))
    assert frame["survey_id"].tolist() == expected
    assert set(frame["ticket"]) == {ticket for ticket in ids if ticket.startswith("in-")}


async def test_columns_dtypes_and_aware_utc_datetimes(engine: AsyncEngine) -> None:
    await seed_boundaries(engine)

    frame = await load(engine, WEEK.start, WEEK.end)

    assert tuple(frame.columns) == COLUMNS
    assert frame["survey_id"].dtype == "int64"
    assert frame["score"].dtype == "Int64"
    for name in ("ticket", "agent", "team", "channel", "comment"):
        assert frame[name].dtype == "string", name
    for name in ("sent_at", "answered_at", "commented_at"):
        assert isinstance(frame[name].dtype, pd.DatetimeTZDtype), name
        assert str(frame[name].dt.tz) == "UTC", name
        assert frame[name].dt.unit == "us", name

    rows = frame.set_index("ticket")
    first = rows.loc["in-sent-at-start"]
    assert first["sent_at"] == pd.Timestamp(WEEK.start)
    assert first["sent_at"].to_pydatetime() == WEEK.start
    assert first["score"] == 9
    assert (first["agent"], first["team"], first["channel"]) == ("bob", "tier-2", "chat")
    assert first["comment"] == "Great <b>help</b> & fast"
    # Microseconds survive the round trip on both backends.
    assert rows.loc["in-sent-just-before-end", "sent_at"] == pd.Timestamp(WEEK.end - MICROSECOND)
    unanswered = rows.loc["in-sent-just-before-end"]
    assert pd.isna(unanswered["score"])
    assert unanswered["comment"] is pd.NA
    assert pd.isna(unanswered["answered_at"])


async def test_bounds_in_any_time_zone_mean_the_same_instants(engine: AsyncEngine) -> None:
    await seed_boundaries(engine)
    tz = ZoneInfo("America/New_York")

    local = await load(engine, WEEK.start.astimezone(tz), WEEK.end.astimezone(tz))
    utc = await load(engine, WEEK.start, WEEK.end)

    pd.testing.assert_frame_equal(local, utc)


async def test_empty_window_keeps_dtypes(engine: AsyncEngine) -> None:
    await seed_boundaries(engine)

    frame = await load(engine, at(1, month=6), at(8, month=6))

    assert frame.empty
    assert tuple(frame.columns) == COLUMNS
    assert frame["score"].dtype == "Int64"
    assert str(frame["answered_at"].dtype) == "datetime64[us, UTC]"


async def test_naive_bounds_are_refused(engine: AsyncEngine) -> None:
    naive = datetime(2025, 1, 6)  # noqa: DTZ001

    with pytest.raises(ValueError, match="timezone-aware"):
        await load(engine, naive, WEEK.end)


async def test_build_weekly_digest_reads_both_weeks(engine: AsyncEngine) -> None:
    await insert_surveys(
        engine,
        [
            {"ticket": "p1", "sent_at": at(31, month=12, year=2024), "score": 9,
             "answered_at": at(31, 13, month=12, year=2024)},
            {"ticket": "p2", "sent_at": at(2), "answered_at": at(2, 13), "score": 3},
            {"ticket": "p3", "sent_at": at(5, 23), "answered_at": at(6, 1), "score": 10,
             "comment": "Thanks!", "commented_at": at(6, 2)},
            {"ticket": "c1", "sent_at": at(7), "answered_at": at(7, 13), "score": 8},
            {"ticket": "c2", "sent_at": at(8)},
            {"ticket": "old", "sent_at": at(1, month=12, year=2024), "score": 0,
             "answered_at": at(2, month=12, year=2024)},
        ],
    )  # fmt: skip

    digest = await build_period_digest(engine, period=WEEK, previous=PREVIOUS_WEEK)

    # This week: p3 (10, sent last week) and c1 (8) -> 1 promoter, 1 passive, NPS 50.
    assert (digest.promoters, digest.passives, digest.detractors) == (1, 1, 0)
    assert digest.nps == pytest.approx(50.0)
    # Previous week: p1 (9) and p2 (3) -> NPS 0.
    assert digest.previous_nps == pytest.approx(0.0)
    assert digest.nps_change == pytest.approx(50.0)
    assert digest.surveys_sent == 2
    assert digest.answered_of_sent == 1
    assert digest.response_rate == pytest.approx(0.5)
    assert [(c.ticket, c.text, c.at) for c in digest.comments] == [("p3", "Thanks!", at(6, 2))]
    assert digest.comments[0].at.utcoffset() == timedelta(0)
    assert digest.comments[0].at.tzinfo is not None

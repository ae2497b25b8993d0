"""EnpsRounds on a real database: one round at a time, once per run, the digest once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.enps.rounds import EnpsRounds
from storage import enps
from storage.db import SessionFactory
from storage.models import EnpsCampaign, EnpsRound, OutboxMessage

NOW = datetime(2027, 1, 1, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def setup(sessions: SessionFactory) -> EnpsCampaign:
    async with sessions() as session:
        campaign = EnpsCampaign(
            name="staff",
            company="ACME",
            chat_id=-100,
            cron="0 10 * * *",  # daily at 10:00 Moscow, 07:00 UTC
            language="en",
            round_days=2,
            remind_after_days=1,
            min_group_size=3,
            created_at=NOW - timedelta(days=30),
        )
        session.add(campaign)
        await session.flush()
        assert campaign.id is not None
        for user_id in (1, 2, 3):
            await enps.join(session, campaign_id=campaign.id, user_id=user_id, now=NOW)
        await session.commit()
        return campaign


async def test_a_run_waits_while_a_round_is_open_and_each_run_opens_once(
    sessions: SessionFactory,
) -> None:
    campaign, clock = await setup(sessions), Clock()
    rounds = EnpsRounds(session_factory=sessions, tz=ZoneInfo("Europe/Moscow"), clock=clock)
    manual = await rounds.open_round(campaign, scheduled_for=NOW - timedelta(hours=1))
    assert manual is not None and manual.asked == 3
    await rounds.tick()  # today's run is due, but the manual round is open
    async with sessions() as session:
        assert len((await session.exec(select(EnpsRound))).all()) == 1
    clock.now = NOW + timedelta(days=1, hours=1)  # a day later: the reminder, and the next run
    await rounds.tick()
    await rounds.tick()
    async with sessions() as session:
        rows = (await session.exec(select(EnpsRound).order_by(col(EnpsRound.id)))).all()
        assert len(rows) == 1 and rows[0].reminded_at == clock.now
    clock.now = NOW + timedelta(days=2)  # the manual round closes; today's run opens after it
    await rounds.tick()
    async with sessions() as session:
        rows = (await session.exec(select(EnpsRound).order_by(col(EnpsRound.id)))).all()
        assert [row.status for row in rows] == ["closed", "open"]
        assert rows[1].scheduled_for == NOW + timedelta(days=2)
        digests = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.purpose == "enps_digest"))
        ).all()
        assert len(digests) == 1 and digests[0].chat_id == -100
        assert rows[0].digest_outbox_id == digests[0].id
        assert "Too few answers" in digests[0].payload["text"]
        assert not await rounds.close(rows[0])

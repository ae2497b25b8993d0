"""EnpsRounds on a real database: one round at a time, once per run, the digest once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.core.callback import EnpsPress
from bot.enps.answers import EnpsAnswers, join_payload
from bot.enps.rounds import EnpsRounds
from storage import clients, enps
from storage import enps_invitations as invitations
from storage.db import SessionFactory
from storage.models import (
    EnpsCampaign,
    EnpsComment,
    EnpsInvitation,
    EnpsResponse,
    EnpsRound,
    OutboxMessage,
)

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


async def test_a_press_committing_as_the_round_closes_is_rewritten_with_the_others(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: no race to lose")
    campaign, clock = await setup(sessions), Clock()
    rounds = EnpsRounds(session_factory=sessions, tz=ZoneInfo("Europe/Moscow"), clock=clock)
    opened = await rounds.open_round(campaign, scheduled_for=NOW - timedelta(hours=1))
    assert opened is not None
    async with sessions() as session:
        invitation = (
            await session.exec(select(EnpsInvitation).where(EnpsInvitation.user_id == 1))
        ).one()
    assert invitation.id is not None
    async with sessions() as press:
        assert await invitations.record_score(
            press, invitation_id=invitation.id, user_id=1, round_id=opened.round_id, score=9
        )
        pressed_key = (await press.exec(select(EnpsResponse.id))).one()

        async def close() -> bool:
            async with sessions() as session:
                closed = await enps.close_round(session, round_id=opened.round_id, now=clock.now)
                await session.commit()
                return closed

        closing = asyncio.create_task(close())
        async with engine.connect() as watcher:  # until the close waits for the press's row
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            while not (await watcher.execute(waiting)).scalar_one():
                assert not closing.done()
                await asyncio.sleep(0.01)
        await press.commit()
    assert await closing
    async with sessions() as session:
        keys = (await session.exec(select(EnpsResponse.id))).all()
        status = (
            await session.exec(
                select(EnpsInvitation.status).where(EnpsInvitation.id == invitation.id)
            )
        ).one()
    assert len(keys) == 1 and keys[0] != pressed_key  # rewritten at the close, like the rest
    assert status == "answered"


async def test_the_reminder_skips_members_who_stopped_or_were_removed_since(
    sessions: SessionFactory,
) -> None:
    campaign, clock = await setup(sessions), Clock()
    assert campaign.id is not None
    rounds = EnpsRounds(session_factory=sessions, tz=ZoneInfo("Europe/Moscow"), clock=clock)
    opened = await rounds.open_round(campaign, scheduled_for=NOW - timedelta(hours=1))
    assert opened is not None
    async with sessions() as session:
        for row in (await session.exec(select(EnpsInvitation))).all():
            assert row.question_outbox_id is not None
            await invitations.question_delivered(
                session, outbox_id=row.question_outbox_id, message_id=100 + row.user_id
            )
        await clients.opt_out(session, user_id=2, now=NOW, purposes=())  # /stop
        await enps.remove_members(session, campaign_id=campaign.id, user_ids=[3])
        await session.commit()
    clock.now = NOW + timedelta(days=1)  # the reminder is due
    await rounds.tick()
    async with sessions() as session:
        reminded = (
            await session.exec(
                select(OutboxMessage.chat_id).where(OutboxMessage.purpose == "enps_member")
            )
        ).all()
    assert reminded == [1]


async def test_a_member_whose_question_was_refused_is_asked_once_they_open_the_link(
    sessions: SessionFactory,
) -> None:
    campaign, clock = await setup(sessions), Clock()
    assert campaign.id is not None
    async with sessions() as session:  # added by id; has never started the bot
        await enps.add_members(session, campaign_id=campaign.id, user_ids=[4], now=NOW)
        await session.commit()
    rounds = EnpsRounds(session_factory=sessions, tz=ZoneInfo("Europe/Moscow"), clock=clock)
    opened = await rounds.open_round(campaign, scheduled_for=NOW - timedelta(hours=1))
    assert opened is not None and opened.asked == 4
    async with sessions() as session:
        refused = (
            await session.exec(select(EnpsInvitation).where(EnpsInvitation.user_id == 4))
        ).one()
        assert refused.question_outbox_id is not None
        await invitations.question_failed(  # Telegram: chat not found
            session, outbox_id=refused.question_outbox_id, member_unreachable=True
        )
        await session.commit()
    secret = b"k" * 32
    answers = EnpsAnswers(
        session_factory=sessions, rounds=rounds, link_secret=secret, wake=lambda: None, clock=clock
    )
    link = join_payload(secret, campaign.id, now=NOW, ttl=timedelta(days=1))
    assert await answers.join(payload=link, user_id=4, chat_id=4, language="en")
    assert await answers.join(payload=link, user_id=4, chat_id=4, language="en")  # again
    async with sessions() as session:
        invitation = (
            await session.exec(select(EnpsInvitation).where(EnpsInvitation.user_id == 4))
        ).one()
        questions = (
            await session.exec(
                select(OutboxMessage.id)
                .where(OutboxMessage.chat_id == 4)
                .where(OutboxMessage.purpose == "enps")
                .order_by(col(OutboxMessage.id))
            )
        ).all()
        counts = await enps.round_counts(session, round_id=opened.round_id)
    assert invitation.status == "queued" and len(questions) == 2  # asked once more, not twice
    assert invitation.question_outbox_id == questions[-1]
    assert (counts.invited, counts.unreachable) == (4, 0)


async def test_a_comment_with_a_nul_is_stored_on_every_database(sessions: SessionFactory) -> None:
    # PostgreSQL refuses NUL in text: the comment would fail and be lost there.
    campaign, clock = await setup(sessions), Clock()
    rounds = EnpsRounds(session_factory=sessions, tz=ZoneInfo("Europe/Moscow"), clock=clock)
    opened = await rounds.open_round(campaign, scheduled_for=NOW - timedelta(hours=1))
    assert opened is not None
    answers = EnpsAnswers(
        session_factory=sessions,
        rounds=rounds,
        link_secret=b"k" * 32,
        wake=lambda: None,
        clock=clock,
    )
    async with sessions() as session:
        invitation = (
            await session.exec(select(EnpsInvitation).where(EnpsInvitation.user_id == 1))
        ).one()
    assert invitation.id is not None
    await answers.press(EnpsPress(invitation.id, 9), presser_id=1, language="en")
    assert await answers.comment(chat_id=1, user_id=1, text="more\x00 coffee")
    async with sessions() as session:
        assert (await session.exec(select(EnpsComment.text))).all() == ["more coffee"]

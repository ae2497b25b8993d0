"""Employee NPS storage on SQLite and PostgreSQL: compare-and-set answers kept apart from who."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.enps import InvitationStatus, RoundPlan
from storage import clients, enps, outbox
from storage import enps_invitations as invitations
from storage.db import SessionFactory
from storage.models import (
    EnpsCampaign,
    EnpsComment,
    EnpsInvitation,
    EnpsMember,
    EnpsResponse,
    EnpsRound,
    OutboxMessage,
    TelegramUser,
)

NOW = datetime(2027, 1, 1, 7, 0, tzinfo=UTC)
PLAN = RoundPlan(NOW, NOW, NOW + timedelta(days=3), NOW + timedelta(days=7))


async def campaign(sessions: SessionFactory, members: tuple[int, ...] = (1, 2, 3)) -> int:
    async with sessions() as session:
        row = EnpsCampaign(
            name="staff",
            company="ACME",
            chat_id=-100,
            cron="0 10 1 * *",
            language="en",
            round_days=7,
            min_group_size=5,
            created_at=NOW,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        await enps.add_members(session, campaign_id=row.id, user_ids=members, now=NOW)
        await session.commit()
        return row.id


async def opened(sessions: SessionFactory, campaign_id: int) -> tuple[int, list[int]]:
    async with sessions() as session:
        round_row = await enps.insert_round(session, campaign_id=campaign_id, plan=PLAN)
        assert round_row.id is not None
        ids = [
            await invitations.insert_invitation(session, round_id=round_row.id, user_id=user_id)
            for user_id, _language in await enps.members_to_ask(session, campaign_id=campaign_id)
        ]
        await session.commit()
        return round_row.id, ids


async def test_members_are_added_once_and_joined_by_the_link(sessions: SessionFactory) -> None:
    campaign_id = await campaign(sessions)
    async with sessions() as session:
        assert (
            await enps.add_members(session, campaign_id=campaign_id, user_ids=[3, 4], now=NOW) == 1
        )
        assert await enps.join(session, campaign_id=campaign_id, user_id=1, now=NOW)
        assert not await enps.join(session, campaign_id=campaign_id, user_id=1, now=NOW)
        assert await enps.join(session, campaign_id=campaign_id, user_id=9, now=NOW)
        assert await enps.remove_members(session, campaign_id=campaign_id, user_ids=[4, 99]) == 1
        await session.commit()
        assert await enps.member_counts(session, campaign_id=campaign_id) == {
            "joined": 2,
            "invited": 2,
        }


async def test_a_round_asks_members_who_can_be_asked(sessions: SessionFactory) -> None:
    campaign_id = await campaign(sessions, members=(1, 2, 3, 4))
    async with sessions() as session:
        session.add(TelegramUser(id=2, language="ru", created_at=NOW))
        session.add(TelegramUser(id=3, opted_out_at=NOW, created_at=NOW))  # said /stop
        member = (await session.exec(select(EnpsMember).where(EnpsMember.user_id == 4))).one()
        member.status = "unreachable"
        await session.commit()
        assert await enps.members_to_ask(session, campaign_id=campaign_id) == [(1, None), (2, "ru")]


async def test_one_round_per_scheduled_run(sessions: SessionFactory) -> None:
    campaign_id = await campaign(sessions)
    await opened(sessions, campaign_id)
    async with sessions() as session:
        with pytest.raises(IntegrityError):
            await enps.insert_round(session, campaign_id=campaign_id, plan=PLAN)


async def test_a_score_is_stored_once_for_its_own_member_and_names_nobody(
    sessions: SessionFactory,
) -> None:
    campaign_id = await campaign(sessions)
    round_id, (first, second, _third) = await opened(sessions, campaign_id)
    async with sessions() as session:
        score = {"round_id": round_id, "score": 9}
        assert not await invitations.record_score(session, invitation_id=first, user_id=2, **score)
        assert await invitations.record_score(session, invitation_id=first, user_id=1, **score)
        assert not await invitations.record_score(session, invitation_id=first, user_id=1, **score)
        assert await invitations.record_score(
            session, invitation_id=second, user_id=2, round_id=round_id, score=3
        )
        await session.commit()
    async with sessions() as session:
        responses = (await session.exec(select(EnpsResponse))).all()
        assert sorted(r.score for r in responses) == [3, 9]
        assert all(len(r.id) == 32 and r.round_id == round_id for r in responses)
        waiting = await invitations.awaiting_comment(session, user_id=1, now=NOW)
        assert waiting is not None and waiting.id == first
        assert await invitations.finish(
            session, invitation_id=first, user_id=1, round_id=round_id, comment="Fine"
        )
        assert not await invitations.finish(
            session, invitation_id=first, user_id=1, round_id=round_id, comment="Again"
        )
        await session.commit()
        assert [c.text for c in (await session.exec(select(EnpsComment))).all()] == ["Fine"]
        assert await invitations.awaiting_comment(session, user_id=1, now=NOW) is None


async def test_closing_is_once_and_settles_every_invitation(sessions: SessionFactory) -> None:
    campaign_id = await campaign(sessions)
    round_id, (first, second, _third) = await opened(sessions, campaign_id)
    async with sessions() as session:
        await invitations.record_score(
            session, invitation_id=first, user_id=1, round_id=round_id, score=10
        )
        await invitations.set_invitation_outbox(
            session,
            invitation_id=second,
            column="question_outbox_id",
            outbox_id=await _row(session),
        )
        await session.commit()
    async with sessions() as session:
        row = (await session.exec(select(EnpsInvitation).where(EnpsInvitation.id == second))).one()
        assert row.question_outbox_id is not None
        await invitations.question_failed(
            session, outbox_id=row.question_outbox_id, member_unreachable=True
        )
        assert [r.id for r in await enps.due_closes(session, now=PLAN.closes_at)] == [round_id]
        assert await enps.close_round(session, round_id=round_id, now=PLAN.closes_at)
        assert not await enps.close_round(session, round_id=round_id, now=PLAN.closes_at)
        await session.commit()
        counts = await enps.round_counts(session, round_id=round_id)
        assert (counts.invited, counts.answered, counts.unreachable) == (2, 1, 1)
        assert counts.scores == [10]
        statuses = dict(
            (await session.exec(select(EnpsInvitation.id, EnpsInvitation.status))).all()
        )
        assert statuses[first] == InvitationStatus.ANSWERED
        assert statuses[second] == InvitationStatus.UNREACHABLE
        member = (await session.exec(select(EnpsMember).where(EnpsMember.user_id == 2))).one()
        assert member.status == "unreachable"
        assert (await session.exec(select(EnpsRound.status))).one() == "closed"
        with pytest.raises(ValueError, match="outbox column"):
            await invitations.set_invitation_outbox(
                session, invitation_id=first, column="user_id", outbox_id=1
            )


async def test_closing_takes_back_questions_still_waiting_in_the_outbox(
    sessions: SessionFactory,
) -> None:
    campaign_id = await campaign(sessions)
    round_id, (first, second, _third) = await opened(sessions, campaign_id)
    async with sessions() as session:
        waiting, sent = await _row(session), await _row(session)
        for invitation_id, outbox_id in ((first, waiting), (second, sent)):
            await invitations.set_invitation_outbox(
                session,
                invitation_id=invitation_id,
                column="question_outbox_id",
                outbox_id=outbox_id,
            )
        await outbox.mark_sent(session, outbox_id=sent, message_id=77, now=NOW)
        await session.commit()
    async with sessions() as session:
        assert await enps.close_round(session, round_id=round_id, now=PLAN.closes_at)
        await session.commit()
    async with sessions() as session:
        rows = {row.id: row for row in (await session.exec(select(OutboxMessage))).all()}
    assert (rows[waiting].status, rows[waiting].last_error) == ("failed", enps.ROUND_CLOSED)
    assert rows[sent].status == "sent"  # what went out stays as it was


async def test_a_reminder_is_claimed_once(sessions: SessionFactory) -> None:
    campaign_id = await campaign(sessions)
    round_id, _ids = await opened(sessions, campaign_id)
    async with sessions() as session:
        assert await enps.due_reminders(session, now=PLAN.opened_at) == []
        assert [r.id for r in await enps.due_reminders(session, now=PLAN.remind_at or NOW)] == [
            round_id
        ]
        assert await enps.mark_reminded(session, round_id=round_id, now=NOW)
        assert not await enps.mark_reminded(session, round_id=round_id, now=NOW)
        await session.commit()


async def _row(session: AsyncSession) -> int:
    return await outbox.enqueue(
        session, method="sendMessage", chat_id=2, payload={}, purpose="enps", now=NOW
    )


async def test_closing_rewrites_the_answers_so_no_trace_of_their_writing_is_left(
    sessions: SessionFactory,
) -> None:
    campaign_id = await campaign(sessions)
    round_id, ids = await opened(sessions, campaign_id)
    for user_id, (invitation_id, score) in enumerate(zip(ids, (3, 9, 10), strict=True), start=1):
        async with sessions() as session:  # one transaction per press, as the bot does
            await invitations.record_score(
                session,
                invitation_id=invitation_id,
                user_id=user_id,
                round_id=round_id,
                score=score,
            )
            await invitations.finish(
                session,
                invitation_id=invitation_id,
                user_id=user_id,
                round_id=round_id,
                comment=f"c{score}",
            )
            await session.commit()
    async with sessions() as session:
        before = set((await session.exec(select(EnpsResponse.id))).all())
        assert await enps.close_round(session, round_id=round_id, now=PLAN.closes_at)
        await session.commit()
    async with sessions() as session:
        after = (await session.exec(select(EnpsResponse))).all()
        assert not before & {row.id for row in after}
        assert sorted(row.score for row in after) == [3, 9, 10]
        assert sorted(await enps.round_comments(session, round_id=round_id)) == ["c10", "c3", "c9"]


async def test_forget_takes_a_member_out_and_keeps_the_counts(sessions: SessionFactory) -> None:
    campaign_id = await campaign(sessions)
    round_id, (first, *_rest) = await opened(sessions, campaign_id)
    async with sessions() as session:
        await invitations.record_score(
            session, invitation_id=first, user_id=1, round_id=round_id, score=8
        )
        await clients.forget(session, user_id=1, now=NOW)
        await session.commit()
    async with sessions() as session:
        assert await enps.member_counts(session, campaign_id=campaign_id) == {"invited": 2}
        users = set((await session.exec(select(EnpsInvitation.user_id))).all())
        assert users == {-first, 2, 3}
        counts = await enps.round_counts(session, round_id=round_id)
        assert (counts.invited, counts.answered, counts.scores) == (3, 1, [8])

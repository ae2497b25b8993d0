"""Employee NPS queries: campaigns, members, rounds and their anonymous answers.

Answers (``enps_response``, ``enps_comment``) name a round and nothing else: no member, no
time, a random key. Who was asked lives in ``storage.enps_invitations``. Opening, reminding and
closing a round are compare-and-sets, so instances running the same schedule do each once.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, update
from sqlalchemy.engine import CursorResult
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.enps import (
    ASKED,
    OPEN_FOR_SCORE,
    RESPONDED,
    InvitationStatus,
    MemberStatus,
    RoundPlan,
    RoundStatus,
)
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
from storage.outbox import OutboxStatus

ROUND_CLOSED = "the round closed before the question went out"


def random_id() -> str:
    """A key that says nothing about when its row was written (unlike a sequence)."""
    return secrets.token_hex(16)


def changed(result: object) -> int:
    """Rows an UPDATE or DELETE matched: a compare-and-set won when it is 1."""
    assert isinstance(result, CursorResult)  # noqa: S101  (UPDATE/DELETE results)
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class RoundCounts:
    """A round's raw numbers, before the anonymity rule decides what may be shown."""

    score_counts: tuple[int, ...]  # answers per score 0..10
    invited: int  # invitations the question reached or may still reach
    answered: int
    unreachable: int

    @property
    def scores(self) -> list[int]:
        """The scores as a list (their order means nothing)."""
        return [score for score, count in enumerate(self.score_counts) for _ in range(count)]


async def campaign_by_name(session: AsyncSession, name: str) -> EnpsCampaign | None:
    """The campaign called ``name``."""
    return (await session.exec(select(EnpsCampaign).where(col(EnpsCampaign.name) == name))).first()


async def active_campaigns(session: AsyncSession) -> Sequence[EnpsCampaign]:
    """Campaigns whose schedule runs."""
    query = select(EnpsCampaign).where(col(EnpsCampaign.active).is_(True))
    return (await session.exec(query.order_by(col(EnpsCampaign.id)))).all()


async def all_campaigns(session: AsyncSession) -> Sequence[EnpsCampaign]:
    """Every campaign, oldest first."""
    return (await session.exec(select(EnpsCampaign).order_by(col(EnpsCampaign.id)))).all()


async def add_members(
    session: AsyncSession, *, campaign_id: int, user_ids: Collection[int], now: datetime
) -> int:
    """Add members by Telegram id (``invited`` until they open the link); returns how many."""
    existing = set(
        (
            await session.exec(
                select(EnpsMember.user_id)
                .where(col(EnpsMember.campaign_id) == campaign_id)
                .where(col(EnpsMember.user_id).in_(list(user_ids)))
            )
        ).all()
    )
    fresh = sorted(set(user_ids) - existing)
    for user_id in fresh:
        session.add(
            EnpsMember(
                campaign_id=campaign_id,
                user_id=user_id,
                status=MemberStatus.INVITED,
                created_at=now,
            )
        )
    await session.flush()
    return len(fresh)


async def remove_members(
    session: AsyncSession, *, campaign_id: int, user_ids: Collection[int]
) -> int:
    """Take members out of future rounds; returns how many were in the campaign."""
    result = await session.exec(
        delete(EnpsMember)
        .where(col(EnpsMember.campaign_id) == campaign_id)
        .where(col(EnpsMember.user_id).in_(list(user_ids)))
    )
    return changed(result)


async def join(session: AsyncSession, *, campaign_id: int, user_id: int, now: datetime) -> bool:
    """Make ``user_id`` a joined member (they opened the link); False if they already were."""
    member = (
        await session.exec(
            select(EnpsMember)
            .where(col(EnpsMember.campaign_id) == campaign_id)
            .where(col(EnpsMember.user_id) == user_id)
        )
    ).first()
    if member is None:
        session.add(
            EnpsMember(
                campaign_id=campaign_id,
                user_id=user_id,
                status=MemberStatus.JOINED,
                joined_at=now,
                created_at=now,
            )
        )
        await session.flush()
        return True
    if member.status == MemberStatus.JOINED:
        return False
    member.status = MemberStatus.JOINED
    member.joined_at = now
    session.add(member)
    await session.flush()
    return True


async def member_counts(session: AsyncSession, *, campaign_id: int) -> dict[str, int]:
    """Members per status."""
    rows = await session.exec(
        select(EnpsMember.status, func.count())
        .where(col(EnpsMember.campaign_id) == campaign_id)
        .group_by(col(EnpsMember.status))
    )
    return {status: int(count) for status, count in rows.all()}


async def members_to_ask(
    session: AsyncSession, *, campaign_id: int
) -> list[tuple[int, str | None]]:
    """(user id, their own /language choice) of members a round asks; /stop is respected."""
    query = (
        select(EnpsMember.user_id, TelegramUser.language)
        .join(TelegramUser, col(TelegramUser.id) == col(EnpsMember.user_id), isouter=True)
        .where(col(EnpsMember.campaign_id) == campaign_id)
        .where(col(EnpsMember.status).in_([str(status) for status in ASKED]))
        .where(col(TelegramUser.opted_out_at).is_(None))
        .order_by(col(EnpsMember.user_id))
    )
    return [(int(user_id), language) for user_id, language in (await session.exec(query)).all()]


async def round_for(
    session: AsyncSession, *, campaign_id: int, scheduled_for: datetime
) -> EnpsRound | None:
    """The round of one scheduled run, if it was opened."""
    return (
        await session.exec(
            select(EnpsRound)
            .where(col(EnpsRound.campaign_id) == campaign_id)
            .where(col(EnpsRound.scheduled_for) == scheduled_for)
        )
    ).first()


async def open_rounds(session: AsyncSession, *, campaign_id: int) -> Sequence[EnpsRound]:
    """A campaign's rounds still taking answers."""
    return (
        await session.exec(
            select(EnpsRound)
            .where(col(EnpsRound.campaign_id) == campaign_id)
            .where(col(EnpsRound.status) == RoundStatus.OPEN)
        )
    ).all()


async def insert_round(session: AsyncSession, *, campaign_id: int, plan: RoundPlan) -> EnpsRound:
    """Store a new round (the unique key refuses a second one for the same run)."""
    row = EnpsRound(
        campaign_id=campaign_id,
        scheduled_for=plan.scheduled_for,
        opened_at=plan.opened_at,
        remind_at=plan.remind_at,
        closes_at=plan.closes_at,
        status=RoundStatus.OPEN,
    )
    session.add(row)
    await session.flush()
    return row


async def due_reminders(session: AsyncSession, *, now: datetime) -> Sequence[EnpsRound]:
    """Open rounds whose reminder time has come and which have not reminded yet."""
    return (
        await session.exec(
            select(EnpsRound)
            .where(col(EnpsRound.status) == RoundStatus.OPEN)
            .where(col(EnpsRound.remind_at) <= now)
            .where(col(EnpsRound.reminded_at).is_(None))
            .where(col(EnpsRound.closes_at) > now)
        )
    ).all()


async def mark_reminded(session: AsyncSession, *, round_id: int, now: datetime) -> bool:
    """Compare-and-set the round's one reminder, so instances never remind twice."""
    result = await session.exec(
        update(EnpsRound)
        .where(col(EnpsRound.id) == round_id)
        .where(col(EnpsRound.reminded_at).is_(None))
        .values(reminded_at=now)
    )
    return changed(result) == 1


async def due_closes(session: AsyncSession, *, now: datetime) -> Sequence[EnpsRound]:
    """Open rounds past their closing time."""
    return (
        await session.exec(
            select(EnpsRound)
            .where(col(EnpsRound.status) == RoundStatus.OPEN)
            .where(col(EnpsRound.closes_at) <= now)
            .order_by(col(EnpsRound.id))
        )
    ).all()


async def close_round(session: AsyncSession, *, round_id: int, now: datetime) -> bool:
    """Compare-and-set ``open -> closed``; what was not scored expires, what was is answered."""
    result = await session.exec(
        update(EnpsRound)
        .where(col(EnpsRound.id) == round_id)
        .where(col(EnpsRound.status) == RoundStatus.OPEN)
        .values(status=RoundStatus.CLOSED, closed_at=now)
    )
    if changed(result) != 1:
        return False
    # Invitations first: a press or comment committing meanwhile holds its invitation's row,
    # so these wait for it, and the rewrite below (a later statement) sees its answer. Rewritten
    # first, a score pressed in the last moment kept the row, and the trace, of its press.
    await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.round_id) == round_id)
        .where(col(EnpsInvitation.status).in_([str(s) for s in OPEN_FOR_SCORE]))
        .values(status=InvitationStatus.EXPIRED)
    )
    # A question still waiting in the outbox (a member whose chat was held by a flood limit, or
    # Telegram away) would arrive after the close and ask for an answer no one can give.
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(
                select(EnpsInvitation.question_outbox_id).where(
                    col(EnpsInvitation.round_id) == round_id
                )
            )
        )
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, last_error=ROUND_CLOSED)
    )
    await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.round_id) == round_id)
        .where(col(EnpsInvitation.status) == InvitationStatus.SCORED)
        .values(status=InvitationStatus.ANSWERED)
    )
    await _rewrite_answers(session, round_id=round_id)
    return True


async def _rewrite_answers(session: AsyncSession, *, round_id: int) -> None:
    """Write the round's scores and comments again, shuffled, with fresh keys.

    While a round is open, a row still carries traces of when it was written: SQLite's hidden
    rowid grows with each insert, and PostgreSQL stamps each row with the id of the transaction
    that wrote it, the transaction that also queued the member's "recorded" message. Rewritten
    at the close in one transaction and in random order, the live tables keep neither.
    """
    shuffle = secrets.SystemRandom().shuffle
    connection = await session.connection()
    for table, column in ((EnpsResponse, "score"), (EnpsComment, "text")):
        field = getattr(table, column)
        values = list(
            (await session.exec(select(field).where(col(table.round_id) == round_id))).all()
        )
        if not values:
            continue
        shuffle(values)
        await session.exec(delete(table).where(col(table.round_id) == round_id))
        await connection.execute(
            insert(table),
            [{"id": random_id(), "round_id": round_id, column: value} for value in values],
        )


async def round_counts(session: AsyncSession, *, round_id: int) -> RoundCounts:
    """Answers per score from the responses, and how many were invited and answered."""
    per_score = [0] * 11
    for score, count in (
        await session.exec(
            select(EnpsResponse.score, func.count())
            .where(col(EnpsResponse.round_id) == round_id)
            .group_by(col(EnpsResponse.score))
        )
    ).all():
        per_score[int(score)] = int(count)
    statuses = dict(
        (
            await session.exec(
                select(EnpsInvitation.status, func.count())
                .where(col(EnpsInvitation.round_id) == round_id)
                .group_by(col(EnpsInvitation.status))
            )
        ).all()
    )
    unreachable = int(statuses.get(InvitationStatus.UNREACHABLE, 0))
    answered = sum(int(statuses.get(status, 0)) for status in RESPONDED)
    invited = sum(int(count) for count in statuses.values()) - unreachable
    return RoundCounts(tuple(per_score), invited, answered, unreachable)


async def round_comments(session: AsyncSession, *, round_id: int) -> list[str]:
    """A round's comments in the order of their random keys: an order that tells nothing."""
    query = (
        select(EnpsComment.text)
        .where(col(EnpsComment.round_id) == round_id)
        .order_by(col(EnpsComment.id))
    )
    return list((await session.exec(query)).all())


async def previous_round(session: AsyncSession, *, current: EnpsRound) -> EnpsRound | None:
    """The campaign's last closed round before ``current``."""
    return (
        await session.exec(
            select(EnpsRound)
            .where(col(EnpsRound.campaign_id) == current.campaign_id)
            .where(col(EnpsRound.status) == RoundStatus.CLOSED)
            .where(col(EnpsRound.scheduled_for) < current.scheduled_for)
            .order_by(col(EnpsRound.scheduled_for).desc())
            .limit(1)
        )
    ).first()


async def last_closed_round(session: AsyncSession, *, campaign_id: int) -> EnpsRound | None:
    """The campaign's latest closed round."""
    return (
        await session.exec(
            select(EnpsRound)
            .where(col(EnpsRound.campaign_id) == campaign_id)
            .where(col(EnpsRound.status) == RoundStatus.CLOSED)
            .order_by(col(EnpsRound.scheduled_for).desc())
            .limit(1)
        )
    ).first()


async def set_digest(session: AsyncSession, *, round_id: int, outbox_id: int | None) -> None:
    """Remember (or forget, when Telegram refused it) the outbox row of a round's digest."""
    await session.exec(
        update(EnpsRound).where(col(EnpsRound.id) == round_id).values(digest_outbox_id=outbox_id)
    )


async def round_of_digest(session: AsyncSession, *, outbox_id: int) -> int | None:
    """The round whose digest an outbox row carries."""
    found = await session.exec(
        select(EnpsRound.id).where(col(EnpsRound.digest_outbox_id) == outbox_id)
    )
    return found.first()

"""Employee NPS invitations: who was asked in a round, and the press and comment that end it.

An invitation names the member and never their answer. The score is written to
``enps_response`` (``storage.enps``) in the transaction that moves the invitation to ``scored``,
and the two rows share nothing but the round. Every change is a compare-and-set, so a repeated
or forged press changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.enps import OPEN_FOR_SCORE, InvitationStatus, MemberStatus, RoundStatus
from storage.enps import changed, random_id
from storage.models import (
    EnpsCampaign,
    EnpsComment,
    EnpsInvitation,
    EnpsMember,
    EnpsResponse,
    EnpsRound,
)


@dataclass(frozen=True, slots=True)
class InvitationContext:
    """An invitation with its round and campaign, as a press or a comment is checked."""

    invitation: EnpsInvitation
    round: EnpsRound
    campaign: EnpsCampaign

    @property
    def id(self) -> int:
        """The invitation's id (loaded rows have one)."""
        assert self.invitation.id is not None  # noqa: S101
        return self.invitation.id

    @property
    def round_id(self) -> int:
        """The round's id."""
        assert self.round.id is not None  # noqa: S101
        return self.round.id


async def has_invitation(session: AsyncSession, *, round_id: int, user_id: int) -> bool:
    """Whether the member was already asked in this round."""
    found = await session.exec(
        select(EnpsInvitation.id)
        .where(col(EnpsInvitation.round_id) == round_id)
        .where(col(EnpsInvitation.user_id) == user_id)
    )
    return found.first() is not None


async def reopen_unreachable(session: AsyncSession, *, round_id: int, user_id: int) -> int | None:
    """Compare-and-set ``unreachable -> queued`` for a member who can be written to now (they
    opened the link); the invitation's id, or None if they had no refused question here."""
    invitation_id = (
        await session.exec(
            select(EnpsInvitation.id)
            .where(col(EnpsInvitation.round_id) == round_id)
            .where(col(EnpsInvitation.user_id) == user_id)
        )
    ).first()
    if invitation_id is None:
        return None
    result = await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.id) == invitation_id)
        .where(col(EnpsInvitation.status) == InvitationStatus.UNREACHABLE)
        .values(status=InvitationStatus.QUEUED, message_id=None)
    )
    return invitation_id if changed(result) == 1 else None


async def insert_invitation(session: AsyncSession, *, round_id: int, user_id: int) -> int:
    """A member's invitation to a round, ``queued``; returns its id."""
    connection = await session.connection()
    result = await connection.execute(
        insert(EnpsInvitation).returning(col(EnpsInvitation.id)),
        {"round_id": round_id, "user_id": user_id, "status": InvitationStatus.QUEUED},
    )
    invitation_id: int | None = result.scalar_one()
    assert invitation_id is not None  # noqa: S101  (RETURNING of a primary key)
    return invitation_id


async def set_invitation_outbox(
    session: AsyncSession, *, invitation_id: int, column: str, outbox_id: int
) -> None:
    """Remember which outbox row carries the question (``question_outbox_id``) or the comment
    prompt (``prompt_outbox_id``), so later edits can name it."""
    if column not in {"question_outbox_id", "prompt_outbox_id"}:
        raise ValueError(f"not an outbox column of an invitation: {column}")
    await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.id) == invitation_id)
        .values({column: outbox_id})
    )


async def question_delivered(
    session: AsyncSession, *, outbox_id: int, message_id: int | None
) -> None:
    """The question is in the member's chat: ``queued -> sent``, and its message id kept."""
    await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.question_outbox_id) == outbox_id)
        .values(message_id=message_id)
    )
    await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.question_outbox_id) == outbox_id)
        .where(col(EnpsInvitation.status) == InvitationStatus.QUEUED)
        .values(status=InvitationStatus.SENT)
    )


async def question_failed(
    session: AsyncSession, *, outbox_id: int, member_unreachable: bool
) -> None:
    """Telegram refused the question: the invitation ends, and the member too if they cannot
    be written to (never started the bot, or blocked it) until they open the link again."""
    invitation = (
        await session.exec(
            select(EnpsInvitation).where(col(EnpsInvitation.question_outbox_id) == outbox_id)
        )
    ).first()
    if invitation is None:
        return
    await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.id) == invitation.id)
        .where(col(EnpsInvitation.status).in_([str(s) for s in OPEN_FOR_SCORE]))
        .values(status=InvitationStatus.UNREACHABLE)
    )
    if not member_unreachable:
        return
    round_row = await session.get(EnpsRound, invitation.round_id)
    if round_row is None:
        return
    await session.exec(
        update(EnpsMember)
        .where(col(EnpsMember.campaign_id) == round_row.campaign_id)
        .where(col(EnpsMember.user_id) == invitation.user_id)
        .values(status=MemberStatus.UNREACHABLE)
    )


async def load_invitation(session: AsyncSession, *, invitation_id: int) -> InvitationContext | None:
    """An invitation with its round and campaign."""
    row = (
        await session.exec(
            select(EnpsInvitation, EnpsRound, EnpsCampaign)
            .join(EnpsRound, col(EnpsRound.id) == col(EnpsInvitation.round_id))
            .join(EnpsCampaign, col(EnpsCampaign.id) == col(EnpsRound.campaign_id))
            .where(col(EnpsInvitation.id) == invitation_id)
        )
    ).first()
    return None if row is None else InvitationContext(*row)


async def record_score(
    session: AsyncSession, *, invitation_id: int, user_id: int, round_id: int, score: int
) -> bool:
    """Compare-and-set ``queued|sent -> scored`` for the invitation's own member, and store the
    score with nothing that names them; False (nothing stored) if the press was not theirs
    or came a second time."""
    result = await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.id) == invitation_id)
        .where(col(EnpsInvitation.user_id) == user_id)
        .where(col(EnpsInvitation.round_id) == round_id)
        .where(col(EnpsInvitation.status).in_([str(s) for s in OPEN_FOR_SCORE]))
        .values(status=InvitationStatus.SCORED)
    )
    if changed(result) != 1:
        return False
    connection = await session.connection()
    await connection.execute(
        insert(EnpsResponse), {"id": random_id(), "round_id": round_id, "score": score}
    )
    return True


async def awaiting_comment(
    session: AsyncSession, *, user_id: int, now: datetime
) -> InvitationContext | None:
    """The member's latest invitation of an open round that waits for a comment."""
    row = (
        await session.exec(
            select(EnpsInvitation, EnpsRound, EnpsCampaign)
            .join(EnpsRound, col(EnpsRound.id) == col(EnpsInvitation.round_id))
            .join(EnpsCampaign, col(EnpsCampaign.id) == col(EnpsRound.campaign_id))
            .where(col(EnpsInvitation.user_id) == user_id)
            .where(col(EnpsInvitation.status) == InvitationStatus.SCORED)
            .where(col(EnpsRound.status) == RoundStatus.OPEN)
            .where(col(EnpsRound.closes_at) > now)
            .order_by(col(EnpsInvitation.id).desc())
            .limit(1)
        )
    ).first()
    return None if row is None else InvitationContext(*row)


async def finish(
    session: AsyncSession,
    *,
    invitation_id: int,
    user_id: int,
    round_id: int,
    comment: str | None,
) -> bool:
    """Compare-and-set ``scored -> answered``; a comment is stored apart from the score."""
    result = await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.id) == invitation_id)
        .where(col(EnpsInvitation.user_id) == user_id)
        .where(col(EnpsInvitation.status) == InvitationStatus.SCORED)
        .values(status=InvitationStatus.ANSWERED)
    )
    if changed(result) != 1:
        return False
    if comment:
        connection = await session.connection()
        await connection.execute(
            insert(EnpsComment), {"id": random_id(), "round_id": round_id, "text": comment}
        )
    return True


async def unanswered(session: AsyncSession, *, round_id: int) -> Sequence[EnpsInvitation]:
    """Invitations whose question is in the member's chat without a score."""
    return (
        await session.exec(
            select(EnpsInvitation)
            .where(col(EnpsInvitation.round_id) == round_id)
            .where(col(EnpsInvitation.status) == InvitationStatus.SENT)
            .where(col(EnpsInvitation.message_id).is_not(None))
            .order_by(col(EnpsInvitation.id))
        )
    ).all()


async def forget_member(session: AsyncSession, *, user_id: int) -> None:
    """/forget: the person leaves every campaign, and past invitations stop naming them.

    Invitations keep counting (a round's response rate does not change) under an id no
    Telegram user has: minus the invitation's own id. Their anonymous answers stay: nothing
    says which they are, which is the point.
    """
    await session.exec(delete(EnpsMember).where(col(EnpsMember.user_id) == user_id))
    await session.exec(
        update(EnpsInvitation)
        .where(col(EnpsInvitation.user_id) == user_id)
        .values(user_id=-col(EnpsInvitation.id))
    )

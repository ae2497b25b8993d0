"""A member's side of a campaign: joining by its link, the score press, the comment and Skip.

Each state change is a compare-and-set on the invitation, in the transaction that writes the
anonymous answer and the replies (outbox rows), so a forged press, a double tap, another
person's press or a crash cannot record or send anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import deeplink
from bot.core.callback import EnpsPress
from bot.core.clock import Clock
from bot.core.deeplink import LinkKind
from bot.core.enps import OPEN_FOR_SCORE, InvitationStatus, RoundStatus, effective_min_group
from bot.core.text import database_safe
from bot.delivery.payloads import SendMessage
from bot.delivery.purposes import Purpose
from bot.enps import texts
from bot.enps.rounds import EnpsRounds, member_translator
from bot.i18n import normalize_language, translator
from storage import clients, enps, outbox, survey_queries
from storage import enps_invitations as invitations
from storage.db import SessionFactory
from storage.enps_invitations import InvitationContext
from storage.models import EnpsCampaign, OutboxMessage, TelegramUser

logger = logging.getLogger(__name__)


def join_payload(link_secret: bytes, campaign_id: int, *, now: datetime, ttl: timedelta) -> str:
    """The ``start`` payload of a campaign's join link, signed as every deep link is."""
    return deeplink.make_payload(link_secret, LinkKind.CAMPAIGN, campaign_id, now + ttl)


@dataclass(frozen=True, slots=True)
class EnpsAnswers:
    """Joins, scores and comments of campaign members."""

    session_factory: SessionFactory
    rounds: EnpsRounds
    link_secret: bytes
    wake: Callable[[], None]
    clock: Clock

    async def join(self, *, payload: str, user_id: int, chat_id: int, language: str | None) -> bool:
        """``/start e…``: join the campaign, and get the question of a round already open."""
        now = self.clock()
        claim = deeplink.read_payload(self.link_secret, payload)
        async with self.session_factory() as session:
            campaign = (
                await session.get(EnpsCampaign, claim.target_id)
                if claim is not None and claim.kind is LinkKind.CAMPAIGN and not claim.expired(now)
                else None
            )
            own = await session.get(TelegramUser, user_id)
            if campaign is None or not campaign.active or campaign.id is None:
                logger.info("refused a campaign link that is forged, expired or of no campaign")
                tr = translator(normalize_language(own.language if own else language))
                await self._say(session, chat_id, texts.bad_link_payload(tr), now)
                await session.commit()
                self.wake()
                return False
            # Opening the link is asking to be asked, as with a customer's link.
            await clients.opt_in(session, user_id=user_id)
            fresh = await enps.join(session, campaign_id=campaign.id, user_id=user_id, now=now)
            own_choice = own.language if own else None
            tr = member_translator(own_choice, campaign)
            reply = texts.joined_payload(
                tr, campaign=campaign.name, company=campaign.company, already=not fresh
            )
            await self._say(session, chat_id, reply, now)
            for round_row in await enps.open_rounds(session, campaign_id=campaign.id):
                if round_row.id is None:
                    continue
                if not await invitations.has_invitation(
                    session, round_id=round_row.id, user_id=user_id
                ):
                    await self.rounds.ask(
                        session, campaign, round_row, user_id=user_id, language=own_choice
                    )
                # Added by id before they had started the bot, their question was refused:
                # now the bot can write to them, so this round asks them after all.
                elif refused := await invitations.reopen_unreachable(
                    session, round_id=round_row.id, user_id=user_id
                ):
                    await self.rounds.send_question(
                        session,
                        campaign,
                        invitation_id=refused,
                        user_id=user_id,
                        language=own_choice,
                    )
            await session.commit()
        self.wake()
        return True

    @staticmethod
    async def _say(
        session: AsyncSession, chat_id: int, payload: SendMessage, now: datetime
    ) -> None:
        await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload=payload,
            purpose=Purpose.ENPS_MEMBER,
            now=now,
        )

    async def press(self, press: EnpsPress, *, presser_id: int, language: str | None) -> str:
        """A score or Skip: the toast to show (never the score)."""
        now = self.clock()
        async with self.session_factory() as session:
            context = await invitations.load_invitation(session, invitation_id=press.invitation_id)
            if context is None:
                return texts.press_answer(translator(normalize_language(language)), "unknown")
            own = await session.get(TelegramUser, presser_id)
            tr = member_translator(own.language if own else None, context.campaign)
            rejection = self._rejection(context, presser_id, now, skip=press.score is None)
            if rejection is not None:
                return texts.press_answer(tr, rejection)
            if press.score is None:
                done = await self._finish(session, context, comment=None, now=now)
                await session.commit()
                self.wake()
                return texts.press_answer(tr, None if done else "already_answered")
            if not await invitations.record_score(
                session,
                invitation_id=context.id,
                user_id=presser_id,
                round_id=context.round_id,
                score=press.score,
            ):
                return texts.press_answer(tr, "already_answered")
            campaign, invitation = context.campaign, context.invitation
            await outbox.enqueue(
                session,
                method="editMessageText",
                chat_id=invitation.user_id,
                payload=texts.recorded_payload(
                    tr,
                    campaign=campaign.name,
                    company=campaign.company,
                    min_group=effective_min_group(campaign.min_group_size),
                ),
                purpose=Purpose.ENPS_MEMBER,
                now=now,
                target_outbox_id=invitation.question_outbox_id,
            )
            prompt_id = await outbox.enqueue(
                session,
                method="sendMessage",
                chat_id=invitation.user_id,
                payload=texts.comment_payload(tr, invitation_id=context.id),
                purpose=Purpose.ENPS_MEMBER,
                now=now,
            )
            await invitations.set_invitation_outbox(
                session, invitation_id=context.id, column="prompt_outbox_id", outbox_id=prompt_id
            )
            await session.commit()
        self.wake()
        return texts.press_answer(tr, None)

    @staticmethod
    def _rejection(
        context: InvitationContext, presser_id: int, now: datetime, *, skip: bool
    ) -> str | None:
        if context.invitation.user_id != presser_id:
            return "not_yours"
        if context.round.status != RoundStatus.OPEN or context.round.closes_at <= now:
            return "closed"
        status = context.invitation.status
        if skip:
            return None if status == InvitationStatus.SCORED else "already_answered"
        return None if status in OPEN_FOR_SCORE else "already_answered"

    async def comment(self, *, chat_id: int, user_id: int, text: str) -> bool:
        """A private text: the comment, if the member's round waits for one."""
        now = self.clock()
        async with self.session_factory() as session:
            context = await invitations.awaiting_comment(session, user_id=user_id, now=now)
            if context is None or chat_id != user_id:
                return False
            if await self._customer_asked_since(session, context, chat_id):
                return False  # the person answers the bot's latest question: the customer one
            comment = database_safe(text).strip() or None
            if not await self._finish(session, context, comment=comment, now=now):
                return False
            await session.commit()
        self.wake()
        return True

    @staticmethod
    async def _customer_asked_since(
        session: AsyncSession, context: InvitationContext, chat_id: int
    ) -> bool:
        """Whether a customer survey in this chat asked for its comment after our prompt.

        An employee can be a client too, and the eNPS prompt waits for the whole round: text
        meant for the customer survey ("What went wrong?") must not land in the team's digest.
        """
        customer_asked = await survey_queries.comment_asked_at(session, chat_id=chat_id)
        if customer_asked is None:
            return False
        prompt_id = context.invitation.prompt_outbox_id
        prompt = None if prompt_id is None else await session.get(OutboxMessage, prompt_id)
        return prompt is None or customer_asked > prompt.created_at

    async def _finish(
        self,
        session: AsyncSession,
        context: InvitationContext,
        *,
        comment: str | None,
        now: datetime,
    ) -> bool:
        """``scored -> answered`` with the comment kept apart, the prompt closed, thanks sent."""
        invitation = context.invitation
        if not await invitations.finish(
            session,
            invitation_id=context.id,
            user_id=invitation.user_id,
            round_id=context.round_id,
            comment=comment,
        ):
            return False
        own = await session.get(TelegramUser, invitation.user_id)
        tr = member_translator(own.language if own else None, context.campaign)
        if invitation.prompt_outbox_id is not None:
            await outbox.enqueue(
                session,
                method="editMessageText",
                chat_id=invitation.user_id,
                payload=texts.comment_closed_payload(tr),
                purpose=Purpose.ENPS_MEMBER,
                now=now,
                target_outbox_id=invitation.prompt_outbox_id,
            )
        await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=invitation.user_id,
            payload=texts.thanks_payload(tr),
            purpose=Purpose.ENPS_MEMBER,
            now=now,
        )
        return True

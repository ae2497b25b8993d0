"""Rounds: opened on the campaign's schedule, reminded once, closed with their digest.

``tick`` is all the scheduler calls. It reads the database, so a round due while the bot was
down is opened at the next start, a close that was missed is made then, and several instances
may tick together: each campaign's work runs under a PostgreSQL advisory lock, the round's
unique (campaign, scheduled run) row refuses a second opening, and closing is a compare-and-set
in the transaction that queues the digest, so the digest is posted once per round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.enps import effective_min_group, plan_round, round_figures, round_to_open
from bot.delivery.dispatcher import PurposeHooks
from bot.delivery.payloads import SendMessage
from bot.delivery.policy import Cause, Decision
from bot.delivery.purposes import Purpose
from bot.enps import texts
from bot.enps.report import RoundReport, render_round
from bot.enps.schedule import last_fire
from bot.i18n import Translator, normalize_language, translator
from storage import enps, outbox
from storage import enps_invitations as invitations
from storage.db import SessionFactory
from storage.locks import try_transaction_lock
from storage.models import EnpsCampaign, EnpsRound
from storage.outbox import ClaimedCall, Priority

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OpenedRound:
    """A round that was opened, and how many members it asked."""

    round_id: int
    asked: int


def member_language(own_choice: str | None, campaign: EnpsCampaign) -> str:
    """The member's own /language choice, else the campaign's language."""
    return normalize_language(own_choice or campaign.language)


def member_translator(own_choice: str | None, campaign: EnpsCampaign) -> Translator:
    """The translator of ``member_language``."""
    return translator(member_language(own_choice, campaign))


def campaign_id(campaign: EnpsCampaign) -> int:
    """A stored campaign's id."""
    assert campaign.id is not None  # noqa: S101  (loaded rows have ids)
    return campaign.id


@dataclass(frozen=True, slots=True)
class EnpsRounds:
    """Opens, reminds and closes rounds, and posts each round's digest once."""

    session_factory: SessionFactory
    tz: ZoneInfo
    clock: Clock
    wake: Callable[[], None] = lambda: None

    async def tick(self) -> None:
        """Everything due now: rounds to close, then rounds to open, then reminders.

        Closing first lets a weekly round that closes as the next one is due hand over in one
        tick (one round is open at a time).
        """
        now = self.clock()
        await self._close_due(now)
        async with self.session_factory() as session:
            campaigns = list(await enps.active_campaigns(session))
        for campaign in campaigns:
            await self._open_scheduled(campaign, now)
        await self._remind(now)

    async def _open_scheduled(self, campaign: EnpsCampaign, now: datetime) -> None:
        duration = timedelta(days=campaign.round_days)
        fired = last_fire(campaign.cron, self.tz, now)
        due = round_to_open(fired, created_at=campaign.created_at, now=now, duration=duration)
        if due is not None:
            opened = await self.open_round(campaign, scheduled_for=due)
            if opened is not None:
                logger.info(
                    "eNPS campaign %d: round %d opened, %d members asked",
                    campaign_id(campaign),
                    opened.round_id,
                    opened.asked,
                )

    async def open_round(
        self, campaign: EnpsCampaign, *, scheduled_for: datetime
    ) -> OpenedRound | None:
        """Open the round of one run and queue every member's question; None if it exists."""
        now = self.clock()
        ident = campaign_id(campaign)
        plan = plan_round(
            scheduled_for=scheduled_for,
            now=now,
            duration=timedelta(days=campaign.round_days),
            remind_after=(
                timedelta(days=campaign.remind_after_days) if campaign.remind_after_days else None
            ),
        )
        async with self.session_factory() as session:
            # One round at a time: a run due while a manual round is open waits for its close
            # (and opens then, if still within its own window).
            if (
                not await try_transaction_lock(session, f"npsbot:enps:{ident}")
                or await enps.round_for(session, campaign_id=ident, scheduled_for=scheduled_for)
                or await enps.open_rounds(session, campaign_id=ident)
            ):
                return None
            try:
                row = await enps.insert_round(session, campaign_id=ident, plan=plan)
                assert row.id is not None  # noqa: S101  (flushed)
                asked = 0
                for user_id, language in await enps.members_to_ask(session, campaign_id=ident):
                    await self.ask(session, campaign, row, user_id=user_id, language=language)
                    asked += 1
                await session.commit()
            except IntegrityError:  # another instance opened it between our look and insert
                await session.rollback()
                return None
        self.wake()
        return OpenedRound(row.id, asked)

    async def ask(
        self,
        session: AsyncSession,
        campaign: EnpsCampaign,
        round_row: EnpsRound,
        *,
        user_id: int,
        language: str | None,
    ) -> int:
        """Invite one member to a round: the invitation and its question, in one transaction."""
        assert round_row.id is not None  # noqa: S101
        invitation_id = await invitations.insert_invitation(
            session, round_id=round_row.id, user_id=user_id
        )
        await self.send_question(
            session, campaign, invitation_id=invitation_id, user_id=user_id, language=language
        )
        return invitation_id

    async def send_question(
        self,
        session: AsyncSession,
        campaign: EnpsCampaign,
        *,
        invitation_id: int,
        user_id: int,
        language: str | None,
    ) -> None:
        """Queue an invitation's question, and remember its outbox row for the delivery hooks."""
        payload = texts.question_payload(
            member_translator(language, campaign),
            invitation_id=invitation_id,
            campaign=campaign.name,
            company=campaign.company,
            min_group=effective_min_group(campaign.min_group_size),
        )
        outbox_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=user_id,  # a private chat's id is its user's
            payload=payload,
            purpose=Purpose.ENPS_QUESTION,
            now=self.clock(),
        )
        await invitations.set_invitation_outbox(
            session, invitation_id=invitation_id, column="question_outbox_id", outbox_id=outbox_id
        )

    async def _remind(self, now: datetime) -> None:
        async with self.session_factory() as session:
            due = list(await enps.due_reminders(session, now=now))
        for round_row in due:
            assert round_row.id is not None  # noqa: S101
            async with self.session_factory() as session:
                campaign = await session.get(EnpsCampaign, round_row.campaign_id)
                if campaign is None or not await enps.mark_reminded(
                    session, round_id=round_row.id, now=now
                ):
                    continue
                waiting = await invitations.unanswered(session, round_id=round_row.id)
                languages = dict(
                    await enps.members_to_ask(session, campaign_id=round_row.campaign_id)
                )
                for invitation in waiting:
                    if invitation.user_id not in languages:  # /stop, or removed, since asked
                        continue
                    assert invitation.message_id is not None  # noqa: S101  (the query's filter)
                    language = member_language(languages.get(invitation.user_id), campaign)
                    closes = self._date(round_row.closes_at, language)
                    await outbox.enqueue(
                        session,
                        method="sendMessage",
                        chat_id=invitation.user_id,
                        payload=texts.reminder_payload(
                            translator(language),
                            question_message_id=invitation.message_id,
                            closes=closes,
                        ),
                        purpose=Purpose.ENPS_MEMBER,
                        now=now,
                        priority=Priority.BULK,  # a reminder: the round's schedule, not a reply
                    )
                await session.commit()
            self.wake()

    def _date(self, moment: datetime, language: str) -> str:
        """When a round closes, as the member reads dates and times."""
        local, locale = moment.astimezone(self.tz), language.replace("-", "_")
        day = format_date(local, "medium", locale=locale)
        return f"{day} {format_time(local, 'short', locale=locale)}"

    async def _close_due(self, now: datetime) -> None:
        async with self.session_factory() as session:
            due = list(await enps.due_closes(session, now=now))
        for round_row in due:
            await self.close(round_row)

    async def close(self, round_row: EnpsRound) -> bool:
        """Close a round and queue its digest, once; False if it was closed already."""
        assert round_row.id is not None  # noqa: S101
        now = self.clock()
        async with self.session_factory() as session:
            campaign = await session.get(EnpsCampaign, round_row.campaign_id)
            if (
                campaign is None
                or not await try_transaction_lock(session, f"npsbot:enps:{round_row.campaign_id}")
                or not await enps.close_round(session, round_id=round_row.id, now=now)
            ):
                return False
            text = await self.digest_text(session, campaign, round_row, html=True)
            digest_id = await outbox.enqueue(
                session,
                method="sendMessage",
                chat_id=campaign.chat_id,
                payload=SendMessage(text=text, parse_mode="HTML"),
                purpose=Purpose.ENPS_DIGEST,
                now=now,
            )
            await enps.set_digest(session, round_id=round_row.id, outbox_id=digest_id)
            await session.commit()
        self.wake()
        logger.info("eNPS round %d closed; its digest is queued", round_row.id)
        return True

    async def digest_text(
        self, session: AsyncSession, campaign: EnpsCampaign, round_row: EnpsRound, *, html: bool
    ) -> str:
        """The digest of a round, from the anonymous tables only."""
        assert round_row.id is not None  # noqa: S101
        counts = await enps.round_counts(session, round_id=round_row.id)
        before = await enps.previous_round(session, current=round_row)
        previous = None
        if before is not None and before.id is not None:
            previous = (await enps.round_counts(session, round_id=before.id)).scores
        figures = round_figures(
            scores=counts.scores,
            invited=counts.invited,
            answered=counts.answered,
            unreachable=counts.unreachable,
            min_group=campaign.min_group_size,
            previous_scores=previous,
        )
        report = RoundReport(
            campaign=campaign.name,
            opened_at=round_row.opened_at,
            closes_at=round_row.closes_at,
            figures=figures,
            comments=await enps.round_comments(session, round_id=round_row.id)
            if figures.reportable
            else (),
        )
        language = normalize_language(campaign.language)
        return render_round(
            report, tz=self.tz, translator=translator(language), language=language, html=html
        )

    def delivery_hooks(self) -> dict[Purpose, PurposeHooks]:
        """The question's delivery moves its invitation, and a refusal ends it; a digest
        Telegram refused is logged (``npsbot campaign digest`` prints its text)."""
        return {
            Purpose.ENPS_QUESTION: PurposeHooks(delivered=self._delivered, failed=self._failed),
            Purpose.ENPS_DIGEST: PurposeHooks(failed=self._digest_failed),
        }

    async def _delivered(
        self, session: AsyncSession, call: ClaimedCall, message_id: int | None, now: datetime
    ) -> None:
        await invitations.question_delivered(session, outbox_id=call.id, message_id=message_id)

    async def _failed(
        self, session: AsyncSession, call: ClaimedCall, decision: Decision, now: datetime
    ) -> None:
        gone = decision.cause in (Cause.BLOCKED, Cause.NO_CHAT)
        await invitations.question_failed(session, outbox_id=call.id, member_unreachable=gone)
        logger.info("an eNPS question was not delivered (%s)", decision.reason)

    async def _digest_failed(
        self, session: AsyncSession, call: ClaimedCall, decision: Decision, now: datetime
    ) -> None:
        round_id = await enps.round_of_digest(session, outbox_id=call.id)
        if round_id is not None:
            await enps.set_digest(session, round_id=round_id, outbox_id=None)
        logger.error("the digest of eNPS round %s was refused (%s)", round_id, decision.reason)

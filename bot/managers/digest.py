"""The weekly digest: computed from the database, posted once per chat and week."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.periods import Period, last_full_week, week_before
from bot.delivery.dispatcher import Clock, PurposeHooks
from bot.delivery.policy import Decision
from bot.i18n import translator
from bot.report.render import render_digest
from bot.report.weekly import WeeklyDigest, build_weekly_digest
from storage import outbox, repo
from storage.db import SessionFactory
from storage.models import DigestPost
from storage.outbox import ClaimedCall

logger = logging.getLogger(__name__)

DIGEST_PURPOSE = "digest"


class PostOutcome(enum.StrEnum):
    """What asking for a digest post did."""

    QUEUED = "queued"
    ALREADY_POSTED = "already_posted"
    NO_CHAT = "no_chat"
    NOTHING_TO_CATCH_UP = "nothing_to_catch_up"


@dataclass(frozen=True, slots=True)
class PostResult:
    """The outcome, and the outbox row that carries the digest when one was queued."""

    outcome: PostOutcome
    outbox_id: int | None = None


@dataclass(frozen=True, slots=True)
class DigestService:
    """Builds the digest of the last full week and queues it for the managers' chat."""

    engine: AsyncEngine
    session_factory: SessionFactory
    chat_id: int | None
    tz: ZoneInfo
    language: str
    clock: Clock
    wake: Callable[[], None] = lambda: None

    def period(self, as_of: datetime | None = None) -> Period:
        """The week a digest made at ``as_of`` reports on."""
        return last_full_week(as_of or self.clock(), self.tz)

    async def build(self, period: Period) -> WeeklyDigest:
        """Compute the numbers of ``period`` and of the week before it."""
        previous = week_before(period, self.tz)
        return await build_weekly_digest(self.engine, period=period, previous=previous)

    def render(self, digest: WeeklyDigest, *, html: bool) -> str:
        """Text for Telegram (HTML) or a terminal (plain)."""
        return render_digest(
            digest,
            tz=self.tz,
            translator=translator(self.language),
            language=self.language,
            html=html,
        )

    async def post(self, *, as_of: datetime | None = None) -> PostResult:
        """Queue the digest of the last full week before ``as_of`` (default: now), once per chat."""
        if self.chat_id is None:
            return PostResult(PostOutcome.NO_CHAT)
        now = self.clock()
        period = self.period(as_of or now)
        text = self.render(await self.build(period), html=True)
        async with self.session_factory() as session:
            try:
                outbox_id = await outbox.enqueue(
                    session,
                    method="sendMessage",
                    chat_id=self.chat_id,
                    now=now,
                    payload={"text": text, "parse_mode": "HTML"},
                    purpose=DIGEST_PURPOSE,
                )
                session.add(
                    DigestPost(
                        chat_id=self.chat_id,
                        period_start=period.start,
                        period_end=period.end,
                        outbox_id=outbox_id,
                        created_at=now,
                    )
                )
                await session.commit()
            except IntegrityError:
                await session.rollback()
                logger.info("digest for the week from %s was already posted", period.start.date())
                return PostResult(PostOutcome.ALREADY_POSTED)
        self.wake()
        logger.info("digest for the week from %s queued", period.start.date())
        return PostResult(PostOutcome.QUEUED, outbox_id)

    async def catch_up(self, *, missed_run: datetime) -> PostResult:
        """Post the digest of a scheduled run the bot was down for, if there was anything to say.

        A fresh installation has no surveys before that run and posts nothing; the unique
        (chat, week) row keeps a digest that did go out from being posted again.
        """
        period = self.period(missed_run)
        async with self.session_factory() as session:
            if not await repo.any_survey_before(session, when=period.end):
                return PostResult(PostOutcome.NOTHING_TO_CATCH_UP)
        return await self.post(as_of=missed_run)

    def delivery_hooks(self) -> PurposeHooks:
        """A digest Telegram would not take does not count as posted, so it can be posted again."""
        return PurposeHooks(failed=self._failed)

    async def _failed(
        self, session: AsyncSession, call: ClaimedCall, decision: Decision, now: datetime
    ) -> None:
        await session.exec(delete(DigestPost).where(col(DigestPost.outbox_id) == call.id))
        logger.error("the digest could not be posted (%s); it may be posted again", decision.reason)

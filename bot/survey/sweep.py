"""The scheduler's survey work: send what is due, remind once, expire what is over."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.rules import SurveyRules
from bot.core.survey import SurveyStatus
from bot.delivery.dispatcher import PurposeHooks
from bot.delivery.policy import Cause, Decision
from bot.delivery.purposes import Purpose
from bot.survey import texts
from bot.survey.outbound import client_translator, queue_message
from storage import survey_queries
from storage.db import SessionFactory
from storage.models import Survey
from storage.outbox import ClaimedCall, Priority

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SurveySweep:
    """Moves surveys along in time; every step is a compare-and-set, safe to run anywhere."""

    session_factory: SessionFactory
    rules: SurveyRules
    company: str
    default_language: str
    wake: Callable[[], None]
    clock: Clock
    change_window: timedelta = timedelta(minutes=10)
    batch: int = 500

    async def run(self) -> None:
        """One sweep: expire, remind, then queue what is due (the scheduler calls this).

        Each step is a short transaction of its own that claims its rows without waiting for
        any (``storage.survey_queries._claim``): sweeps of other instances, the intake's kicks
        and the handlers go on beside it, and a row one of them holds is left for the next sweep.
        """
        now = self.clock()
        async with self.session_factory() as session:
            expired = await survey_queries.expire_surveys(
                session, cutoff=self.rules.expiry_cutoff(now), now=now
            )
            await survey_queries.end_surveys_of_unreachable(session, now=now)
            await session.commit()
        if expired:
            logger.info("%d surveys expired", expired)
        async with self.session_factory() as session:
            reminded = await self._remind(session, now)
            await session.commit()
        async with self.session_factory() as session:
            reminded += await self._lock_scores(session, now)
            await session.commit()
        if reminded:
            self.wake()
        await self.queue_due()

    async def _lock_scores(self, session: AsyncSession, now: datetime) -> int:
        """The change window is over: the score is final and the keyboard goes."""
        locked = 0
        for survey_id in await survey_queries.scores_to_lock(
            session, answered_before=now - self.change_window, limit=self.batch
        ):
            context = await survey_queries.load_context(session, survey_id=survey_id)
            if context is None:
                continue
            survey = context.survey
            await survey_queries.lock_score(session, survey_id=survey_id, now=now)
            if survey.chat_id is None or survey.message_id is None or survey.score is None:
                continue
            tr = client_translator(context, default=self.default_language)
            final = texts.answered_payload(
                tr, company=self.company, ticket=context.ticket.external_id, score=survey.score
            )
            await queue_message(
                session,
                survey.chat_id,
                final,
                now=now,
                method="editMessageText",
                survey_id=survey_id,
                message_id=survey.message_id,
                priority=Priority.BULK,  # the sweep's own doing: nobody is waiting for it
            )
            locked += 1
        return locked

    async def _remind(self, session: AsyncSession, now: datetime) -> int:
        cutoff = self.rules.reminder_due_before(now)
        if cutoff is None:
            return 0
        reminded = 0
        for survey_id in await survey_queries.surveys_to_remind(
            session, sent_before=cutoff, limit=self.batch
        ):
            context = await survey_queries.load_context(session, survey_id=survey_id)
            survey = context.survey if context else None
            if (
                context is None
                or survey is None
                or survey.chat_id is None
                or survey.message_id is None
            ):
                continue
            if not await survey_queries.change_status(
                session,
                survey_id=survey_id,
                expected=SurveyStatus.SENT,
                values={"reminded_at": now},
            ):
                continue
            if context.opted_out:  # /stop means no nudges either; marked so it is not re-read
                continue
            tr = client_translator(context, default=self.default_language)
            payload = texts.reminder_payload(tr, question_message_id=survey.message_id)
            await queue_message(
                session,
                survey.chat_id,
                payload,
                now=now,
                survey_id=survey_id,
                priority=Priority.BULK,  # unasked, like the question it recalls
            )
            reminded += 1
        return reminded

    async def queue_due(self, *, customer_id: int | None = None) -> int:
        """Hand due surveys of reachable clients to the outbox, one batch; return how many.

        The batch is claimed (``survey_queries.due_survey_ids``): sweeps at once take different
        surveys.
        """
        now = self.clock()
        queued = 0
        async with self.session_factory() as session:
            for survey_id in await survey_queries.due_survey_ids(
                session, now=now, limit=self.batch, customer_id=customer_id
            ):
                queued += await self.queue_one(session, survey_id=survey_id, now=now)
            await session.commit()
        if queued:
            self.wake()
        return queued

    async def queue_one(
        self, session: AsyncSession, *, survey_id: int, now: datetime, throttle: bool = True
    ) -> int:
        """Queue one pending survey's question, unless the client was surveyed too recently."""
        context = await survey_queries.load_context(session, survey_id=survey_id)
        if context is None or context.customer.chat_id is None or context.customer.id is None:
            return 0
        if context.opted_out:  # the client said /stop: every rule respects it
            await survey_queries.change_status(
                session,
                survey_id=survey_id,
                expected=SurveyStatus.PENDING,
                values={
                    "status": SurveyStatus.SKIPPED,
                    "skip_reason": "opted_out",
                    "completed_at": now,
                },
            )
            return 0
        if not await survey_queries.change_status(
            session,
            survey_id=survey_id,
            expected=SurveyStatus.PENDING,
            values={"status": SurveyStatus.QUEUED, "queued_at": now},
        ):
            return 0  # someone else queued, cancelled or expired it meanwhile
        free_since = self.rules.throttle_free_since(now) if throttle else None
        if not await survey_queries.claim_survey_slot(
            session, customer_id=context.customer.id, now=now, free_since=free_since
        ):
            await survey_queries.change_status(
                session,
                survey_id=survey_id,
                expected=SurveyStatus.QUEUED,
                values={
                    "status": SurveyStatus.SKIPPED,
                    "skip_reason": "throttled",
                    "queued_at": None,
                    "completed_at": now,
                },
            )
            return 0
        payload = texts.question_payload(
            client_translator(context, default=self.default_language),
            survey_id=survey_id,
            company=self.company,
            ticket=context.ticket.external_id,
        )
        chat_id = context.customer.chat_id
        await queue_message(
            session, chat_id, payload, now=now, purpose=Purpose.SURVEY, survey_id=survey_id
        )
        return 1

    def delivery_hooks(self) -> dict[Purpose, PurposeHooks]:
        """Outbox callbacks for the question itself: it is "sent" only once Telegram has it."""
        return {
            Purpose.SURVEY: PurposeHooks(
                delivered_many=self._questions_delivered, failed=self._question_failed
            )
        }

    async def _questions_delivered(
        self,
        session: AsyncSession,
        delivered: Sequence[tuple[ClaimedCall, int | None]],
        now: datetime,
    ) -> None:
        await survey_queries.mark_questions_sent(
            session,
            sent=[
                (call.survey_id, call.chat_id, message_id)
                for call, message_id in delivered
                if call.survey_id is not None
            ],
            now=now,
        )

    async def _question_failed(
        self, session: AsyncSession, call: ClaimedCall, decision: Decision, now: datetime
    ) -> None:
        """A question Telegram would not take: wait for the client, or end the survey."""
        if call.survey_id is None:
            return
        if decision.cause in (Cause.NO_CHAT, Cause.EXPIRED):
            # Not started the bot yet, or Telegram down for long: the survey waits, not dies.
            values: dict[str, object] = {"status": SurveyStatus.PENDING, "queued_at": None}
        else:
            values = {"status": SurveyStatus.UNREACHABLE, "completed_at": now}
        await survey_queries.change_status(
            session, survey_id=call.survey_id, expected=SurveyStatus.QUEUED, values=values
        )
        survey = await session.get(Survey, call.survey_id)
        if survey is not None:  # it did not reach the client: it does not use up the period
            await survey_queries.recount_last_surveyed(session, customer_id=survey.customer_id)
        if decision.cause is Cause.NO_CHAT:
            await survey_queries.forget_chat(session, chat_id=call.chat_id)
        elif decision.cause is Cause.BLOCKED:
            await survey_queries.mark_customer_unreachable(session, chat_id=call.chat_id)

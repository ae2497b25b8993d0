"""Survey use cases: queue due questions, link chats, record scores and comments.

Every state change is a compare-and-set on the survey row and every reply is an outbox row in the
same transaction, so a forged press, a double tap or a crash cannot record or send things twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import deeplink
from bot.core.survey import OPEN_FOR_SCORE, SurveyStatus, SurveyView, press_rejection
from bot.delivery.dispatcher import Clock, PurposeHooks
from bot.delivery.policy import Cause, Decision
from bot.i18n import Translator, normalize_language, translator
from bot.survey import texts
from storage import outbox, repo
from storage.db import SessionFactory
from storage.outbox import ClaimedCall
from storage.repo import SurveyContext

logger = logging.getLogger(__name__)

SURVEY_PURPOSE = "survey"
CLIENT_PURPOSE = "client"


class AnswerListener(Protocol):
    """Told about answers inside the answer's own transaction (the alerts subscribe)."""

    async def scored(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """A score was stored."""

    async def commented(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """The survey was completed, with a comment or without (Skip)."""


def _view(context: SurveyContext) -> SurveyView:
    assert context.survey.id is not None  # noqa: S101  (loaded rows have ids)
    return SurveyView(
        survey_id=context.survey.id,
        status=SurveyStatus(context.survey.status),
        client_user_id=context.customer.telegram_user_id,
        message_id=context.survey.message_id,
    )


@dataclass(frozen=True, slots=True)
class SurveyService:
    """The client-facing rules, with their collaborators passed in explicitly."""

    session_factory: SessionFactory
    company: str
    default_language: str
    link_secret: bytes
    wake: Callable[[], None]
    clock: Clock
    listeners: tuple[AnswerListener, ...] = ()

    def _translator(self, context: SurveyContext | None, fallback: str | None = None) -> Translator:
        language = context.customer.language if context else fallback
        return translator(normalize_language(language, self.default_language))

    async def _send(
        self,
        session: AsyncSession,
        chat_id: int,
        payload: dict[str, Any],
        *,
        now: datetime,
        method: str = "sendMessage",
        purpose: str = CLIENT_PURPOSE,
        survey_id: int | None = None,
        message_id: int | None = None,
        target_outbox_id: int | None = None,
    ) -> int:
        return await outbox.enqueue(
            session,
            method=method,
            chat_id=chat_id,
            payload=payload,
            purpose=purpose,
            now=now,
            survey_id=survey_id,
            message_id=message_id,
            target_outbox_id=target_outbox_id,
        )

    async def queue_due(self, *, limit: int = 500, customer_id: int | None = None) -> int:
        """Hand every due survey of a reachable client to the outbox; return how many."""
        now = self.clock()
        queued = 0
        async with self.session_factory() as session:
            for survey_id in await repo.due_survey_ids(
                session, now=now, limit=limit, customer_id=customer_id
            ):
                queued += await self._queue_one(session, survey_id=survey_id, now=now)
            await session.commit()
        if queued:
            self.wake()
        return queued

    async def _queue_one(self, session: AsyncSession, *, survey_id: int, now: datetime) -> int:
        context = await repo.load_context(session, survey_id=survey_id)
        if context is None or context.customer.chat_id is None:
            return 0
        if not await repo.change_status(
            session,
            survey_id=survey_id,
            expected=SurveyStatus.PENDING,
            values={"status": SurveyStatus.QUEUED, "queued_at": now},
        ):
            return 0
        payload = texts.question_payload(
            self._translator(context),
            survey_id=survey_id,
            company=self.company,
            ticket=context.ticket.external_id,
        )
        await self._send(
            session,
            context.customer.chat_id,
            payload,
            now=now,
            purpose=SURVEY_PURPOSE,
            survey_id=survey_id,
        )
        return 1

    async def greet(self, *, user_id: int, chat_id: int, language: str | None) -> None:
        """Answer a plain /start; a client the helpdesk already named gets their surveys now."""
        now = self.clock()
        tr = self._translator(None, language)
        async with self.session_factory() as session:
            await self._send(
                session, chat_id, texts.greeting_payload(tr, company=self.company), now=now
            )
            customer_ids = await repo.link_known_user(session, user_id=user_id, chat_id=chat_id)
            await session.commit()
        self.wake()
        for customer_id in customer_ids:
            await self.queue_due(customer_id=customer_id)

    async def open_link(
        self, *, payload: str, user_id: int, chat_id: int, language: str | None
    ) -> bool:
        """Link the chat to the customer behind a signed /start payload and send their survey.

        The client is here now, so their survey goes out at once, even before its scheduled
        time, and even if an earlier attempt found the bot blocked.
        """
        now = self.clock()
        survey_id = deeplink.read_payload(self.link_secret, payload)
        async with self.session_factory() as session:
            context = None
            if survey_id is not None:
                context = await repo.load_context(session, survey_id=survey_id)
            if context is None or not await repo.link_customer_chat(
                session,
                customer_id=context.customer.id or 0,
                user_id=user_id,
                chat_id=chat_id,
                language=language,
            ):
                await session.rollback()
                logger.info("rejected a /start payload (invalid or another user's)")
                tr = self._translator(None, language)
                await self._send(session, chat_id, texts.bad_link_payload(tr), now=now)
                await session.commit()
                self.wake()
                return False
            linked = texts.linked_payload(self._translator(context), company=self.company)
            await self._send(session, chat_id, linked, now=now)
            assert survey_id is not None  # noqa: S101  (context was found by it)
            await repo.change_status(
                session,
                survey_id=survey_id,
                expected=SurveyStatus.UNREACHABLE,
                values={"status": SurveyStatus.PENDING, "completed_at": None},
            )
            await self._queue_one(session, survey_id=survey_id, now=now)
            await session.commit()
        self.wake()
        await self.queue_due(customer_id=context.customer.id)  # any other survey that is due
        return True

    async def record_score(
        self, *, survey_id: int, score: int, presser_id: int, message_id: int
    ) -> str:
        """Store a score if the press is genuine; return the toast text for the presser."""
        now = self.clock()
        async with self.session_factory() as session:
            context = await repo.load_context(session, survey_id=survey_id)
            tr = self._translator(context)
            rejection = press_rejection(
                _view(context) if context else None, presser_id=presser_id, message_id=message_id
            )
            chat_id = context.customer.chat_id if context else None
            if rejection is not None or context is None or chat_id is None:
                logger.info("ignored a score press on survey %s: %s", survey_id, rejection)
                return texts.press_answer(tr, rejection or "unknown")
            answer: dict[str, object] = {
                "status": SurveyStatus.ANSWERED,
                "score": score,
                "answered_at": now,
                "chat_id": chat_id,
                "message_id": message_id,
            }
            if context.survey.sent_at is None:
                answer["sent_at"] = now  # pressed before the delivery was recorded
            if not await repo.change_status(
                session, survey_id=survey_id, expected=OPEN_FOR_SCORE, values=answer
            ):
                return texts.press_answer(tr, "already_answered")
            await session.refresh(context.survey)
            shown = texts.answered_payload(
                tr, company=self.company, ticket=context.ticket.external_id, score=score
            )
            await self._send(
                session,
                chat_id,
                shown,
                now=now,
                method="editMessageText",
                survey_id=survey_id,
                message_id=message_id,
            )
            context.survey.prompt_outbox_id = await self._send(
                session,
                chat_id,
                texts.follow_up_payload(tr, survey_id=survey_id, score=score),
                now=now,
                survey_id=survey_id,
            )
            for listener in self.listeners:
                await listener.scored(session, context, now)
            await session.commit()
        self.wake()
        return texts.press_answer(tr, None)

    async def _complete(
        self, session: AsyncSession, context: SurveyContext, *, now: datetime, comment: str | None
    ) -> bool:
        """ANSWERED -> COMPLETED with or without a comment; False when it was not ANSWERED."""
        assert context.survey.id is not None  # noqa: S101  (loaded rows have ids)
        values: dict[str, object] = {"status": SurveyStatus.COMPLETED, "completed_at": now}
        if comment is not None:
            values |= {"comment": comment, "commented_at": now}
        if not await repo.change_status(
            session, survey_id=context.survey.id, expected=SurveyStatus.ANSWERED, values=values
        ):
            return False
        await session.refresh(context.survey)
        for listener in self.listeners:
            await listener.commented(session, context, now)
        return True

    async def skip_comment(self, *, survey_id: int, presser_id: int, message_id: int) -> str:
        """Close the survey without a comment when its own client presses Skip."""
        now = self.clock()
        async with self.session_factory() as session:
            context = await repo.load_context(session, survey_id=survey_id)
            tr = self._translator(context)
            if context is None or context.customer.telegram_user_id != presser_id:
                return texts.press_answer(tr, "unknown" if context is None else "not_yours")
            chat_id = context.survey.chat_id
            if chat_id is None or not await self._complete(session, context, now=now, comment=None):
                return texts.press_answer(tr, "already_answered")
            await self._send(
                session,
                chat_id,
                texts.thanks_payload(tr),
                now=now,
                method="editMessageText",
                survey_id=survey_id,
                message_id=message_id,
            )
            await session.commit()
        self.wake()
        return texts.press_answer(tr, None)

    async def record_comment(self, *, chat_id: int, user_id: int, text: str) -> bool:
        """Store the chat's next message as the comment of the survey that asked for one."""
        now = self.clock()
        async with self.session_factory() as session:
            survey_id = await repo.survey_awaiting_comment(session, chat_id=chat_id)
            context = None
            if survey_id is not None:
                context = await repo.load_context(session, survey_id=survey_id)
            if context is None or context.customer.telegram_user_id != user_id:
                return False
            if not await self._complete(session, context, now=now, comment=text):
                return False
            tr = self._translator(context)
            prompt_id, score = context.survey.prompt_outbox_id, context.survey.score
            if prompt_id is not None and score is not None:
                await self._send(  # the Skip button goes: the comment is in
                    session,
                    chat_id,
                    texts.follow_up_closed_payload(tr, score=score),
                    now=now,
                    method="editMessageText",
                    survey_id=survey_id,
                    target_outbox_id=prompt_id,
                )
            await self._send(
                session, chat_id, texts.thanks_payload(tr), now=now, survey_id=survey_id
            )
            await session.commit()
        self.wake()
        return True

    def delivery_hooks(self) -> PurposeHooks:
        """Outbox callbacks for the question itself: it is "sent" only once Telegram has it."""
        return PurposeHooks(delivered=self._question_delivered, failed=self._question_failed)

    async def _question_delivered(
        self, session: AsyncSession, call: ClaimedCall, message_id: int | None, now: datetime
    ) -> None:
        if call.survey_id is None:
            return
        await repo.change_status(
            session,
            survey_id=call.survey_id,
            expected=SurveyStatus.QUEUED,
            values={
                "status": SurveyStatus.SENT,
                "sent_at": now,
                "chat_id": call.chat_id,
                "message_id": message_id,
            },
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
        await repo.change_status(
            session, survey_id=call.survey_id, expected=SurveyStatus.QUEUED, values=values
        )
        if decision.cause is Cause.NO_CHAT:
            await repo.forget_chat(session, chat_id=call.chat_id)
        elif decision.cause is Cause.BLOCKED:
            await repo.mark_customer_unreachable(session, chat_id=call.chat_id)

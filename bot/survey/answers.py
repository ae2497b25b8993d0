"""Recording the client's answers: the score press, the comment, and Skip.

Every state change is a compare-and-set on the survey row and every reply is an outbox row in the
same transaction, so a forged press, a double tap or a crash cannot record or send things twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import Clock
from bot.core.nps import classify
from bot.core.survey import OPEN_FOR_SCORE, SurveyStatus, SurveyView, press_rejection
from bot.core.text import database_safe
from bot.delivery.payloads import EditMessageText, SendMessage
from bot.delivery.purposes import Purpose
from bot.i18n import Translator
from bot.survey import texts
from bot.survey.outbound import client_translator, queue_message
from bot.themes.stored import join_themes
from bot.themes.tagger import Tagger
from storage import outbox, survey_queries
from storage.db import SessionFactory
from storage.outbox import NewCall
from storage.survey_queries import SurveyContext

logger = logging.getLogger(__name__)


class AnswerListener(Protocol):
    """Told about answers inside the answer's own transaction (the alerts subscribe)."""

    async def scored(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """A score was stored."""

    async def commented(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """The survey was completed, with a comment or without (Skip)."""

    async def rescored(
        self, session: AsyncSession, context: SurveyContext, previous: int, now: datetime
    ) -> None:
        """The client changed the score within the change window."""


def _view(context: SurveyContext, lifetime: timedelta) -> SurveyView:
    survey = context.survey
    assert survey.id is not None  # noqa: S101  (loaded rows have ids)
    contacted = survey.sent_at or survey.queued_at
    return SurveyView(
        survey_id=survey.id,
        status=SurveyStatus(survey.status),
        client_user_id=context.customer.telegram_user_id,
        message_id=survey.message_id,
        expires_at=contacted + lifetime if contacted else None,
    )


@dataclass(frozen=True, slots=True)
class SurveyAnswers:
    """The client's side of a survey once the question is in their chat."""

    session_factory: SessionFactory
    company: str
    default_language: str
    wake: Callable[[], None]
    clock: Clock
    lifetime: timedelta = timedelta(days=7)
    change_window: timedelta = timedelta(minutes=10)
    review_url: str | None = None
    managers_alerted: bool = False
    extra_questions: tuple[str, ...] = ()
    listeners: tuple[AnswerListener, ...] = ()
    tagger: Tagger | None = None  # themes of a text comment, stored with it

    def _thanks(self, tr: Translator, score: int | None) -> SendMessage:
        return texts.thanks_payload(
            tr, score=score, review_url=self.review_url, managers_alerted=self.managers_alerted
        )

    def _after_comment(self, tr: Translator, context: SurveyContext) -> SendMessage:
        """The first extra question if the operator set any, else the thanks."""
        if self.extra_questions and context.survey.id is not None and not context.opted_out:
            return texts.rating_payload(
                tr, survey_id=context.survey.id, question=0, label=self.extra_questions[0]
            )
        return self._thanks(tr, context.survey.score)

    async def record_rating(
        self, *, survey_id: int, question: int, value: int, presser_id: int, message_id: int
    ) -> str:
        """Store an extra 1..5 answer in order, then ask the next one or thank the client."""
        now = self.clock()
        async with self.session_factory() as session:
            context = await survey_queries.load_context(session, survey_id=survey_id)
            tr = client_translator(context, default=self.default_language)
            if (
                context is None
                or context.customer.telegram_user_id != presser_id
                or context.survey.status != SurveyStatus.COMPLETED
                or context.survey.chat_id is None
                or question >= len(self.extra_questions)
                or question != await survey_queries.ratings_given(session, survey_id=survey_id)
            ):
                return texts.press_answer(tr, "unknown" if context is None else "already_answered")
            label = self.extra_questions[question]
            if not await survey_queries.add_rating(
                session, survey_id=survey_id, question=question, label=label, value=value, now=now
            ):
                return texts.press_answer(tr, "already_answered")
            chat_id = context.survey.chat_id
            await queue_message(
                session,
                chat_id,
                texts.rated_payload(label=label, value=value),
                now=now,
                method="editMessageText",
                survey_id=survey_id,
                message_id=message_id,
            )
            if question + 1 < len(self.extra_questions):
                following = texts.rating_payload(
                    tr,
                    survey_id=survey_id,
                    question=question + 1,
                    label=self.extra_questions[question + 1],
                )
            else:
                following = self._thanks(tr, context.survey.score)
            await queue_message(session, chat_id, following, now=now, survey_id=survey_id)
            await session.commit()
        self.wake()
        return texts.press_answer(tr, None)

    async def record_score(
        self, *, survey_id: int, score: int, presser_id: int, message_id: int
    ) -> str:
        """Store a score if the press is genuine; return the toast text for the presser."""
        now = self.clock()
        async with self.session_factory() as session:
            context = await survey_queries.load_context(session, survey_id=survey_id)
            tr = client_translator(context, default=self.default_language)
            rejection = press_rejection(
                _view(context, self.lifetime) if context else None,
                presser_id=presser_id,
                message_id=message_id,
                now=now,
            )
            chat_id = context.customer.chat_id if context else None
            if (
                rejection == "already_answered"
                and context
                and self._may_change(context, message_id, now)
            ):
                return await self._change(session, context, score, now, tr)
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
            if not await survey_queries.change_status(
                session, survey_id=survey_id, expected=OPEN_FOR_SCORE, values=answer
            ):
                return texts.press_answer(tr, "already_answered")
            # The ORM update above has already put the new values on context.survey.
            shown = self._answered(tr, context, score)
            # No autoflush: the survey's outbox ids (the follow-up's here, the alert's from
            # its listener) go in one UPDATE at commit, not one each as a query flushed them.
            with session.no_autoflush:
                _edit, context.survey.prompt_outbox_id = await outbox.enqueue_many(
                    session,
                    [
                        NewCall(
                            method="editMessageText",
                            chat_id=chat_id,
                            payload=shown,
                            purpose=Purpose.CLIENT,
                            survey_id=survey_id,
                            message_id=message_id,
                        ),
                        NewCall(
                            method="sendMessage",
                            chat_id=chat_id,
                            payload=texts.follow_up_payload(tr, survey_id=survey_id, score=score),
                            purpose=Purpose.CLIENT,
                            survey_id=survey_id,
                        ),
                    ],
                    now=now,
                )
                for listener in self.listeners:
                    await listener.scored(session, context, now)
            await session.commit()
        self.wake()
        return texts.press_answer(tr, None)

    def _answered(self, tr: Translator, context: SurveyContext, score: int) -> EditMessageText:
        open_for_change = self.change_window > timedelta(0)
        return texts.answered_payload(
            tr,
            company=self.company,
            ticket=context.ticket.external_id,
            score=score,
            survey_id=context.survey.id if open_for_change else None,
            change_minutes=round(self.change_window.total_seconds() / 60),
        )

    def _may_change(self, context: SurveyContext, message_id: int, now: datetime) -> bool:
        """Its own message, score not locked yet, and still within the change window."""
        survey = context.survey
        return (
            survey.score_locked_at is None
            and survey.answered_at is not None
            and now < survey.answered_at + self.change_window
            and survey.message_id == message_id
            and survey.status in (SurveyStatus.ANSWERED, SurveyStatus.COMPLETED)
        )

    async def _change(
        self,
        session: AsyncSession,
        context: SurveyContext,
        score: int,
        now: datetime,
        tr: Translator,
    ) -> str:
        """Replace the score; the question, the comment prompt and any alert follow."""
        survey = context.survey
        assert survey.id is not None  # noqa: S101  (loaded)
        assert survey.chat_id is not None  # noqa: S101  (answered in this chat)
        previous = survey.score if survey.score is not None else score
        if previous == score:
            return texts.press_answer(tr, None)
        if not await survey_queries.change_score(session, survey_id=survey.id, score=score):
            return texts.press_answer(tr, "already_answered")
        await session.refresh(survey)
        await queue_message(
            session,
            survey.chat_id,
            self._answered(tr, context, score),
            now=now,
            method="editMessageText",
            survey_id=survey.id,
            message_id=survey.message_id,
        )
        waiting = survey.status == SurveyStatus.ANSWERED and survey.prompt_outbox_id is not None
        if waiting and classify(previous) != classify(score):
            await queue_message(  # the follow-up question of the new band
                session,
                survey.chat_id,
                texts.follow_up_payload(tr, survey_id=survey.id, score=score),
                now=now,
                method="editMessageText",
                survey_id=survey.id,
                target_outbox_id=survey.prompt_outbox_id,
            )
        for listener in self.listeners:
            await listener.rescored(session, context, previous, now)
        await session.commit()
        self.wake()
        return texts.press_answer(tr, None)

    async def _awaiting_comment(
        self, session: AsyncSession, *, chat_id: int, user_id: int
    ) -> SurveyContext | None:
        """The survey in this chat that waits for its client's comment, if any."""
        survey_id = await survey_queries.survey_awaiting_comment(session, chat_id=chat_id)
        context = (
            None
            if survey_id is None
            else await survey_queries.load_context(session, survey_id=survey_id)
        )
        if context is None or context.customer.telegram_user_id != user_id:
            return None
        return context

    async def _complete(
        self,
        session: AsyncSession,
        context: SurveyContext,
        *,
        now: datetime,
        comment: str | None,
        voice: tuple[str, int] | None = None,
    ) -> bool:
        """ANSWERED -> COMPLETED with or without a comment; False when it was not ANSWERED."""
        assert context.survey.id is not None  # noqa: S101  (loaded rows have ids)
        values: dict[str, object] = {"status": SurveyStatus.COMPLETED, "completed_at": now}
        if comment is not None:
            values |= {"comment": comment, "commented_at": now}
            if self.tagger is not None:
                values["themes"] = join_themes(await self.tagger.tag_off_loop(comment))
        if voice is not None:
            values |= {"voice_file_id": voice[0], "voice_seconds": voice[1], "commented_at": now}
        if not await survey_queries.change_status(
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
            context = await survey_queries.load_context(session, survey_id=survey_id)
            tr = client_translator(context, default=self.default_language)
            if context is None or context.customer.telegram_user_id != presser_id:
                return texts.press_answer(tr, "unknown" if context is None else "not_yours")
            chat_id = context.survey.chat_id
            if chat_id is None or not await self._complete(session, context, now=now, comment=None):
                return texts.press_answer(tr, "already_answered")
            await queue_message(
                session,
                chat_id,
                self._after_comment(tr, context),
                now=now,
                method="editMessageText",
                survey_id=survey_id,
                message_id=message_id,
            )
            await session.commit()
        self.wake()
        return texts.press_answer(tr, None)

    async def record_comment(
        self,
        *,
        chat_id: int,
        user_id: int,
        text: str | None,
        voice: tuple[str, int] | None = None,
    ) -> bool:
        """Store the chat's next message as the comment of the survey that asked for one."""
        if text is not None:
            text = database_safe(text)
        now = self.clock()
        async with self.session_factory() as session:
            context = await self._awaiting_comment(session, chat_id=chat_id, user_id=user_id)
            if context is None:
                return False
            if not await self._complete(session, context, now=now, comment=text, voice=voice):
                return False
            tr = client_translator(context, default=self.default_language)
            survey_id = context.survey.id
            prompt_id, score = context.survey.prompt_outbox_id, context.survey.score
            if prompt_id is not None and score is not None:
                await queue_message(  # the Skip button goes: the comment is in
                    session,
                    chat_id,
                    texts.follow_up_closed_payload(tr, score=score),
                    now=now,
                    method="editMessageText",
                    survey_id=survey_id,
                    target_outbox_id=prompt_id,
                )
            thanks = self._after_comment(tr, context)
            await queue_message(session, chat_id, thanks, now=now, survey_id=survey_id)
            await session.commit()
        self.wake()
        return True

    async def ask_for_words(self, *, chat_id: int, user_id: int, language: str | None) -> bool:
        """Something other than text where a comment is awaited: a polite request, no change."""
        async with self.session_factory() as session:
            context = await self._awaiting_comment(session, chat_id=chat_id, user_id=user_id)
            if context is None:
                return False
            tr = client_translator(
                context, telegram_language=language, default=self.default_language
            )
            await queue_message(session, chat_id, texts.words_please_payload(tr), now=self.clock())
            await session.commit()
        self.wake()
        return True

"""Detractor alerts in the managers' chats: posted with the score, then edited as things happen.

Each alert opens a case (``storage.cases``) in the same transaction as the score, so neither can
exist without the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.nps import Category, classify
from bot.core.routing import AlertRoute, route_alert
from bot.delivery.payloads import SendVoice
from bot.delivery.purposes import Purpose
from bot.managers.alert_texts import AlertTexts, AlertView
from storage import cases, outbox
from storage.cases import CaseContext
from storage.survey_queries import SurveyContext


@dataclass(frozen=True, slots=True)
class DetractorAlerts:
    """Subscribes to answers; posts an alert and opens a case for a detractor."""

    default_chat_id: int | None
    texts: AlertTexts
    routes: tuple[AlertRoute, ...] = ()
    # Told of each alert queued, in its transaction (the metrics count it on commit).
    on_alert: Callable[[AsyncSession], None] | None = None

    def chat_for(self, context: SurveyContext) -> int | None:
        """The chat the routing rules pick for this survey (None: alerts are off)."""
        survey = context.survey
        return route_alert(
            self.routes,
            team=survey.team,
            channel=survey.channel,
            company=survey.company or context.customer.company,
            default=self.default_chat_id,
        )

    async def _view(self, session: AsyncSession, context: SurveyContext) -> AlertView:
        case = await cases.case_of_survey(session, survey_id=context.survey.id or 0)
        history = await cases.score_history(
            session, customer_id=context.customer.id or 0, until=context.survey
        )
        return AlertView(context, case, history)

    async def scored(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """Post the alert and open its case in the transaction that stored the score."""
        score = context.survey.score
        chat_id = self.chat_for(context)
        if chat_id is None or score is None or classify(score) != Category.DETRACTOR:
            return
        survey_id = context.survey.id
        assert survey_id is not None  # noqa: S101  (loaded rows have ids)
        history = await cases.score_history(
            session, customer_id=context.customer.id or 0, until=context.survey
        )
        # The case first: the alert's buttons carry its id. (A survey that already has a case
        # never comes here: a changed score edits that case's alert instead.)
        case = await cases.open_case(session, survey_id=survey_id, chat_id=chat_id, now=now)
        alert_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload=self.texts.payload(AlertView(context, case, history)),
            purpose=Purpose.ALERT,
            survey_id=survey_id,
            now=now,
        )
        await cases.link_alert(session, case=case, outbox_id=alert_id)
        # Written by the caller with the survey's other changes (record_score: one UPDATE).
        context.survey.alert_outbox_id = alert_id
        if self.on_alert is not None:
            self.on_alert(session)

    async def commented(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """Edit the alert, whether or not it has been delivered yet, to show the comment."""
        view = await self._view(session, context)
        target = self._target(view)
        if target is None:
            return
        if context.survey.voice_file_id:  # managers hear the client in their own words
            await outbox.enqueue(
                session,
                method="sendVoice",
                chat_id=target[0],
                payload=SendVoice(
                    voice=context.survey.voice_file_id,
                    caption=escape(context.ticket.external_id),
                    parse_mode="HTML",
                ),
                purpose=Purpose.ALERT,
                survey_id=context.survey.id,
                now=now,
            )
        await self.edit(session, view, now)

    async def rescored(
        self, session: AsyncSession, context: SurveyContext, previous: int, now: datetime
    ) -> None:
        """A changed score: edit the alert there is, or post one for a new detractor."""
        if context.survey.score is None:
            return
        view = await self._view(session, context)
        if self._target(view) is None:
            await self.scored(session, context, now)
            return
        await self.edit(session, view, now)

    def _target(self, view: AlertView) -> tuple[int, int] | None:
        """The alert's chat and outbox row: the case's, or an alert posted before cases existed."""
        if view.case is not None and view.case.outbox_id is not None:
            return view.case.chat_id, view.case.outbox_id
        legacy = view.context.survey.alert_outbox_id
        if view.case is None and legacy is not None and self.default_chat_id is not None:
            return self.default_chat_id, legacy
        return None

    async def edit(
        self, session: AsyncSession, view: AlertView, now: datetime, *, checklist: bool = False
    ) -> None:
        """Rewrite the alert with the case's progress, whether or not it is delivered yet."""
        target = self._target(view)
        if target is None:
            return
        await outbox.enqueue(
            session,
            method="editMessageText",
            chat_id=target[0],
            target_outbox_id=target[1],
            payload=self.texts.payload(view, checklist=checklist),
            purpose=Purpose.ALERT,
            survey_id=view.context.survey.id,
            now=now,
        )

    async def edit_case(
        self, session: AsyncSession, found: CaseContext, now: datetime, *, checklist: bool = False
    ) -> None:
        """``edit`` for a case loaded with ``storage.cases.load``."""
        await self.edit(session, as_view(found), now, checklist=checklist)


def as_view(found: CaseContext) -> AlertView:
    """What the alert shows, from a loaded case."""
    return AlertView(found.survey, found.case, found.history)

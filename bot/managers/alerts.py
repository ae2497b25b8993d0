"""Detractor alerts in the managers' chat, edited in place when the comment arrives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.nps import Category, classify
from bot.i18n import Translator
from storage import outbox
from storage.repo import SurveyContext

ALERT_PURPOSE = "alert"
ALERT_COMMENT_LIMIT = 3000  # Telegram caps a message at 4096 characters; leave room for the rest


def _line(label: str, value: str | None) -> str | None:
    return None if not value else f"{label}: {escape(value)}"


def _customer(context: SurveyContext) -> str:
    customer = context.customer
    who = customer.name or customer.helpdesk_id
    if customer.company:
        who = f"{who} ({customer.company})"
    return who


def alert_text(tr: Translator, context: SurveyContext) -> str:
    """The alert body: score, ticket, attribution, customer, and the comment once there is one."""
    survey, ticket = context.survey, context.ticket
    score = survey.score if survey.score is not None else 0
    if classify(score) == Category.DETRACTOR:
        header = tr.gettext("Detractor: %(score)s/10") % {"score": score}
    else:  # the client changed a low score within the change window
        header = tr.gettext("Score changed to %(score)s/10: no longer a detractor") % {
            "score": score
        }
    lines = [
        f"🔴 <b>{escape(header)}</b>",
        _line(tr.gettext("Ticket"), ticket.external_id),
        _line(tr.gettext("Customer"), _customer(context)),
        _line(tr.gettext("Agent"), survey.agent),
        _line(tr.gettext("Team"), survey.team),
        _line(tr.gettext("Channel"), survey.channel),
    ]
    if survey.comment:
        comment = survey.comment
        if len(comment) > ALERT_COMMENT_LIMIT:
            comment = comment[: ALERT_COMMENT_LIMIT - 1] + "…"
        label = escape(tr.gettext("Comment"))
        lines.append(f"{label}:\n<blockquote>{escape(comment)}</blockquote>")
    elif survey.voice_file_id:
        seconds = survey.voice_seconds or 0
        note = tr.ngettext(
            "Voice comment, %(count)s second: below.",
            "Voice comment, %(count)s seconds: below.",
            seconds,
        ) % {"count": seconds}
        lines.append(f"<i>{escape(note)}</i>")
    else:
        waiting = survey.completed_at is None
        note = tr.gettext("Waiting for a comment…") if waiting else tr.gettext("No comment.")
        lines.append(f"<i>{escape(note)}</i>")
    return "\n".join(line for line in lines if line)


def _payload(tr: Translator, context: SurveyContext) -> dict[str, Any]:
    return {"text": alert_text(tr, context), "parse_mode": "HTML"}


@dataclass(frozen=True, slots=True)
class DetractorAlerts:
    """Subscribes to answers; posts an alert for a detractor and edits it with the comment."""

    chat_id: int | None
    tr: Translator

    def _wanted(self, context: SurveyContext) -> bool:
        score = context.survey.score
        return (
            self.chat_id is not None and score is not None and classify(score) == Category.DETRACTOR
        )

    async def scored(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """Post the alert in the same transaction that stored the score."""
        if not self._wanted(context) or self.chat_id is None:
            return
        context.survey.alert_outbox_id = await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=self.chat_id,
            payload=_payload(self.tr, context),
            purpose=ALERT_PURPOSE,
            survey_id=context.survey.id,
            now=now,
        )

    async def commented(self, session: AsyncSession, context: SurveyContext, now: datetime) -> None:
        """Edit the alert, whether or not it has been delivered yet, to show the comment."""
        alert_id = context.survey.alert_outbox_id
        if not self._wanted(context) or self.chat_id is None or alert_id is None:
            return
        if context.survey.voice_file_id:  # managers hear the client in their own words
            await outbox.enqueue(
                session,
                method="sendVoice",
                chat_id=self.chat_id,
                payload={
                    "voice": context.survey.voice_file_id,
                    "caption": escape(context.ticket.external_id),
                    "parse_mode": "HTML",
                },
                purpose=ALERT_PURPOSE,
                survey_id=context.survey.id,
                now=now,
            )
        await self._edit(session, context, alert_id, now)

    async def _edit(
        self, session: AsyncSession, context: SurveyContext, alert_id: int, now: datetime
    ) -> None:
        """Rewrite the alert, whether or not it has been delivered yet."""
        assert self.chat_id is not None  # noqa: S101  (callers check alerts are on)
        await outbox.enqueue(
            session,
            method="editMessageText",
            chat_id=self.chat_id,
            target_outbox_id=alert_id,
            payload=_payload(self.tr, context),
            purpose=ALERT_PURPOSE,
            survey_id=context.survey.id,
            now=now,
        )

    async def rescored(
        self, session: AsyncSession, context: SurveyContext, previous: int, now: datetime
    ) -> None:
        """A changed score: edit the alert there is, or post one for a new detractor."""
        if self.chat_id is None or context.survey.score is None:
            return
        alert_id = context.survey.alert_outbox_id
        if alert_id is None:
            await self.scored(session, context, now)
            return
        await self._edit(session, context, alert_id, now)

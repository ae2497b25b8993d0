"""Shared helpers of the survey services: the client's language and queueing a message."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.payloads import Payload
from bot.delivery.purposes import Purpose
from bot.i18n import Translator, normalize_language, translator
from storage import outbox
from storage.survey_queries import SurveyContext


def client_translator(
    context: SurveyContext | None, *, telegram_language: str | None = None, default: str
) -> Translator:
    """The client's /language choice, the helpdesk's language, Telegram's, then the default."""
    language = context.language if context else None
    return translator(normalize_language(language or telegram_language, default))


async def queue_message(
    session: AsyncSession,
    chat_id: int,
    payload: Payload,
    *,
    now: datetime,
    method: str = "sendMessage",
    purpose: str = Purpose.CLIENT,
    survey_id: int | None = None,
    message_id: int | None = None,
    target_outbox_id: int | None = None,
    priority: int | None = None,
) -> int:
    """Add one message for a client to the outbox, in the caller's transaction.

    ``priority`` is the purpose's own unless given (``Purpose.CLIENT``: interactive).
    """
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
        priority=priority,
    )

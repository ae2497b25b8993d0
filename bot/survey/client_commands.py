"""The client's rights and choices: stop surveys, erase their data, pick a language, get help."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.delivery.payloads import SendMessage
from bot.delivery.purposes import WITHDRAWN_ON_STOP
from bot.i18n import SUPPORTED_LANGUAGES, Translator, normalize_language, translator
from bot.survey import client_command_texts
from bot.survey.outbound import queue_message
from storage import clients
from storage.db import SessionFactory

logger = logging.getLogger(__name__)

# What a command answers with, in the client's language.
Question = Callable[[Translator], SendMessage]


@dataclass(frozen=True, slots=True)
class ClientRights:
    """Every change is asked for, confirmed, recorded, and then respected by every rule."""

    session_factory: SessionFactory
    company: str
    default_language: str
    wake: Callable[[], None]
    clock: Clock

    async def _translator(self, user_id: int, telegram_language: str | None) -> Translator:
        async with self.session_factory() as session:
            chosen = await clients.chosen_language(session, user_id=user_id)
        return translator(normalize_language(chosen or telegram_language, self.default_language))

    async def _say(
        self, chat_id: int, payload: SendMessage, *, edit_message_id: int | None = None
    ) -> None:
        async with self.session_factory() as session:
            await queue_message(
                session,
                chat_id,
                payload,
                now=self.clock(),
                method="editMessageText" if edit_message_id else "sendMessage",
                message_id=edit_message_id,
            )
            await session.commit()
        self.wake()

    def help_text(self, tr: Translator) -> SendMessage:
        """/help's text, which names the company."""
        return client_command_texts.help_text(tr, company=self.company)

    async def ask(
        self, question: Question, *, user_id: int, chat_id: int, language: str | None
    ) -> None:
        """/stop, /forget, /help and /language: answer with the question or the text."""
        await self._say(chat_id, question(await self._translator(user_id, language)))

    async def answer(
        self,
        action: str,
        *,
        confirmed: bool,
        user_id: int,
        chat_id: int,
        message_id: int,
        language: str | None,
    ) -> None:
        """A confirmation button: act only on "yes" from the client in their own chat."""
        if chat_id != user_id:
            return  # a press from someone else's chat (forged): touch nothing, not even the text
        tr = await self._translator(user_id, language)
        if not confirmed:
            await self._say(chat_id, client_command_texts.unchanged(tr), edit_message_id=message_id)
            return
        now = self.clock()
        async with self.session_factory() as session:
            if action == "stop":
                skipped = await clients.opt_out(
                    session,
                    user_id=user_id,
                    now=now,
                    purposes=WITHDRAWN_ON_STOP,
                )
                logger.info("a client opted out; %d unsent surveys skipped", skipped)
                done = client_command_texts.stopped(tr)
            else:
                kept = await clients.forget(session, user_id=user_id, now=now)
                logger.info("a client's personal data was erased; %d anonymous scores kept", kept)
                done = client_command_texts.forgotten(tr)
            await queue_message(
                session, chat_id, done, now=now, method="editMessageText", message_id=message_id
            )
            await session.commit()
        self.wake()

    async def choose_language(
        self, code: str, *, user_id: int, chat_id: int, message_id: int
    ) -> None:
        """Remember the language; the confirmation is already in it."""
        if code not in SUPPORTED_LANGUAGES or chat_id != user_id:
            return
        async with self.session_factory() as session:
            await clients.choose_language(session, user_id=user_id, language=code, now=self.clock())
            confirmation = client_command_texts.language_chosen(translator(code))
            await queue_message(
                session,
                chat_id,
                confirmation,
                now=self.clock(),
                method="editMessageText",
                message_id=message_id,
            )
            await session.commit()
        self.wake()

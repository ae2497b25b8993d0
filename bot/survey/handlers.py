"""PTB handlers for clients: thin adapters from updates to the survey services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.core.callback import (
    HintPress,
    LanguagePress,
    RatingPress,
    RightsPress,
    ScorePress,
    SkipPress,
    decode,
)
from bot.core.text import database_safe
from bot.handler_types import Callback, Context
from bot.i18n import normalize_language, translator
from bot.survey import texts
from bot.survey.answers import SurveyAnswers
from bot.survey.client_commands import ClientRights, Question
from bot.survey.linking import ClientLinking

# (chat_id, user_id, text) -> whether the text was taken; how other parts share private texts.
TextHook = Callable[[int, int, str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class SurveyHandlers:
    """The client-facing handlers, bound to the services they call."""

    answers: SurveyAnswers
    linking: ClientLinking
    rights: ClientRights
    # Tried before the comment (a manager's reply being written) and after it (a client's
    # answer to a manager), so the survey side need not know about managers.
    before_comment: tuple[TextHook, ...] = ()
    after_comment: tuple[TextHook, ...] = ()

    async def start(self, update: Update, context: Context) -> None:
        """/start greets; /start <payload> links the chat and sends the waiting survey."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if context.args:
            await self.linking.open_link(
                payload=context.args[0],
                user_id=user.id,
                chat_id=message.chat_id,
                language=user.language_code,
            )
        else:
            await self.linking.greet(
                user_id=user.id, chat_id=message.chat_id, language=user.language_code
            )

    def rights_command(self, question: Question) -> Callback:
        """The handler of /stop, /forget, /help or /language: ``question`` asked in the chat."""

        async def ask(update: Update, context: Context) -> None:
            message, user = update.effective_message, update.effective_user
            if message is None or user is None or message.text is None:
                return
            await self.rights.ask(
                question, user_id=user.id, chat_id=message.chat_id, language=user.language_code
            )

        return ask

    async def contact(self, update: Update, context: Context) -> None:
        """A shared contact: matched to helpdesk customers by phone, if it is the sender's own."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.contact is None:
            return
        await self.linking.share_contact(
            user_id=user.id,
            chat_id=message.chat_id,
            contact_user_id=message.contact.user_id,
            phone=message.contact.phone_number,
            language=user.language_code,
        )

    async def press(self, update: Update, context: Context) -> None:
        """A score or Skip button: recorded only for the survey's own client."""
        query = update.callback_query
        if query is None:
            return
        decoded = decode(query.data)
        message_id = query.message.message_id if query.message else 0
        if isinstance(decoded, ScorePress):
            answer = await self.answers.record_score(
                survey_id=decoded.survey_id,
                score=decoded.score,
                presser_id=query.from_user.id,
                message_id=message_id,
            )
        elif isinstance(decoded, SkipPress):
            answer = await self.answers.skip_comment(
                survey_id=decoded.survey_id, presser_id=query.from_user.id, message_id=message_id
            )
        elif isinstance(decoded, RatingPress):
            answer = await self.answers.record_rating(
                survey_id=decoded.survey_id,
                question=decoded.question,
                value=decoded.value,
                presser_id=query.from_user.id,
                message_id=message_id,
            )
        elif isinstance(decoded, HintPress):
            tr = translator(normalize_language(query.from_user.language_code))
            answer = texts.press_answer(tr, "hint")
        elif isinstance(decoded, RightsPress | LanguagePress) and query.message is not None:
            await self._choice(
                decoded,
                query.from_user.id,
                query.message.chat.id,
                message_id,
                query.from_user.language_code,
            )
            answer = ""
        else:
            tr = translator(normalize_language(query.from_user.language_code))
            answer = texts.press_answer(tr, "unknown")
        await query.answer(answer)

    async def _choice(
        self,
        press: RightsPress | LanguagePress,
        user_id: int,
        chat_id: int,
        message_id: int,
        language: str | None,
    ) -> None:
        if isinstance(press, LanguagePress):
            await self.rights.choose_language(
                press.code, user_id=user_id, chat_id=chat_id, message_id=message_id
            )
            return
        await self.rights.answer(
            press.action,
            confirmed=press.confirmed,
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            language=language,
        )

    async def voice(self, update: Update, context: Context) -> None:
        """A voice message: the comment, kept as Telegram's file id and its duration."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.voice is None:
            return
        seconds = message.voice.duration
        duration = (
            int(seconds.total_seconds()) if hasattr(seconds, "total_seconds") else int(seconds)
        )
        await self.answers.record_comment(
            chat_id=message.chat_id,
            user_id=user.id,
            text=None,
            voice=(message.voice.file_id, duration),
        )

    async def not_words(self, update: Update, context: Context) -> None:
        """Stickers, photos and the like: if a comment is awaited, ask for words instead."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        await self.answers.ask_for_words(
            chat_id=message.chat_id, user_id=user.id, language=user.language_code
        )

    async def text(self, update: Update, context: Context) -> None:
        """Plain text in a private chat: the comment, if a survey waits for one."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        chat_id, text = message.chat_id, database_safe(message.text)
        for hook in self.before_comment:
            if await hook(chat_id, user.id, text):
                return
        if await self.answers.record_comment(chat_id=chat_id, user_id=user.id, text=text):
            return
        for hook in self.after_comment:
            if await hook(chat_id, user.id, text):
                return

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        """Everything but the commands (``bot.chat_commands``) to register, in order."""
        private = filters.ChatType.PRIVATE
        return [
            # Every press comes here, even forged data, so that each one gets a polite answer.
            CallbackQueryHandler(self.press),
            MessageHandler(private & filters.CONTACT, self.contact),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.text),
            MessageHandler(private & filters.VOICE, self.voice),
            MessageHandler(private & ~filters.TEXT & ~filters.COMMAND, self.not_words),
        ]

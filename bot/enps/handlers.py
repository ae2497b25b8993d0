"""PTB handlers for campaign members: the join link, the eNPS buttons and the comment."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes, filters

from bot.core.callback import EnpsPress, decode
from bot.enps import texts
from bot.enps.answers import EnpsAnswers
from bot.i18n import normalize_language, translator

Context = ContextTypes.DEFAULT_TYPE
# ``/start e…_…``: a campaign's signed join link (``start``, a row of ``bot.chat_commands``).
JOIN_LINK = filters.Regex(r"^/start e[0-9a-z]+_")


@dataclass(frozen=True, slots=True)
class EnpsHandlers:
    """Registered before the clients' handlers, so these see campaign updates first."""

    answers: EnpsAnswers

    async def start(self, update: Update, context: Context) -> None:
        """``/start e…``: join the campaign the link names."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not context.args:
            return
        await self.answers.join(
            payload=context.args[0],
            user_id=user.id,
            chat_id=message.chat_id,
            language=user.language_code,
        )

    async def press(self, update: Update, context: Context) -> None:
        """A score or Skip under an eNPS question: recorded only for the invited member."""
        query = update.callback_query
        if query is None:
            return
        decoded = decode(query.data)
        user = query.from_user
        if isinstance(decoded, EnpsPress):
            answer = await self.answers.press(
                decoded, presser_id=user.id, language=user.language_code
            )
        else:  # "enps:..." that the codec refuses: forged or out of range
            answer = texts.press_answer(
                translator(normalize_language(user.language_code)), "unknown"
            )
        await query.answer(answer)

    async def comment(self, chat_id: int, user_id: int, text: str) -> bool:
        """A private text: the member's comment, if a round waits for one (a text hook)."""
        return await self.answers.comment(chat_id=chat_id, user_id=user_id, text=text)

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        """The buttons (the join link is a command), before the clients' handlers."""
        return [CallbackQueryHandler(self.press, pattern=r"^enps:")]

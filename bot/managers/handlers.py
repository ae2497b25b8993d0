"""PTB handlers for managers: alert buttons, the private-chat prompts, and the commands.

Which command calls which handler is the table of ``bot.chat_commands``.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update, User
from telegram.ext import BaseHandler, CallbackQueryHandler, filters

from bot.core.callback import CasePress, RecoveryPress, decode
from bot.handler_types import Callback, Context
from bot.managers.cases import START_PAYLOAD, CaseDesk
from bot.managers.reports import ManagerCommands, Report

# ``/start reply-7`` or ``/start note-7``: a manager's press asking for a text (``start``).
PROMPT_LINK = filters.Regex("^/start " + START_PAYLOAD.pattern.removeprefix("^"))


def display_name(user: User) -> str:
    """How a manager is named on an alert they took: their Telegram name, nothing more."""
    return user.full_name or (f"@{user.username}" if user.username else str(user.id))


@dataclass(frozen=True, slots=True)
class ManagerHandlers:
    """The managers' handlers, bound to the services they call."""

    desk: CaseDesk
    commands: ManagerCommands

    async def press(self, update: Update, context: Context) -> None:
        """An alert button, or a client's answer to "did we make it right?"."""
        query = update.callback_query
        if query is None:
            return
        if query.message is None:  # too old for Telegram to show us: nothing to act on
            await query.answer()
            return
        decoded = decode(query.data)
        chat_id, user = query.message.chat.id, query.from_user
        if isinstance(decoded, CasePress):
            reply = await self.desk.press(
                decoded, user_id=user.id, user_name=display_name(user), chat_id=chat_id
            )
            await query.answer(reply.text or None, url=reply.url)
        elif isinstance(decoded, RecoveryPress):
            text = await self.desk.recovery_answer(
                decoded, user_id=user.id, chat_id=chat_id, message_id=query.message.message_id
            )
            await query.answer(text)
        else:  # "case:..." or "fix:..." that is not ours: stop the spinner, change nothing
            await query.answer(self.desk.tr.gettext("This button is out of date."))

    async def start(self, update: Update, context: Context) -> None:
        """``/start reply-7`` from a manager's press asks for the text.

        Only ``reply-N`` and ``note-N`` come here (the row's filter; any other ``/start`` goes on
        to the client's row): one that asks for nothing any more is answered as such, not as a
        client's broken survey link.
        """
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not context.args:
            return
        if not await self.desk.open_prompt(
            user_id=user.id, chat_id=message.chat_id, payload=context.args[0]
        ):
            await self.desk.stale_prompt(user_id=user.id)

    async def cancel(self, update: Update, context: Context) -> None:
        """/cancel: drop the reply or note the bot waits for."""
        user = update.effective_user
        if user is not None:
            await self.desk.cancel(user_id=user.id)

    async def manager_text(self, chat_id: int, user_id: int, text: str) -> bool:
        """A private text answering a manager's prompt (tried before the client's handling)."""
        return await self.desk.manager_message(user_id=user_id, chat_id=chat_id, text=text)

    async def client_reply(self, chat_id: int, user_id: int, text: str) -> bool:
        """A client answering a manager who wrote after the survey's last question."""
        return await self.desk.client_message(chat_id=chat_id, text=text, before_comment=True)

    async def client_text(self, chat_id: int, user_id: int, text: str) -> bool:
        """A text that answered no survey: a client's answer to a manager, or a manager's stray.

        A manager whose reply found no waiting prompt is told so, never left believing it went.
        """
        if await self.desk.client_message(chat_id=chat_id, text=text):
            return True
        return await self.desk.stray_manager_text(user_id=user_id, chat_id=chat_id)

    def report(self, name: str, report: Report) -> Callback:
        """The handler of ``/name``, a manager's report: for managers only."""

        async def command(update: Update, context: Context) -> None:
            message, user = update.effective_message, update.effective_user
            if message is None or message.text is None:
                return
            chat_id = message.chat_id
            if not self.commands.allowed(chat_id=chat_id, user_id=user.id if user else None):
                await self.commands.refuse(chat_id)
                return
            await self.commands.run(name, report, chat_id=chat_id, args=list(context.args or []))

        return command

    def handlers(self) -> list[BaseHandler[Update, Context, None]]:
        """The buttons, registered before the clients' catch-all, so these see theirs first."""
        return [CallbackQueryHandler(self.press, pattern=r"^(case|fix):")]

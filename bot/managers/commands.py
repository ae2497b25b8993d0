"""Manager commands: /nps, /digest, /export and /alerts, in configured chats by configured users.

Each command answers through the outbox like everything else, so a Telegram hiccup loses no
report. Reports are built by ``DigestService``; this module only checks who asks and parses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Literal

from bot.core.cases import ManagerAccess
from bot.core.periods import Period, PeriodError
from bot.delivery.dispatcher import Clock
from bot.i18n import Translator
from bot.managers.cases import CaseDesk
from bot.managers.digest import DigestService, ExportTooLargeError
from storage import outbox
from storage.db import SessionFactory

logger = logging.getLogger(__name__)

COMMAND_PURPOSE = "command"
EXPORT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True, slots=True)
class ManagerCommands:
    """What the manager commands do once PTB has parsed them."""

    session_factory: SessionFactory
    access: ManagerAccess
    digest: DigestService
    desk: CaseDesk
    tr: Translator
    wake: Callable[[], None]
    clock: Clock

    def allowed(self, *, chat_id: int, user_id: int | None) -> bool:
        """Only configured chats and users; a private chat only for a listed manager."""
        return user_id is not None and self.access.may_act_in(chat_id=chat_id, user_id=user_id)

    async def say(self, chat_id: int, text: str) -> None:
        """Queue an answer (already HTML) to the chat the command came from."""
        async with self.session_factory() as session:
            await outbox.enqueue(
                session,
                method="sendMessage",
                chat_id=chat_id,
                payload={"text": text, "parse_mode": "HTML"},
                purpose=COMMAND_PURPOSE,
                now=self.clock(),
            )
            await session.commit()
        self.wake()

    async def refuse(self, chat_id: int) -> None:
        """The polite no, for a client or a stranger who found a manager command."""
        await self.say(
            chat_id, escape(self.tr.gettext("Sorry, this command is for the support team."))
        )

    def _period(self, text: str | None) -> Period:
        return self.digest.parse_period(text, default="7d")

    async def _bad_period(self, chat_id: int, error: PeriodError) -> None:
        usage = self.tr.gettext("Periods look like 7d, 30d, 2026-10, 2026-W44 or week.")
        await self.say(chat_id, f"{escape(str(error))}\n{escape(usage)}")

    async def nps(self, *, chat_id: int, args: list[str]) -> None:
        """/nps [period]: the score with its margin, now, in this chat."""
        try:
            period = self._period(args[0] if args else None)
        except PeriodError as error:
            await self._bad_period(chat_id, error)
            return
        await self.say(chat_id, await self.digest.summary(period))

    async def digest_now(self, *, chat_id: int, args: list[str]) -> None:
        """/digest [period]: the full digest (text, chart, CSV) in this chat now."""
        try:
            period = self._period(args[0] if args else None)
        except PeriodError as error:
            await self._bad_period(chat_id, error)
            return
        await self.digest.send_digest(chat_id, period)

    async def export(self, *, chat_id: int, args: list[str]) -> None:
        """/export [period] [csv|xlsx]: the responses as a file in this chat (either order)."""
        fmt: Literal["csv", "xlsx"] = "csv"
        period_text = None
        for arg in args:
            lowered = arg.lower()
            if lowered == "xlsx":
                fmt = "xlsx"
            elif lowered == "csv":
                fmt = "csv"
            else:
                period_text = arg
        try:
            period = self._period(period_text)
        except PeriodError as error:
            await self._bad_period(chat_id, error)
            return
        try:
            await self.digest.send_export(chat_id, period, fmt)
        except ExportTooLargeError:
            hint = self.tr.gettext(
                "That export is too big for Telegram. Ask for a shorter period, or use "
                "npsbot export on the server."
            )
            await self.say(chat_id, escape(hint))

    async def alerts(self, *, chat_id: int) -> None:
        """/alerts: the cases still open."""
        await self.say(chat_id, await self.desk.open_cases_text(chat_id=chat_id))

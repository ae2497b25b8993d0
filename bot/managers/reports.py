"""Manager commands: /nps, /themes, /digest, /export and /alerts, in configured chats by
configured users.

Each command answers through the outbox like everything else, so a Telegram hiccup loses no
report. Reports are built by ``DigestService``; this module only checks who asks and parses.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Literal, Protocol

from bot.core.cases import ManagerAccess
from bot.core.clock import Clock
from bot.core.periods import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_DAYS,
    Period,
    PeriodError,
    PeriodProblem,
)
from bot.delivery.payloads import SendMessage
from bot.delivery.purposes import Purpose
from bot.i18n import Translator
from bot.managers.cases import CaseDesk
from bot.managers.digest import DigestService, ExportTooLargeError
from bot.resilience import is_outage
from storage import outbox
from storage.db import SessionFactory

logger = logging.getLogger(__name__)

EXPORT_FORMATS = ("csv", "xlsx")


class Report(Protocol):
    """A manager command's work, as ``bot.chat_commands`` names it: a method of the class."""

    def __call__(
        self, commands: ManagerCommands, /, *, chat_id: int, args: list[str]
    ) -> Awaitable[None]:
        """Answer ``args`` in ``chat_id``."""
        ...


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
                payload=SendMessage(text=text, parse_mode="HTML"),
                purpose=Purpose.COMMAND,
                now=self.clock(),
            )
            await session.commit()
        self.wake()

    async def refuse(self, chat_id: int) -> None:
        """The polite no, for a client or a stranger who found a manager command."""
        await self.say(
            chat_id, escape(self.tr.gettext("Sorry, this command is for the support team."))
        )

    async def run(self, name: str, report: Report, *, chat_id: int, args: list[str]) -> None:
        """Run ``/name``; a report that fails says so in the chat rather than going quiet.

        A database outage is raised on: the outage policy retries the whole update.
        """
        try:
            await report(self, chat_id=chat_id, args=args)
        except Exception as error:
            if is_outage(error):
                raise
            logger.exception("/%s failed", name)
            sorry = self.tr.gettext("That report could not be made. The bot's log says why.")
            await self.say(chat_id, escape(sorry))

    async def _period_or_explain(self, chat_id: int, text: str | None) -> Period | None:
        """The period typed (default 7d), or None once the chat has been told what was wrong."""
        try:
            return self.digest.parse_period(text, default="7d")
        except PeriodError as error:
            await self._bad_period(chat_id, error)
            return None

    def _period_problem(self, error: PeriodError) -> str:
        """The typed period's problem in the chat's language (core raises it in English)."""
        tr, value = self.tr, error.value
        match error.problem:
            case PeriodProblem.NOT_A_DATE:
                text = tr.gettext("%(value)s is not a date (YYYY-MM-DD).")
            case PeriodProblem.DAYS_OUT_OF_RANGE:
                text = tr.gettext("The number of days must be between 1 and %(max)s.")
            case PeriodProblem.NOT_A_WEEK:
                text = tr.gettext("%(value)s is not an ISO week of that year.")
            case PeriodProblem.NOT_A_MONTH:
                text = tr.gettext("%(value)s is not a month (YYYY-MM, 01 to 12).")
            case PeriodProblem.ENDS_BEFORE_START:
                text = tr.gettext("The period ends before it starts.")
            case PeriodProblem.TOO_LONG:
                text = tr.gettext("A period may be at most %(max)s days long.")
            case PeriodProblem.OUT_OF_RANGE:
                text = tr.gettext("%(value)s: the year must be from %(first)s to %(last)s.")
            case _:
                text = tr.gettext("I do not understand the period %(value)s.")
        return text % {"value": value, "max": MAX_DAYS, "first": FIRST_YEAR, "last": LAST_YEAR}

    async def _bad_period(self, chat_id: int, error: PeriodError) -> None:
        usage = self.tr.gettext(
            "Periods look like 7d, 30d, 2026-10, 2026-W44, week, month or 2026-10-01..2026-10-15."
        )
        await self.say(chat_id, f"{escape(self._period_problem(error))}\n{escape(usage)}")

    async def nps(self, *, chat_id: int, args: list[str]) -> None:
        """/nps [period]: the score with its interval, now, in this chat."""
        if (period := await self._period_or_explain(chat_id, args[0] if args else None)) is None:
            return
        await self.say(chat_id, await self.digest.summary(period))

    async def themes(self, *, chat_id: int, args: list[str]) -> None:
        """/themes [period]: the themes of the comments and what drives the score."""
        if (period := await self._period_or_explain(chat_id, args[0] if args else None)) is None:
            return
        await self.say(chat_id, await self.digest.themes(period))

    async def digest_now(self, *, chat_id: int, args: list[str]) -> None:
        """/digest [period]: the full digest (text, chart, CSV) in this chat now."""
        if (period := await self._period_or_explain(chat_id, args[0] if args else None)) is None:
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
        if (period := await self._period_or_explain(chat_id, period_text)) is None:
            return
        try:
            await self.digest.send_export(chat_id, period, fmt)
        except ExportTooLargeError:
            hint = self.tr.gettext(
                "That export is too big for Telegram. Ask for a shorter period, or use "
                "npsbot export on the server."
            )
            await self.say(chat_id, escape(hint))

    async def alerts(self, *, chat_id: int, args: list[str]) -> None:
        """/alerts: the cases still open (whatever follows the command is not read)."""
        await self.say(chat_id, await self.desk.open_cases_text(chat_id=chat_id))

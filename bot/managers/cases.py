"""The closed loop: managers take, answer and resolve detractors' cases from their alerts.

Presses are checked against ``ManagerAccess`` and the case's own chat before anything changes;
every change is a compare-and-set on the case row, and every message is an outbox row in the
same transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.callback import CasePress, RecoveryPress
from bot.core.cases import CHECKLIST, CaseStatus, ManagerAccess, PromptKind, reannounce_due, toggled
from bot.core.clock import Clock
from bot.delivery.dispatcher import PurposeHooks
from bot.delivery.payloads import SendMessage
from bot.delivery.policy import Decision
from bot.delivery.purposes import Purpose
from bot.i18n import Translator, normalize_language, translator
from bot.managers.alert_texts import (
    NOTE_LIMIT,
    RELAY_LIMIT,
    AlertTexts,
    RelayedMessage,
    recovery_answered_payload,
    recovery_payload,
    relay_to_client_payload,
)
from bot.managers.alerts import DetractorAlerts, as_view
from storage import cases, outbox, survey_queries
from storage.cases import CaseContext
from storage.db import SessionFactory
from storage.outbox import ClaimedCall

logger = logging.getLogger(__name__)

START_PAYLOAD = re.compile(r"^(?P<kind>reply|note)-(?P<case>[1-9][0-9]{0,9})$")


@dataclass(frozen=True, slots=True)
class PressReply:
    """The toast for the presser, and a link that opens the bot's private chat when needed."""

    text: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class CaseDesk:
    """Everything managers do with a case, and the client's side of the conversation."""

    session_factory: SessionFactory
    alerts: DetractorAlerts
    access: ManagerAccess
    company: str
    default_language: str
    wake: Callable[[], None]
    clock: Clock
    bot_username: Callable[[], str]
    reannounce_every: timedelta | None = timedelta(hours=4)
    reannounce_max: int = 3
    recovery_survey: bool = False
    prompt_ttl: timedelta = timedelta(hours=24)
    conversation_window: timedelta = timedelta(days=14)

    @property
    def texts(self) -> AlertTexts:
        """The managers' texts (their language, their time zone)."""
        return self.alerts.texts

    @property
    def tr(self) -> Translator:
        """The managers' language."""
        return self.alerts.texts.tr

    def _client_tr(self, found: CaseContext) -> Translator:
        return translator(normalize_language(found.survey.language, self.default_language))

    def _allowed(self, found: CaseContext, *, chat_id: int, user_id: int) -> bool:
        """Managers act in the case's own chat; privately, if listed or already on the case."""
        case = found.case
        if chat_id != user_id:
            return chat_id == case.chat_id and self.access.may_act_in(
                chat_id=chat_id, user_id=user_id
            )
        if self.access.users:
            return user_id in self.access.users
        return user_id in (case.taken_by, case.resolved_by, case.relay_manager_id)

    def _link(self, kind: PromptKind, case_id: int) -> str:
        return f"https://t.me/{self.bot_username()}?start={kind.value}-{case_id}"

    async def press(
        self, press: CasePress, *, user_id: int, user_name: str, chat_id: int
    ) -> PressReply:
        """A button under an alert (or under a relayed answer in the private chat)."""
        tr, now = self.tr, self.clock()
        async with self.session_factory() as session:
            found = await cases.load(session, case_id=press.case_id)
            if found is None or not self._allowed(found, chat_id=chat_id, user_id=user_id):
                # Same answer for a forged id and a stranger: nothing to learn from it.
                return PressReply(tr.gettext("Sorry, only the support managers can do this."))
            reply = await self._act(
                session,
                found,
                press,
                user_id=user_id,
                user_name=user_name,
                chat_id=chat_id,
                now=now,
            )
            await session.commit()
        self.wake()
        return reply

    async def _act(  # noqa: PLR0911  (one branch per button)
        self,
        session: AsyncSession,
        found: CaseContext,
        press: CasePress,
        *,
        user_id: int,
        user_name: str,
        chat_id: int,
        now: datetime,
    ) -> PressReply:
        tr, case = self.tr, found.case
        if press.action == "reply":
            return await self._start_reply(session, found, user_id, chat_id, now)
        if case.status == CaseStatus.RESOLVED:
            return PressReply(tr.gettext("This case is already resolved."))
        if press.action == "take":
            if not await cases.take(
                session, case_id=found.case_id, user_id=user_id, name=user_name, now=now
            ):
                current = await cases.load(session, case_id=found.case_id)  # who won the race
                if current is not None and current.case.status == CaseStatus.RESOLVED:
                    return PressReply(tr.gettext("This case is already resolved."))
                owner = (current.case.taken_by_name if current else None) or "?"
                return PressReply(tr.gettext("Already taken by %(name)s.") % {"name": owner})
            await self._edit(session, found.case_id, now)
            return PressReply(tr.gettext("It's yours. Thank you!"))
        if press.action in ("resolve", "back"):
            await self.alerts.edit_case(session, found, now, checklist=press.action == "resolve")
            if press.action == "back":
                return PressReply("")
            return PressReply(tr.gettext("Tick what was done, then save."))
        if press.action == "step" and press.step is not None and press.step < len(CHECKLIST):
            steps = toggled(case.checklist, CHECKLIST[press.step])
            if not await cases.set_checklist(session, case_id=found.case_id, steps=steps):
                await self._edit(session, found.case_id, now)  # resolved meanwhile: its view
                return PressReply(tr.gettext("This case is already resolved."))
            await self._edit(session, found.case_id, now, checklist=True)
            return PressReply("")
        if press.action == "done":
            return await self._resolve(session, found, user_id, user_name, now)
        return PressReply(tr.gettext("This button is out of date."))

    async def _edit(
        self, session: AsyncSession, case_id: int, now: datetime, *, checklist: bool = False
    ) -> None:
        found = await cases.load(session, case_id=case_id)
        if found is not None:
            await self.alerts.edit_case(session, found, now, checklist=checklist)

    async def _start_reply(
        self, session: AsyncSession, found: CaseContext, user_id: int, chat_id: int, now: datetime
    ) -> PressReply:
        """The manager's next private message goes to the client; open that chat for them."""
        tr = self.tr
        if found.survey.customer.chat_id is None:
            return PressReply(tr.gettext("The client can no longer be reached through the bot."))
        await cases.set_prompt(
            session, user_id=user_id, case_id=found.case_id, kind=PromptKind.REPLY, now=now
        )
        if chat_id == user_id:  # already in the private chat: ask right here
            await self._to_manager(
                session, user_id, self.texts.prompt_payload(as_view(found), note=False), now
            )
            return PressReply(tr.gettext("Write your reply below."))
        return PressReply(
            tr.gettext("Write your reply in our private chat."),
            url=self._link(PromptKind.REPLY, found.case_id),
        )

    async def _resolve(
        self, session: AsyncSession, found: CaseContext, user_id: int, user_name: str, now: datetime
    ) -> PressReply:
        tr, case_id = self.tr, found.case_id
        if not await cases.resolve(
            session, case_id=case_id, user_id=user_id, name=user_name, now=now
        ):
            return PressReply(tr.gettext("This case is already resolved."))
        await cases.set_prompt(
            session, user_id=user_id, case_id=case_id, kind=PromptKind.NOTE, now=now
        )
        if self.recovery_survey:
            await self._ask_recovery(session, found, now)
        await self._edit(session, case_id, now)
        logger.info("case %s resolved", case_id)
        return PressReply(
            tr.gettext("Resolved. Add a short note in our private chat."),
            url=self._link(PromptKind.NOTE, case_id),
        )

    async def _ask_recovery(self, session: AsyncSession, found: CaseContext, now: datetime) -> None:
        """The "did we make it right?" question, for a client who still hears from us."""
        context = found.survey
        chat_id = context.customer.chat_id
        if chat_id is None or context.customer.unreachable or context.opted_out:
            return
        if not await cases.ask_recovery(session, case_id=found.case_id, now=now):
            return
        await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload=recovery_payload(
                self._client_tr(found), case_id=found.case_id, ticket=context.ticket.external_id
            ),
            purpose=Purpose.RECOVERY,  # a survey: /stop withdraws it if not sent yet
            survey_id=context.survey.id,
            now=now,
        )

    async def _to_manager(
        self,
        session: AsyncSession,
        user_id: int,
        payload: SendMessage,
        now: datetime,
        *,
        survey_id: int | None = None,
    ) -> None:
        """A message in the manager's private chat; ``survey_id`` marks one quoting the client,
        so that /forget can empty it."""
        await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=user_id,
            payload=payload,
            purpose=Purpose.LOOP,
            now=now,
            survey_id=survey_id,
        )

    async def open_prompt(self, *, user_id: int, chat_id: int, payload: str) -> bool:
        """``/start reply-7`` or ``/start note-7`` from a manager's press: ask for the text.

        False when the payload is not a manager's or no such prompt waits for this user, so the
        caller treats it as an ordinary /start.
        """
        match = START_PAYLOAD.match(payload)
        if match is None or chat_id != user_id:
            return False
        now = self.clock()
        async with self.session_factory() as session:
            prompt = await cases.peek_prompt(session, user_id=user_id)
            if (
                prompt is None
                or prompt.case_id != int(match["case"])
                or prompt.kind != match["kind"]
                or prompt.created_at < now - self.prompt_ttl
            ):
                return False
            found = await cases.load(session, case_id=prompt.case_id)
            if found is None:
                return False
            note = prompt.kind == PromptKind.NOTE
            await self._to_manager(
                session, user_id, self.texts.prompt_payload(as_view(found), note=note), now
            )
            await session.commit()
        self.wake()
        return True

    async def stale_prompt(self, *, user_id: int) -> None:
        """A reply or note link that no longer asks for anything: say so, and how to go on."""
        hint = self.tr.gettext(
            "That link is out of date or was not yours. Press the button under the alert again."
        )
        async with self.session_factory() as session:
            await self._to_manager(session, user_id, self.texts.plain(hint), self.clock())
            await session.commit()
        self.wake()

    async def cancel(self, *, user_id: int) -> bool:
        """/cancel: drop the waiting reply or note; False if nothing was waiting."""
        now = self.clock()
        async with self.session_factory() as session:
            prompt = await cases.take_prompt(session, user_id=user_id)
            if prompt is None:
                await session.commit()
                return False
            await self._to_manager(
                session, user_id, self.texts.plain(self.tr.gettext("Cancelled.")), now
            )
            await session.commit()
        self.wake()
        return True

    async def manager_message(self, *, user_id: int, chat_id: int, text: str) -> bool:
        """A manager's private message answering a prompt: relay it, or store it as the note."""
        if chat_id != user_id or not text.strip():
            return False
        now, tr = self.clock(), self.tr
        async with self.session_factory() as session:
            prompt = await cases.take_prompt(session, user_id=user_id)
            found = None if prompt is None else await cases.load(session, case_id=prompt.case_id)
            if prompt is None or found is None:
                await session.commit()
                return False
            if prompt.created_at < now - self.prompt_ttl:
                # Silence would let the manager believe the client got it.
                stale = tr.gettext(
                    "Not sent: that button was pressed too long ago. Press it again under the "
                    "alert for ticket %(ticket)s."
                ) % {"ticket": found.survey.ticket.external_id}
                await self._to_manager(session, user_id, self.texts.plain(stale), now)
                await session.commit()
                self.wake()
                return True
            if prompt.kind == PromptKind.NOTE:
                note = text.strip()
                await cases.set_note(session, case_id=found.case_id, note=note[:NOTE_LIMIT])
                confirmation = tr.gettext("Note saved for ticket %(ticket)s.")
                if len(note) > NOTE_LIMIT:
                    confirmation = tr.gettext(
                        "Note saved for ticket %(ticket)s, shortened to %(limit)s characters."
                    )
            else:
                confirmation = await self._relay(session, found, user_id, text.strip(), now)
            await self._edit(session, found.case_id, now)
            filled = confirmation % {
                "ticket": found.survey.ticket.external_id,
                "limit": NOTE_LIMIT if prompt.kind == PromptKind.NOTE else RELAY_LIMIT,
            }
            await self._to_manager(session, user_id, self.texts.plain(filled), now)
            await session.commit()
        self.wake()
        return True

    async def _relay(
        self, session: AsyncSession, found: CaseContext, user_id: int, text: str, now: datetime
    ) -> str:
        context = found.survey
        chat_id = context.customer.chat_id
        if chat_id is None or context.customer.unreachable:
            return self.tr.gettext(
                "Not sent: the client of ticket %(ticket)s can no longer be reached "
                "through the bot."
            )
        relayed = relay_to_client_payload(
            self._client_tr(found),
            company=self.company,
            ticket=context.ticket.external_id,
            text=text,
        )
        payload: RelayedMessage = {**relayed, "relayed_by": user_id}
        await outbox.enqueue(
            session,
            method="sendMessage",
            chat_id=chat_id,
            payload=payload,
            purpose=Purpose.LOOP,
            survey_id=context.survey.id,
            now=now,
        )
        await cases.add_message(
            session, case=found.case, direction="to_client", text=text, now=now, manager_id=user_id
        )
        logger.info("case %s: a manager wrote to the client", found.case_id)
        if len(text) > RELAY_LIMIT:
            return self.tr.gettext(
                "Sent to the client of ticket %(ticket)s, shortened to %(limit)s characters. "
                "Their answer will come here."
            )
        return self.tr.gettext(
            "Sent to the client of ticket %(ticket)s. Their answer will come here."
        )

    async def stray_manager_text(self, *, user_id: int, chat_id: int) -> bool:
        """A listed manager wrote privately with no reply or note waiting: say how to write."""
        if chat_id != user_id or user_id not in self.access.users:
            return False
        hint = self.tr.gettext(
            "Not sent to anyone. To write to a client, press Reply to client under their alert."
        )
        now = self.clock()
        async with self.session_factory() as session:
            await self._to_manager(session, user_id, self.texts.plain(hint), now)
            await session.commit()
        self.wake()
        return True

    def delivery_hooks(self) -> dict[Purpose, PurposeHooks]:
        """A manager's message the client never got is reported back to that manager."""
        return {Purpose.LOOP: PurposeHooks(failed=self._relay_failed)}

    async def _relay_failed(
        self, session: AsyncSession, call: ClaimedCall, decision: Decision, now: datetime
    ) -> None:
        # Only relays carry it (the row was written as a RelayedMessage); JSON comes back untyped.
        manager = cast(RelayedMessage, call.payload).get("relayed_by")
        if not isinstance(manager, int):
            return
        warning = self.tr.gettext(
            "Your message did not reach the client: Telegram refused it (%(reason)s)."
        ) % {"reason": decision.reason}
        await self._to_manager(session, manager, self.texts.plain(warning), now)
        logger.warning("a relayed message could not be delivered: %s", decision.reason)

    async def client_message(
        self, *, chat_id: int, text: str, before_comment: bool = False
    ) -> bool:
        """A client's text that answers no survey: back to the manager who last wrote to them.

        With ``before_comment`` (asked before the survey looks for a comment) only a manager who
        wrote after the survey's follow-up question gets it: the client is answering the latest
        thing the bot said, and a manager's question must not end up stored as the comment.
        """
        now = self.clock()
        async with self.session_factory() as session:
            case = await cases.conversation_for_chat(
                session, chat_id=chat_id, since=now - self.conversation_window
            )
            found = None if case is None else await cases.load(session, case_id=case.id or 0)
            if found is None or found.case.relay_manager_id is None:
                return False
            if before_comment:
                asked_at = await survey_queries.comment_asked_at(session, chat_id=chat_id)
                relayed_at = found.case.relay_at
                if asked_at is not None and (relayed_at is None or asked_at > relayed_at):
                    return False
            manager = found.case.relay_manager_id
            await self._to_manager(
                session,
                manager,
                self.texts.client_answered_payload(as_view(found), found.case_id, text),
                now,
                survey_id=found.survey.survey.id,
            )
            await cases.add_message(
                session, case=found.case, direction="from_client", text=text, now=now
            )
            tr = self._client_tr(found)
            await outbox.enqueue(
                session,
                method="sendMessage",
                chat_id=chat_id,
                payload=self.texts.plain(tr.gettext("Thank you, we passed it on.")),
                purpose=Purpose.LOOP,
                now=now,
            )
            await session.commit()
        self.wake()
        return True

    async def recovery_answer(
        self, press: RecoveryPress, *, user_id: int, chat_id: int, message_id: int
    ) -> str:
        """The client's yes or no to "did we make it right?"; only theirs counts, and only once."""
        now = self.clock()
        async with self.session_factory() as session:
            found = await cases.load(session, case_id=press.case_id)
            customer = None if found is None else found.survey.customer
            if found is None or customer is None or customer.telegram_user_id != user_id:
                tr = translator(self.default_language)
                return tr.gettext("This button is not for you.")
            tr = self._client_tr(found)
            if not await cases.answer_recovery(
                session, case_id=found.case_id, answer=press.answer, now=now
            ):
                return tr.gettext("You have already answered. Thank you!")
            await outbox.enqueue(
                session,
                method="editMessageText",
                chat_id=chat_id,
                message_id=message_id,
                payload=recovery_answered_payload(
                    tr, ticket=found.survey.ticket.external_id, answer=press.answer
                ),
                purpose=Purpose.LOOP,
                now=now,
            )
            await self._edit(session, found.case_id, now)
            await session.commit()
        self.wake()
        return tr.gettext("Thank you!")

    async def reannounce(self) -> int:
        """Remind the chat of detractors nobody took; returns how many reminders were queued."""
        every = self.reannounce_every
        if every is None or self.reannounce_max == 0:
            return 0
        now, queued = self.clock(), 0
        async with self.session_factory() as session:
            for case, message_id in await cases.unclaimed(
                session, alerted_before=now - every, below_count=self.reannounce_max
            ):
                due = reannounce_due(
                    alerted_at=case.created_at,
                    last_announced_at=case.reannounced_at,
                    count=case.reannounce_count,
                    every=every,
                    most=self.reannounce_max,
                    now=now,
                )
                if not due or not await cases.mark_reannounced(session, case=case, now=now):
                    continue
                await outbox.enqueue(
                    session,
                    method="sendMessage",
                    chat_id=case.chat_id,
                    payload=self.texts.reannounce_payload(
                        alert_message_id=message_id, waited=now - case.created_at
                    ),
                    purpose=Purpose.ALERT,
                    survey_id=case.survey_id,
                    now=now,
                )
                await session.refresh(case)  # the count just set, for the alert's own line
                await self._edit(session, case.id or 0, now)  # the alert says it waits, too
                queued += 1
            await session.commit()
        if queued:
            self.wake()
            logger.info("re-announced %d unclaimed alerts", queued)
        return queued

    async def open_cases_text(self, *, chat_id: int) -> str:
        """/alerts: the chat's unresolved cases (a private chat sees every chat's)."""
        now = self.clock()
        async with self.session_factory() as session:
            chats = None if chat_id > 0 else [chat_id]
            views = []
            for case_id in await cases.open_cases(session, chat_ids=chats):
                found = await cases.load(session, case_id=case_id)
                if found is not None:
                    views.append(as_view(found))
        return self.texts.open_cases_text(views, now)

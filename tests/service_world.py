"""The product's services on a real database, with Telegram played by a stand-in: the e2e
harness's world without HTTP, polling or a fake Bot API.

Everything the bot would send is an outbox row before Telegram sees it, so a test reads what a
chat got from the outbox table. ``deliver`` plays Telegram's side through the product's own
dispatcher (message ids, and refusals for blocked chats), so the delivery hooks run as they do
in production: a question becomes "sent", an alert gets the message id a reminder replies to,
a relay the client never got is reported. Presses and messages call the services the Telegram
handlers call; a private text goes through the handlers' own chain of hooks, since which
service takes a text is decided there.

Used by the service-level closed-loop and eNPS tests (tests/managers, tests/enps).
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from sqlmodel import col, select
from telegram import Chat, Message, MessageEntity, Update, User
from telegram.error import Forbidden
from telegram.ext import CommandHandler

from bot.chat_commands import command_handlers
from bot.config import Settings
from bot.core.callback import CasePress, EnpsPress, Press, decode
from bot.core.clock import ShiftedClock
from bot.core.ratelimit import FloodGate, Limits
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.delivery.purposes import Purpose
from bot.handler_types import Context
from bot.managers.cases import PressReply
from bot.services import Services, build_services, feature_handlers, repeating_work
from storage import outbox
from storage.migrate import upgrade_to_head
from storage.models import AlertCase, OutboxMessage
from storage.outbox import EDIT_METHODS, ClaimedCall

MANAGERS = -1001234567890
START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday, as in the e2e harness
BOT_USERNAME = "acme_nps_bot"
# Far above anything a test sends: the dispatcher's gate never holds a call back.
NO_LIMITS = Limits(global_per_second=1e6, private_per_second=1e6, group_per_minute=1e6)
DELIVERY_ROUNDS = 100


def base_settings(database_url: str, **overrides: Any) -> Settings:
    """The e2e harness's settings (managers' chat, no survey delay, Moscow), on ``database_url``."""
    values: dict[str, Any] = {
        "telegram_token": "123456:TEST",
        "database_url": database_url,
        "manager_chat_id": MANAGERS,
        "bot_username": BOT_USERNAME,
        "survey_delay_minutes": 0,
        "company_name": "ACME & Co",
        "timezone": "Europe/Moscow",
        **overrides,
    }
    return Settings(**values, _env_file=None)


@dataclass
class Telegram:
    """Takes every call the dispatcher makes, as Telegram would, except to blocked chats."""

    blocked: set[int] = field(default_factory=set)
    last_message_id: int = 1000

    async def __call__(self, call: ClaimedCall) -> int | None:
        if call.chat_id in self.blocked:
            raise Forbidden("Forbidden: bot was blocked by the user")
        if call.method in EDIT_METHODS:
            return call.message_id
        self.last_message_id += 1  # one counter for every chat: ids also say which came first
        return self.last_message_id


def text_of(row: OutboxMessage) -> str:
    """A call's text or caption, as the chat shows it (HTML as sent)."""
    return str(row.payload.get("text") or row.payload.get("caption") or "")


def words(row: OutboxMessage) -> str:
    """A call's text without tags and entities, as a person reads it."""
    return html.unescape(re.sub(r"</?\w+[^>]*>", "", text_of(row)))


def buttons(payload: Mapping[str, Any]) -> dict[str, str]:
    """The inline buttons of a payload, label to callback data, in order."""
    markup = payload.get("reply_markup") or {}
    return {
        button["text"]: button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    }


def press_of(payload: Mapping[str, Any], label: str) -> Press:
    """What pressing the button ``label`` of a payload sends, decoded as the handlers do."""
    pressed = decode(buttons(payload)[label])
    assert pressed is not None, label
    return pressed


@dataclass
class World:
    """One process's services on a migrated database, the clock, and Telegram's stand-in."""

    settings: Settings
    clock: ShiftedClock
    telegram: Telegram
    services: Services
    _update_id: int = 0

    async def restart(self, **overrides: Any) -> None:
        """A new process on the same database (and Telegram), with settings changed if asked."""
        await self.services.close()
        self.settings = self.settings.model_copy(update=overrides)
        self.services = await _start(self.settings, self.clock, self.telegram)

    def later(self, **delta: float) -> None:
        """Move the clock on, so what follows happens visibly after what came before."""
        self.clock.move_to(self.clock() + timedelta(**delta))

    async def deliver(self) -> None:
        """Make every call that is due, through the product's dispatcher, until none is left."""
        dispatcher = self.services.dispatcher
        for _ in range(DELIVERY_ROUNDS):
            tried = await dispatcher.drain_once(batches=50)
            async with self.services.session_factory() as session:
                busy = await outbox.pending_count(session, due_by=self.clock())
            if tried == 0 and busy == 0:
                return
        raise AssertionError(f"the outbox still had work after {DELIVERY_ROUNDS} rounds")

    async def settle(self) -> None:
        """What the scheduler runs (the sweep, reminders, eNPS rounds), then deliver."""
        for job in repeating_work(self.services):
            await job.work()
        await self.deliver()

    # The client's side of a survey.

    async def close_ticket(
        self,
        ticket_id: str,
        client_id: int,
        *,
        customer_id: str | None = None,
        company: str | None = "Globex",
        **fields: Any,
    ) -> int:
        """A helpdesk closes a ticket of the client ``client_id``; the question goes out."""
        closing = TicketClosed(
            ticket_id=ticket_id,
            closed_at=datetime(2026, 11, 18, 10, 0, tzinfo=UTC),
            customer=CustomerInfo(
                helpdesk_id=customer_id or f"c-{client_id}",
                telegram_user_id=client_id,
                company=company,
            ),
            **{"agent": "Ivan Petrov", "team": "L2 support", "channel": "email", **fields},
        )
        result = await self.services.intake.close_ticket(closing)
        await self.services.queue_due_now.aclose()  # the intake's own kick, finished
        await self.services.sweep.queue_due()
        await self.deliver()
        return result.survey_id

    async def question(self, survey_id: int) -> OutboxMessage:
        """The survey's question, as delivered."""
        async with self.services.session_factory() as session:
            found = await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.survey_id == survey_id)
                .where(OutboxMessage.purpose == Purpose.SURVEY)
            )
            return found.one()

    async def score(
        self, survey_id: int, client_id: int, score: int, *, deliver: bool = True
    ) -> str:
        """The client presses ``score`` under the survey's question; the toast. With
        ``deliver=False`` the replies (and an alert) are left in the outbox for now."""
        question = await self.question(survey_id)
        assert question.message_id is not None, "the question was not delivered"
        toast = await self.services.answers.record_score(
            survey_id=survey_id, score=score, presser_id=client_id, message_id=question.message_id
        )
        if deliver:
            await self.deliver()
        return toast

    async def scored_ticket(self, ticket_id: str, client_id: int, score: int, **fields: Any) -> int:
        """A ticket closes and its client gives ``score``; returns the survey id."""
        survey_id = await self.close_ticket(ticket_id, client_id, **fields)
        assert ticket_id in text_of(await self.question(survey_id))
        await self.score(survey_id, client_id, score)
        return survey_id

    # A manager's side.

    async def button(self, message: OutboxMessage, label: str) -> str:
        """The callback data of the button ``label`` on the message as it shows now."""
        shown = await self.shown(message)
        found = buttons(shown.payload)
        assert label in found, (label, list(found))
        return found[label]

    async def press_case(self, data: str, *, by: int, name: str, in_chat: int) -> PressReply:
        """``by`` (called ``name``) presses a case button carrying ``data`` on a message in
        ``in_chat``: what the managers' press handler hands the desk. The toast comes back."""
        pressed = decode(data)
        assert isinstance(pressed, CasePress), data
        reply = await self.services.desk.press(pressed, user_id=by, user_name=name, chat_id=in_chat)
        await self.deliver()
        return reply

    # A campaign member's side.

    async def join(self, link: str, user_id: int) -> None:
        """The member opens the campaign's join link: ``/start`` with its payload."""
        await self.command(user_id, f"/start {link.rpartition('start=')[2]}")

    async def enps_question(self, user_id: int) -> OutboxMessage:
        """The last eNPS question the member was sent."""
        questions = [
            row for row in await self.messages(user_id) if row.purpose == Purpose.ENPS_QUESTION
        ]
        assert questions, f"{user_id} was asked nothing"
        return questions[-1]

    async def enps_press(self, message: OutboxMessage, label: str, *, by: int) -> str:
        """``by`` presses ``label`` (a score, or Skip) under an eNPS message; the toast."""
        pressed = press_of((await self.shown(message)).payload, label)
        assert isinstance(pressed, EnpsPress), label
        toast = await self.services.enps_answers.press(pressed, presser_id=by, language="en")
        await self.deliver()
        return toast

    # Updates as Telegram brings them, handled by the product's own handlers.

    def _message(self, chat_id: int, user_id: int, text: str, *, command: bool) -> Update:
        self._update_id += 1
        kind = Chat.PRIVATE if chat_id == user_id else Chat.SUPERGROUP
        entities = (
            [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(text.split(maxsplit=1)[0]))]
            if command
            else []
        )
        message = Message(
            self._update_id,
            self.clock(),
            Chat(chat_id, kind),
            from_user=User(user_id, f"User {user_id}", is_bot=False, language_code="en"),
            text=text,
            entities=entities,
        )
        message.set_bot(cast(Any, SimpleNamespace(username=BOT_USERNAME)))
        return Update(self._update_id, message=message)

    async def private_text(self, user_id: int, text: str) -> None:
        """A text in the user's private chat, through the clients' text handler and its hooks
        (a manager's prompt, a client's answer to a manager, an eNPS comment, the comment)."""
        handlers = feature_handlers(self.services)
        update = self._message(user_id, user_id, text, command=False)
        await handlers.clients.text(update, cast(Context, SimpleNamespace(args=None)))
        await self.deliver()

    async def command(self, user_id: int, text: str, *, chat_id: int | None = None) -> None:
        """``/command args`` in a chat (the user's private one by default), answered by the row
        of the commands' table that PTB would pick."""
        chat = chat_id if chat_id is not None else user_id
        update = self._message(chat, user_id, text, command=True)
        table = command_handlers(feature_handlers(self.services))
        made = cast(list[CommandHandler[Any, None]], table)
        handler = next((handler for handler in made if handler.check_update(update)), None)
        assert handler is not None, f"no command row answers {text!r}"
        context = SimpleNamespace(args=text.split()[1:])
        await handler.callback(update, cast(Context, context))
        await self.deliver()

    # What the chats got.

    async def calls(self, chat_id: int | None = None) -> list[OutboxMessage]:
        """Every call made or waiting, oldest first (of one chat, when given)."""
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        async with self.services.session_factory() as session:
            return list((await session.exec(query)).all())

    async def messages(self, chat_id: int) -> list[OutboxMessage]:
        """The messages the bot sent to a chat (edits left out), oldest first."""
        return [row for row in await self.calls(chat_id) if row.method not in EDIT_METHODS]

    async def texts(self, chat_id: int) -> list[str]:
        """Every text queued for the chat, as a message or an edit (made or not), oldest first."""
        return [text_of(row) for row in await self.calls(chat_id)]

    async def edits(self, message: OutboxMessage) -> list[OutboxMessage]:
        """The edits of a sent message, oldest first."""
        return [
            row
            for row in await self.calls(message.chat_id)
            if row.method in EDIT_METHODS
            and (
                row.target_outbox_id == message.id
                or (message.message_id is not None and row.message_id == message.message_id)
            )
        ]

    async def shown(self, message: OutboxMessage) -> OutboxMessage:
        """The call whose text and buttons the message shows now: its last edit, or itself."""
        edits = await self.edits(message)
        return edits[-1] if edits else message

    async def alert(self, survey_id: int) -> OutboxMessage:
        """The alert of a survey's case, as first posted."""
        case = await self.case(survey_id)
        async with self.services.session_factory() as session:
            found = await session.get(OutboxMessage, case.outbox_id)
        assert found is not None
        return found

    async def detractor_alert(
        self, survey_id: int, score: int, *, chat_id: int = MANAGERS
    ) -> OutboxMessage:
        """The survey's alert, checked to have been posted in ``chat_id`` with its score."""
        alert = await self.alert(survey_id)
        assert alert.chat_id == chat_id and f"Detractor: {score}/10" in text_of(alert)
        return alert

    async def case(self, survey_id: int) -> AlertCase:
        """The case a detractor's answer opened."""
        async with self.services.session_factory() as session:
            found = await session.exec(select(AlertCase).where(AlertCase.survey_id == survey_id))
            return found.one()


async def _start(settings: Settings, clock: ShiftedClock, telegram: Telegram) -> Services:
    services = build_services(settings, clock=clock)
    await upgrade_to_head(services.engine)
    services.dispatcher.sender = telegram
    services.dispatcher.gate = FloodGate(NO_LIMITS)
    return services


@asynccontextmanager
async def open_world(database_url: str, **overrides: Any) -> AsyncIterator[World]:
    """The services on a fresh database at the harness's moment, with ``overrides`` set."""
    settings = base_settings(database_url, **overrides)
    clock, telegram = ShiftedClock(START), Telegram()
    world = World(settings, clock, telegram, await _start(settings, clock, telegram))
    try:
        yield world
    finally:
        await world.services.close()

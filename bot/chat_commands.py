"""Every slash command the bot answers, in one table: its handlers and its menus are made from it.

A row says who the command is for, which handler answers it, in which chats, and how the menu
describes it (a ``gettext`` call, so ``pybabel extract`` finds it). ``command_handlers`` makes
PTB's ``CommandHandler``s in table order, and ``command_menu`` the lists ``set_my_commands``
publishes. Adding a command is its handler (in its feature's module) plus one row here.

Rows of one name are tried in table order, the first whose filter matches answering: the
three ``/start`` rows are a manager's prompt link, then an eNPS join link, then a client's
``/start``. Access is the handlers' business (a manager command answers a stranger politely);
the audience says which menu lists the command.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from telegram import BotCommand
from telegram.ext import CommandHandler, filters

from bot.enps.handlers import JOIN_LINK, EnpsHandlers
from bot.handler_types import Callback, Context
from bot.i18n import Translator
from bot.managers.handlers import PROMPT_LINK, ManagerHandlers
from bot.managers.reports import ManagerCommands, Report
from bot.survey import client_command_texts
from bot.survey.client_commands import Question
from bot.survey.handlers import SurveyHandlers

Describe = Callable[[Translator], str]
PRIVATE = filters.ChatType.PRIVATE


class Audience(enum.Enum):
    """Who a command is for, and so which menu lists it."""

    CLIENTS = "clients"  # private chats: the default menu, in every language we speak
    MANAGERS = "managers"  # the managers' chats: a menu of their own, in the bot's language
    MEMBERS = "members"  # employees in an eNPS campaign: a link, never a menu


@dataclass(frozen=True, slots=True)
class ChatHandlers:
    """The handlers of each feature, bound to their services, that the rows' callbacks name."""

    managers: ManagerHandlers
    members: EnpsHandlers
    clients: SurveyHandlers


@dataclass(frozen=True, slots=True)
class ChatCommand:
    """One row: ``/name`` for ``audience``, answered by ``callback`` where ``only`` matches."""

    name: str
    audience: Audience
    callback: Callable[[ChatHandlers], Callback]
    menu: Describe | None = None  # None: not in any menu
    only: filters.BaseFilter | None = None  # None: every chat


def _report(name: str, report: Report, menu: Describe) -> ChatCommand:
    """A manager's report: only for managers, and a failure is said in the chat."""
    return ChatCommand(
        name, Audience.MANAGERS, lambda chat: chat.managers.report(name, report), menu=menu
    )


def _right(name: str, question: Callable[[ChatHandlers], Question], menu: Describe) -> ChatCommand:
    """A client's choice about their own data or language, asked in their private chat."""
    return ChatCommand(
        name,
        Audience.CLIENTS,
        lambda chat: chat.clients.rights_command(question(chat)),
        menu,
        PRIVATE,
    )


COMMANDS: tuple[ChatCommand, ...] = (
    ChatCommand(
        "start",
        Audience.MANAGERS,
        lambda chat: chat.managers.start,
        only=PRIVATE & PROMPT_LINK,
    ),
    ChatCommand("cancel", Audience.MANAGERS, lambda chat: chat.managers.cancel, only=PRIVATE),
    _report("nps", ManagerCommands.nps, lambda tr: tr.gettext("NPS for a period: /nps 30d")),
    _report(
        "themes",
        ManagerCommands.themes,
        lambda tr: tr.gettext("What the comments are about: /themes 30d"),
    ),
    _report(
        "digest",
        ManagerCommands.digest_now,
        lambda tr: tr.gettext("The digest now, with chart and CSV"),
    ),
    _report(
        "export",
        ManagerCommands.export,
        lambda tr: tr.gettext("Responses as a file: /export 2026-10 xlsx"),
    ),
    _report(
        "alerts", ManagerCommands.alerts, lambda tr: tr.gettext("Detractors' cases still open")
    ),
    ChatCommand(
        "start", Audience.MEMBERS, lambda chat: chat.members.start, only=PRIVATE & JOIN_LINK
    ),
    ChatCommand(
        "start",
        Audience.CLIENTS,
        lambda chat: chat.clients.start,
        menu=lambda tr: tr.gettext("Start, or turn surveys back on"),
        only=PRIVATE,
    ),
    _right(
        "help",
        lambda chat: chat.clients.rights.help_text,
        lambda tr: tr.gettext("What this bot does and what it stores"),
    ),
    _right(
        "language",
        lambda _chat: client_command_texts.language_question,
        lambda tr: tr.gettext("Change the language"),
    ),
    _right(
        "stop",
        lambda _chat: client_command_texts.stop_question,
        lambda tr: tr.gettext("No more surveys"),
    ),
    _right(
        "forget",
        lambda _chat: client_command_texts.forget_question,
        lambda tr: tr.gettext("Erase my personal data"),
    ),
)


def command_handlers(handlers: ChatHandlers) -> list[CommandHandler[Context, None]]:
    """One ``CommandHandler`` per row, in table order."""
    return [
        CommandHandler(command.name, command.callback(handlers), filters=command.only)
        for command in COMMANDS
    ]


def command_menu(audience: Audience, tr: Translator) -> list[BotCommand]:
    """The menu Telegram shows ``audience``, in ``tr``'s language, in table order."""
    return [
        BotCommand(command.name, command.menu(tr))
        for command in COMMANDS
        if command.audience is audience and command.menu is not None
    ]

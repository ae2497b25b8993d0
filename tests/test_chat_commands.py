"""The table of chat commands: the handlers it makes answer the right people, and the menus are
what Telegram showed before the table, in every language.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlmodel import select
from telegram import Chat, Message, MessageEntity, Update, User
from telegram.ext import CommandHandler

from bot.chat_commands import COMMANDS, Audience, ChatHandlers, command_handlers, command_menu
from bot.config import Settings
from bot.delivery.payloads import SendMessage
from bot.i18n import SUPPORTED_LANGUAGES, Translator, translator
from bot.managers.reports import ManagerCommands
from bot.services import Services, build_services, feature_handlers
from bot.survey import client_command_texts
from storage.models import OutboxMessage

MENUS = {
    ("en", Audience.CLIENTS): [
        ("start", "Start, or turn surveys back on"),
        ("help", "What this bot does and what it stores"),
        ("language", "Change the language"),
        ("stop", "No more surveys"),
        ("forget", "Erase my personal data"),
    ],
    ("ru", Audience.CLIENTS): [
        ("start", "Начать или снова включить опросы"),
        ("help", "Что делает бот и что он хранит"),
        ("language", "Сменить язык"),
        ("stop", "Больше не присылать опросы"),
        ("forget", "Удалить мои персональные данные"),
    ],
    ("en", Audience.MANAGERS): [
        ("nps", "NPS for a period: /nps 30d"),
        ("themes", "What the comments are about: /themes 30d"),
        ("digest", "The digest now, with chart and CSV"),
        ("export", "Responses as a file: /export 2026-10 xlsx"),
        ("alerts", "Detractors' cases still open"),
    ],
    ("ru", Audience.MANAGERS): [
        ("nps", "NPS за период: /nps 30d"),
        ("themes", "О чём комментарии: /themes 30d"),
        ("digest", "Сводка сейчас, с графиком и CSV"),
        ("export", "Ответы файлом: /export 2026-10 xlsx"),
        ("alerts", "Незакрытые случаи критиков"),
    ],
}


@pytest.mark.parametrize(("language", "audience"), list(MENUS))
def test_each_menu_is_as_before(language: str, audience: Audience) -> None:
    menu = command_menu(audience, translator(language))
    assert [(item.command, item.description) for item in menu] == MENUS[language, audience]


def test_members_have_no_menu() -> None:
    assert command_menu(Audience.MEMBERS, translator("en")) == []


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_described_command_is_translated_within_telegrams_limits(language: str) -> None:
    described = [command for command in COMMANDS if command.menu is not None]
    for command in described:
        assert command.menu is not None
        text = command.menu(translator(language))
        assert 1 <= len(text) <= 256, command.name  # Telegram's limits for a description
        if language != "en":
            assert text != command.menu(translator("en")), f"/{command.name} is untranslated"


def test_names_are_telegram_commands_and_repeat_only_with_a_filter() -> None:
    for command in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.name), command.name
    for name in {command.name for command in COMMANDS}:
        rows = [command for command in COMMANDS if command.name == name]
        menus = [row for row in rows if row.menu is not None]
        assert len(menus) <= 1, f"/{name} is described twice"
        # A row of a name after the first is reached only if the ones before have filters.
        assert all(row.only is not None for row in rows[:-1]), f"/{name} shadows a later row"


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """Every service on a migrated SQLite file; the group -5 is the managers' chat."""
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}",
        manager_chat_id=-5,
        _env_file=None,  # type: ignore[call-arg]
    )
    async with build_services(settings) as wired:
        await wired.database.migrate()
        yield wired


@pytest.fixture
def handlers(services: Services) -> ChatHandlers:
    """The handlers exactly as the running bot wires them (``bot.services.feature_handlers``)."""
    return feature_handlers(services)


def command_update(text: str, chat_type: str) -> Update:
    length = len(text.split(maxsplit=1)[0])
    message = Message(
        1,
        datetime(2026, 11, 20, tzinfo=UTC),
        Chat(-5 if chat_type != Chat.PRIVATE else 7, chat_type),
        from_user=User(7, "Anna", is_bot=False),
        text=text,
        entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, length)],
    )
    message.set_bot(SimpleNamespace(username="acme_bot"))  # type: ignore[arg-type]
    return Update(1, message=message)


def _answering(made: list[CommandHandler[object, None]], update: Update) -> int | None:
    """Which handler PTB would call: the first that matches, as in one handler group."""
    return next((index for index, handler in enumerate(made) if handler.check_update(update)), None)


@pytest.mark.parametrize(
    ("text", "chat_type", "audience"),
    [
        ("/start reply-7", Chat.PRIVATE, Audience.MANAGERS),
        ("/start note-12", Chat.PRIVATE, Audience.MANAGERS),
        ("/cancel", Chat.PRIVATE, Audience.MANAGERS),
        ("/start e1a2b_c3d4", Chat.PRIVATE, Audience.MEMBERS),
        ("/start", Chat.PRIVATE, Audience.CLIENTS),
        ("/start s12_abc", Chat.PRIVATE, Audience.CLIENTS),
        ("/START@acme_bot", Chat.PRIVATE, Audience.CLIENTS),
        ("/forget", Chat.PRIVATE, Audience.CLIENTS),
        ("/nps 30d", Chat.SUPERGROUP, Audience.MANAGERS),
        ("/alerts", Chat.PRIVATE, Audience.MANAGERS),
        ("/start", Chat.SUPERGROUP, None),
        ("/stop", Chat.GROUP, None),
        ("/cancel", Chat.SUPERGROUP, None),
        ("/nps@other_bot", Chat.SUPERGROUP, None),
        ("/unknown", Chat.PRIVATE, None),
    ],
)
async def test_each_update_reaches_the_row_for_its_people(
    handlers: ChatHandlers, text: str, chat_type: str, audience: Audience | None
) -> None:
    made: list[CommandHandler[object, None]] = command_handlers(handlers)  # type: ignore[assignment]
    assert len(made) == len(COMMANDS)
    index = _answering(made, command_update(text, chat_type))
    if audience is None:
        assert index is None
        return
    assert index is not None
    row = COMMANDS[index]
    assert row.audience is audience
    assert row.name == text.split(maxsplit=1)[0].lstrip("/").split("@")[0].lower()


def _run(made: list[CommandHandler[object, None]], update: Update) -> Coroutine[Any, Any, None]:
    """What the row answering ``update`` does, called as PTB would call it."""
    index = _answering(made, update)
    assert index is not None
    args = update.message.text.split()[1:] if update.message and update.message.text else []
    return made[index].callback(update, SimpleNamespace(args=args))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/help", lambda services, tr: services.rights.help_text(tr)),
        ("/stop", lambda _services, tr: client_command_texts.stop_question(tr)),
        ("/forget", lambda _services, tr: client_command_texts.forget_question(tr)),
        ("/language", lambda _services, tr: client_command_texts.language_question(tr)),
    ],
)
async def test_a_clients_command_answers_with_its_own_text(
    services: Services,
    handlers: ChatHandlers,
    text: str,
    expected: Callable[[Services, Translator], SendMessage],
) -> None:
    made: list[CommandHandler[object, None]] = command_handlers(handlers)  # type: ignore[assignment]
    await _run(made, command_update(text, Chat.PRIVATE))
    async with services.session_factory() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert [(row.chat_id, row.payload) for row in rows] == [
        (7, dict(expected(services, translator(services.settings.language))))
    ]


@pytest.mark.parametrize(
    ("text", "report", "args"),
    [
        ("/nps 30d", ManagerCommands.nps, ["30d"]),
        ("/digest", ManagerCommands.digest_now, []),
        ("/export 2026-10 xlsx", ManagerCommands.export, ["2026-10", "xlsx"]),
        ("/alerts", ManagerCommands.alerts, []),
    ],
)
async def test_a_managers_command_runs_its_own_report(
    handlers: ChatHandlers,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    report: object,
    args: list[str],
) -> None:
    ran: list[tuple[str, object, int, list[str]]] = []

    async def run(
        _commands: object, name: str, what: object, *, chat_id: int, args: list[str]
    ) -> None:
        ran.append((name, what, chat_id, args))

    monkeypatch.setattr(ManagerCommands, "run", run)  # the services are frozen: patch the class
    made: list[CommandHandler[object, None]] = command_handlers(handlers)  # type: ignore[assignment]
    await _run(made, command_update(text, Chat.SUPERGROUP))
    assert ran == [(text.split(maxsplit=1)[0].lstrip("/"), report, -5, args)]

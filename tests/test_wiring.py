"""The composition root: each command builds only what it needs, and releases what it built.

The database-only commands (purge, import, export, ``digest --print``, migrate, campaigns) must
run beside a running bot without its token, so they must never build the PTB Application; and
a one-shot command must dispose every engine it opened, also when it fails, or a PostgreSQL
server would keep its connections until the process exits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Chat
from telegram.ext import ApplicationBuilder, CommandHandler

from bot import cli_commands
from bot.config import MissingSettingError
from bot.core.tickets import CustomerInfo, TicketClosed
from bot.datacare.runs import import_file, purge_old_data
from bot.enps.campaigns import CampaignDesk, with_desk
from bot.services import build_services, chat_handlers, repeating_work
from storage.db import Database, DatabaseUrlError
from storage.migrate import OutdatedSchemaError
from tests.datacare.helpers import settings_for
from tests.test_chat_commands import command_update

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
CSV = (
    "ticket_id,answered_at,score,comment,customer_id,agent,team,channel,company,language\n"
    "T-1,2026-10-05T10:00:00+03:00,9,Quick and kind,c-1,Ivan,L2,email,Globex,ru\n"
)


class Opened:
    """Every Database opened and every one disposed, by identity."""

    def __init__(self) -> None:
        self.opened: list[Database] = []
        self.disposed: list[Database] = []

    def left_open(self) -> list[Database]:
        return [db for db in self.opened if not any(db is gone for gone in self.disposed)]


@pytest.fixture
def databases(monkeypatch: pytest.MonkeyPatch) -> Opened:
    seen = Opened()
    real_open, real_dispose = Database.open.__func__, Database.dispose  # type: ignore[attr-defined]

    def open_(cls: type[Database], url: str, **pool: int | None) -> Database:
        database: Database = real_open(cls, url, **pool)
        seen.opened.append(database)
        return database

    async def dispose(self: Database) -> None:
        seen.disposed.append(self)
        await real_dispose(self)

    monkeypatch.setattr(Database, "open", classmethod(open_))
    monkeypatch.setattr(Database, "dispose", dispose)
    return seen


@pytest.fixture
def no_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a PTB Application fails the test: a database-only command must not need one."""

    def refuse(_builder: ApplicationBuilder) -> None:  # type: ignore[type-arg]
        raise AssertionError("a database-only command built the Telegram bot")

    monkeypatch.setattr(ApplicationBuilder, "build", refuse)


@pytest.mark.usefixtures("no_bot")
async def test_database_commands_build_no_bot_and_dispose_their_engine(
    database_url: str, tmp_path: Path, databases: Opened
) -> None:
    # A token is set, so only the missing Application, not a missing token, tells them apart.
    settings = settings_for(database_url, telegram_token="123456:TEST", link_secret="k" * 32)
    await cli_commands.migrate(settings)
    source = tmp_path / "answers.csv"
    source.write_text(CSV, encoding="utf-8")
    imported = await import_file(settings, source, on_reject=lambda _r: None, now=NOW)
    assert imported.imported == 1
    purged = await purge_old_data(settings, older_than="30d", now=NOW)
    assert purged.surveys == 1  # answered on 5 October, more than 30 days before NOW
    assert "NPS" in await cli_commands.print_digest(settings, "365d")
    path, rows = await cli_commands.export(
        settings,
        period="365d",
        fmt="csv",
        out=tmp_path / "out.csv",
        progress=lambda _n: lambda _rows: None,
    )
    assert (path, rows) == (tmp_path / "out.csv", 1)

    async def names(desk: CampaignDesk) -> list[str]:
        return [line.name for line in await desk.listing()]

    assert await with_desk(settings, names) == []
    assert len(databases.opened) == 6  # one per command, each its own
    assert databases.left_open() == []


async def test_purge_and_import_need_no_token(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url)
    assert settings.telegram_token is None
    source = tmp_path / "answers.csv"
    source.write_text(CSV, encoding="utf-8")
    assert (await import_file(settings, source, on_reject=lambda _r: None, now=NOW)).imported == 1
    assert (await purge_old_data(settings, older_than="30d", now=NOW)).surveys == 1


async def test_a_failing_command_still_disposes_its_engine(
    tmp_path: Path, databases: Opened
) -> None:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(OutdatedSchemaError):  # a dry run never migrates an empty database
        await purge_old_data(settings, older_than="30d", dry_run=True, now=NOW)
    assert len(databases.opened) == 1
    assert databases.left_open() == []


async def test_a_url_without_a_driver_says_which_urls_work() -> None:
    with pytest.raises(DatabaseUrlError, match=r"cannot open postgresql://.*postgresql\+asyncpg"):
        await cli_commands.migrate(settings_for("postgresql://nobody@127.0.0.1/none"))


async def test_commands_that_send_need_the_token_before_any_engine(
    tmp_path: Path, databases: Opened
) -> None:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}")
    with pytest.raises(MissingSettingError):
        await cli_commands.post_digest(settings)
    assert databases.opened == []


async def test_ticket_closed_builds_every_service_on_one_database_and_disposes_it(
    database_url: str, databases: Opened
) -> None:
    settings = settings_for(database_url, telegram_token="123456:TEST", bot_username="acme_bot")
    event = TicketClosed(
        ticket_id="T-9",
        closed_at=NOW,
        customer=CustomerInfo(helpdesk_id="c-9", telegram_user_id=42),
    )
    result = await cli_commands.ticket_closed(settings, event)
    assert result["created"] is True
    assert str(result["deep_link"]).startswith("https://t.me/acme_bot?start=")
    assert len(databases.opened) == 1
    assert databases.left_open() == []


async def test_services_dispose_the_database_they_open(tmp_path: Path, databases: Opened) -> None:
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}", telegram_token="123456:TEST"
    )
    async with build_services(settings) as services:
        assert databases.opened == [services.database]  # one, shared by every service
        assert services.digest.engine is services.database.engine
        assert databases.disposed == []
    assert databases.left_open() == []


class Calls(list[str]):
    """What the scheduled jobs' work called, in order."""

    def recorder(self, name: str) -> Callable[[object], Awaitable[int]]:
        """A method in place of the real one (the services are frozen: their class is patched)."""

        async def record(_service: object) -> int:
            self.append(name)
            return 0

        return record


async def test_the_scheduled_jobs_run_the_sweep_reannouncements_and_enps_rounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}", telegram_token="123456:TEST"
    )
    calls = Calls()
    async with build_services(settings) as services:
        monkeypatch.setattr(type(services.sweep), "run", calls.recorder("sweep"))
        monkeypatch.setattr(type(services.desk), "reannounce", calls.recorder("reannounce"))
        monkeypatch.setattr(type(services.enps_rounds), "tick", calls.recorder("tick"))
        done = {}
        for job in repeating_work(services):
            calls.clear()
            await job.work()
            done[job.name] = list(calls)
    assert done == {"survey-sweep": ["sweep", "reannounce"], "enps-rounds": ["tick"]}


async def test_the_command_table_goes_before_the_clients_catch_all(tmp_path: Path) -> None:
    """A manager's prompt link is a ``/start`` the clients' handlers would take as a client's."""
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}", telegram_token="123456:TEST"
    )
    async with build_services(settings) as services:
        handlers = chat_handlers(services)
    prompt_link = command_update("/start reply-7", Chat.PRIVATE)
    first = next(handler for handler in handlers if handler.check_update(prompt_link))
    assert isinstance(first, CommandHandler)
    assert first.commands == frozenset({"start"})
    assert first.filters is not None and first.filters.check_update(prompt_link)

"""``npsbot doctor`` against the fake Telegram: a good setup passes, each fault is named."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import telegram
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bot.doctor import Check, Status, doctor, render
from bot.doctor.result import mask_token
from bot.sandbox import FakeBotApi
from storage.db import make_engine
from storage.migrate import alembic_config, upgrade_to_head

MANAGERS = -1001000000011
BILLING = -1001000000012
DIGEST = -1001000000013
BOSS = 7001
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="acme_nps_bot") as server:
        server.add_group(MANAGERS, "Support managers")
        server.add_group(BILLING, "Billing alerts")
        server.add_group(DIGEST, "NPS weekly", chat_type="channel")
        server.add_member(MANAGERS, BOSS)
        yield server


@pytest.fixture
async def migrated(database_url: str) -> str:
    engine = make_engine(database_url)
    await upgrade_to_head(engine)
    await engine.dispose()
    return database_url


@pytest.fixture
def good_env(
    fake: FakeBotApi, migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A deployment as it should be; each test breaks one thing."""
    monkeypatch.chdir(tmp_path)  # no developer's .env
    for name in list(os.environ):
        if name.startswith("NPSBOT_") and name != "NPSBOT_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    env = {
        "NPSBOT_TELEGRAM_TOKEN": TOKEN,
        "NPSBOT_TELEGRAM_API_URL": fake.base_url,
        "NPSBOT_MANAGER_CHAT_ID": str(MANAGERS),
        "NPSBOT_ALERT_ROUTES": f"team:Billing={BILLING}",
        "NPSBOT_DIGEST_CHAT_ID": str(DIGEST),
        "NPSBOT_MANAGER_USER_IDS": str(BOSS),
        "NPSBOT_DATABASE_URL": migrated,
        "NPSBOT_API_TOKEN": "intake-" + "x" * 24,
        "NPSBOT_LINK_SECRET": "links-" + "y" * 24,
        "NPSBOT_TIMEZONE": "Europe/Moscow",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def report(checks: list[Check]) -> str:
    stream = io.StringIO()
    render(checks, stream)
    return stream.getvalue()


async def test_a_good_setup_passes_every_check(good_env: dict[str, str]) -> None:
    checks = await doctor(now=NOW)
    assert {c.name: c.status for c in checks if c.status is not Status.PASS} == {}
    named = by_name(checks)
    assert "@acme_nps_bot" in named["bot token"].detail
    assert "123456:…Dsaw" in named["bot token"].detail
    assert "manager chat" in named[f"chat {MANAGERS}"].detail
    assert "alerts for team:Billing" in named[f"chat {BILLING}"].detail
    assert "channel “NPS weekly”, the bot is administrator" in named[f"chat {DIGEST}"].detail
    # 10:30 UTC on a Wednesday is 13:30 in Moscow; the digest goes on Monday at 09:00 there.
    assert "local time 2026-12-02 13:30 MSK" in named["time zone"].detail
    assert "next digest Mon 2026-12-07 09:00 MSK" in named["time zone"].detail
    assert "polling; no webhook set" in named["updates"].detail
    printed = report(checks)
    assert printed.rstrip().endswith(f"ready: {len(checks)} pass")
    assert TOKEN.split(":")[1] not in printed and good_env["NPSBOT_API_TOKEN"] not in printed


async def test_npsbot_doctor_exits_0_when_ready_and_1_when_not(good_env: dict[str, str]) -> None:
    async def run(**env: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "doctor",
            env={**os.environ, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        assert process.returncode is not None
        return process.returncode, output.decode()

    code, output = await run()
    assert code == 0, output
    assert "Traceback" not in output
    code, output = await run(NPSBOT_TELEGRAM_TOKEN="123456:WRONGwrongWRONGwrong")
    assert code == 1
    assert "FAIL  bot token" in output
    assert "WRONGwrong" not in output and "Traceback" not in output


async def test_a_wrong_token_fails_and_the_chats_go_unchecked(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPSBOT_TELEGRAM_TOKEN", "123456:WRONGwrongWRONGwrong")
    checks = by_name(await doctor(now=NOW))
    token = checks["bot token"]
    assert token.status is Status.FAIL
    assert "Telegram rejected 123456:…rong" in token.detail
    assert "WRONGwrong" not in token.detail
    assert checks[f"chat {MANAGERS}"].status is Status.SKIP
    assert checks["updates"].status is Status.SKIP
    assert checks["database"].status is Status.PASS  # the rest is still checked


async def test_an_unreachable_bot_api_is_a_failed_check(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPSBOT_TELEGRAM_API_URL", "http://127.0.0.1:9/bot")
    token = by_name(await doctor(now=NOW))["bot token"]
    assert token.status is Status.FAIL
    assert "cannot reach the Bot API at 127.0.0.1:9" in token.detail


@pytest.mark.parametrize("suffix", ["/", ""])
async def test_a_base_url_without_bot_blames_the_url_not_the_token(
    good_env: dict[str, str], fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    # base_url + token: without "/bot" Telegram answers 404, which PTB calls an invalid token.
    root = fake.base_url.removesuffix("/bot") + suffix
    monkeypatch.setenv("NPSBOT_TELEGRAM_API_URL", root)
    token = by_name(await doctor(now=NOW))["bot token"]
    assert token.status is Status.FAIL
    assert f"NPSBOT_TELEGRAM_API_URL={root} must be a Bot API base URL ending in /bot" in (
        token.detail
    )
    assert "@BotFather" not in token.detail
    assert TOKEN.split(":")[1] not in token.detail


async def test_chats_the_bot_cannot_post_to_fail(
    good_env: dict[str, str], fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPSBOT_MANAGER_CHAT_ID", "-1009999999999")  # the bot was never added
    fake.kick_bot(BILLING)
    fake.set_bot_rights(DIGEST, admin=True, can_post_messages=False)
    checks = by_name(await doctor(now=NOW))
    missing = checks["chat -1009999999999"]
    assert missing.status is Status.FAIL and "no such chat" in missing.detail
    kicked = checks[f"chat {BILLING}"]
    assert kicked.status is Status.FAIL and "kicked" in kicked.detail
    channel = checks[f"chat {DIGEST}"]
    assert channel.status is Status.FAIL and "allowed to post messages" in channel.detail
    assert checks["managers in chat"].status is Status.WARN  # not in a chat the bot is not in


async def test_managers_not_set_or_not_in_the_chat_are_warnings(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPSBOT_MANAGER_USER_IDS", f"{BOSS},7002")
    checks = by_name(await doctor(now=NOW))
    assert checks["managers in chat"].status is Status.WARN
    assert checks["managers in chat"].detail.endswith(": 7002")
    monkeypatch.setenv("NPSBOT_MANAGER_USER_IDS", "")
    checks = by_name(await doctor(now=NOW))
    assert checks["manager users"].status is Status.WARN
    assert "managers in chat" not in checks


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_a_database_behind_the_newest_migration_fails(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_revision(scripts.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to, head.down_revision)
    await engine.dispose()
    monkeypatch.setenv("NPSBOT_DATABASE_URL", url)
    database = by_name(await doctor(now=NOW))["database"]
    assert database.status is Status.FAIL
    assert f"at revision {head.down_revision}, the newest is {head.revision}" in database.detail
    assert "npsbot migrate" in database.detail
    engine = make_engine(url)
    async with engine.connect() as connection:  # the doctor migrated nothing
        revision = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        assert revision.scalar_one() == head.down_revision
    await engine.dispose()


async def test_a_missing_or_unreachable_database_fails_without_creating_one(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NPSBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'none.db'}")
    database = by_name(await doctor(now=NOW))["database"]
    assert database.status is Status.FAIL and "no database file" in database.detail
    assert not (tmp_path / "none.db").exists()
    monkeypatch.setenv("NPSBOT_DATABASE_URL", "sqlite+aiosqlite:///absent.db")  # relative
    database = by_name(await doctor(now=NOW))["database"]
    assert f"({tmp_path / 'absent.db'})" in database.detail  # where it looked
    monkeypatch.setenv(
        "NPSBOT_DATABASE_URL", "postgresql+asyncpg://npsbot:s3cret-pw@127.0.0.1:9/npsbot"
    )
    database = by_name(await doctor(now=NOW))["database"]
    assert database.status is Status.FAIL and "cannot use" in database.detail
    assert "s3cret-pw" not in database.detail


async def test_a_database_url_without_an_async_driver_fails_naming_the_fix(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The URL PostgreSQL's own tools take: SQLAlchemy reads it as psycopg2, which npsbot lacks.
    monkeypatch.setenv("NPSBOT_DATABASE_URL", "postgresql://npsbot:s3cret-pw@127.0.0.1/npsbot")
    checks = by_name(await doctor(now=NOW))
    database = checks["database"]
    assert database.status is Status.FAIL
    assert "use postgresql+asyncpg://" in database.detail
    assert "s3cret-pw" not in database.detail
    assert checks["time zone"].status is Status.PASS  # the checks after it still ran


async def test_a_bad_time_zone_fails_and_the_rest_is_still_checked(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPSBOT_TIMEZONE", "Mars/Olympus_Mons")
    checks = by_name(await doctor(now=NOW))
    assert checks["time zone"].status is Status.FAIL
    assert "'Mars/Olympus_Mons' is not an IANA time zone" in checks["time zone"].detail
    assert checks["settings"].status is Status.PASS  # said once, by its own check
    assert checks["bot token"].status is Status.PASS
    monkeypatch.setenv("NPSBOT_DIGEST_CRON", "every monday")  # both named in one run
    detail = by_name(await doctor(now=NOW))["time zone"].detail
    assert "'Mars/Olympus_Mons' is not an IANA time zone" in detail
    assert "NPSBOT_DIGEST_CRON='every monday' is not a crontab" in detail
    monkeypatch.delenv("NPSBOT_DIGEST_CRON")
    monkeypatch.setenv("NPSBOT_TIMEZONE", "UTC")
    monkeypatch.setenv("NPSBOT_MANAGER_USER_IDS", "boss")
    checks = by_name(await doctor(now=NOW))
    assert checks["settings"].status is Status.FAIL
    assert "NPSBOT_MANAGER_USER_IDS: 'boss' is not a Telegram user id" in checks["settings"].detail


async def test_webhook_mode_matches_telegram_and_reports_its_last_error(
    good_env: dict[str, str], fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "https://bot.example/telegram/webhook"
    monkeypatch.setenv("NPSBOT_TELEGRAM_WEBHOOK_URL", url)
    updates = by_name(await doctor(now=NOW))["updates"]
    assert updates.status is Status.WARN and "not registered yet" in updates.detail

    async with telegram.Bot(TOKEN, base_url=fake.base_url) as bot:
        await bot.set_webhook("https://old.example/hook")
        updates = by_name(await doctor(now=NOW))["updates"]
        assert updates.status is Status.FAIL
        assert "delivers to https://old.example/hook" in updates.detail
        await bot.set_webhook(url)
    assert by_name(await doctor(now=NOW))["updates"].status is Status.PASS
    fake.webhook_failed("Wrong response from the webhook: 502 Bad Gateway")
    updates = by_name(await doctor(now=NOW))["updates"]
    assert updates.status is Status.WARN and "502 Bad Gateway" in updates.detail

    monkeypatch.setenv("NPSBOT_TELEGRAM_WEBHOOK_URL", "http://bot.example/telegram/webhook")
    checks = by_name(await doctor(now=NOW))  # webhook mode was meant: no "polling" verdict
    assert checks["updates"].status is Status.FAIL
    assert "is not https://" in checks["updates"].detail
    assert checks["settings"].status is Status.PASS  # said once, by its own check

    monkeypatch.delenv("NPSBOT_TELEGRAM_WEBHOOK_URL")  # polling with a webhook in the way
    updates = by_name(await doctor(now=NOW))["updates"]
    assert updates.status is Status.WARN and "getUpdates conflicts" in updates.detail


async def test_missing_secrets_and_chats_are_warnings(
    good_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NPSBOT_API_TOKEN", "NPSBOT_LINK_SECRET", "NPSBOT_MANAGER_CHAT_ID"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("NPSBOT_ALERT_ROUTES")
    monkeypatch.delenv("NPSBOT_DIGEST_CHAT_ID")
    checks = by_name(await doctor(now=NOW))
    for name in ("intake API token", "link secret", "chats"):
        assert checks[name].status is Status.WARN, checks[name]
    monkeypatch.setenv("NPSBOT_API_TOKEN", "short")
    assert "5 characters" in by_name(await doctor(now=NOW))["intake API token"].detail


def test_tokens_are_masked_to_the_bot_id_and_four_characters() -> None:
    assert mask_token(TOKEN) == "123456:…Dsaw"
    assert mask_token("short:abc") == "****"
    assert mask_token("no-colon") == "****"


async def test_a_private_manager_chat_passes_without_naming_the_person(
    good_env: dict[str, str], fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.client(BOSS, "Olga")
    monkeypatch.setenv("NPSBOT_MANAGER_CHAT_ID", str(BOSS))
    checks = by_name(await doctor(now=NOW))
    private = checks[f"chat {BOSS}"]
    assert private.status is Status.PASS and "a private chat" in private.detail
    assert "Olga" not in report(list(checks.values()))

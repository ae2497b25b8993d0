"""``npsbot campaign ...`` as an operator types it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

import bot.enps.cli as campaign_cli
from bot.cli import app
from storage.db import make_engine, make_session_factory
from storage.models import EnpsCampaign, EnpsInvitation, OutboxMessage

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    for name in ("NPSBOT_TELEGRAM_TOKEN", "NPSBOT_DATABASE_URL", "NPSBOT_MANAGER_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    return {"NPSBOT_BOT_USERNAME": "acme_nps_bot", "NPSBOT_TELEGRAM_TOKEN": "123:ABC"}


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, ["campaign", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_create_add_list_start_and_remove(env: dict[str, str], tmp_path: Path) -> None:
    created = invoke(env, "create", "staff", "--chat-id", "-100500", "--member", "11")
    assert "members join with https://t.me/acme_nps_bot?start=e" in created
    assert invoke(env, "add-members", "staff", "11", "12", "13").startswith("2 members added")
    listing = invoke(env, "list")
    assert "staff: 0 joined, 3 added but not joined yet, 0 not reachable" in listing
    assert "schedule '0 10 1 1,4,7,10 *'" in listing
    assert "round 1 of 'staff' opened: 3 members asked" in invoke(env, "start-round", "staff")
    assert "round open" in invoke(env, "list")
    again = runner.invoke(app, ["campaign", "start-round", "staff"], env=env)
    assert again.exit_code == 2 and "round open already" in again.output
    assert invoke(env, "remove-members", "staff", "13", "99").startswith("1 members removed")
    assert invoke(env, "link", "staff").startswith("https://t.me/acme_nps_bot?start=e")

    async def stored() -> tuple[int, list[str]]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}")
        async with make_session_factory(engine)() as session:
            invitations = len((await session.exec(select(EnpsInvitation))).all())
            purposes = list((await session.exec(select(OutboxMessage.purpose))).all())
        await engine.dispose()
        return invitations, purposes

    assert asyncio.run(stored()) == (3, ["enps", "enps", "enps"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "bad name", "--chat-id", "1"], "campaign name"),
        (["create", "x", "--chat-id", "1", "--cron", "quarterly"], "not a crontab"),
        (["create", "x", "--chat-id", "1", "--min-group-size", "2"], "at least 3"),
        (["create", "x", "--chat-id", "1", "--min-group-size", "0"], "at least 3"),
        (["create", "x", "--chat-id", "1", "--language", "de"], "unsupported language"),
        (["add-members", "nobody", "1"], "no campaign is called 'nobody'"),
        (["start-round", "nobody"], "no campaign is called"),
    ],
)
def test_bad_input_is_a_clear_error(env: dict[str, str], args: list[str], message: str) -> None:
    result = runner.invoke(app, ["campaign", *args], env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_a_name_is_taken_once(env: dict[str, str]) -> None:
    invoke(env, "create", "staff", "--chat-id", "1")
    result = runner.invoke(app, ["campaign", "create", "staff", "--chat-id", "1"], env=env)
    assert result.exit_code == 2 and "exists already" in result.output


def test_digest_of_a_campaign_without_a_closed_round_says_so(env: dict[str, str]) -> None:
    invoke(env, "create", "staff", "--chat-id", "1")
    result = runner.invoke(app, ["campaign", "digest", "staff"], env=env)
    assert result.exit_code == 2 and "no closed round yet" in result.output


def test_create_without_a_token_stores_nothing(env: dict[str, str]) -> None:
    bare = {**env, "NPSBOT_TELEGRAM_TOKEN": ""}
    result = runner.invoke(app, ["campaign", "create", "staff", "--chat-id", "1"], env=bare)
    assert result.exit_code == 2 and "NPSBOT_TELEGRAM_TOKEN" in result.output
    assert "no campaigns yet" in invoke(env, "list")


def test_campaign_commands_log_in_the_configured_format(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[object, ...]] = []
    monkeypatch.setattr(campaign_cli, "configure_logging", lambda *args: seen.append(args))
    invoke({**env, "NPSBOT_LOG_FORMAT": "json", "NPSBOT_LOG_LEVEL": "WARNING"}, "list")
    assert seen == [("WARNING", "json")]


def test_a_small_customer_digest_minimum_gives_campaigns_three(
    env: dict[str, str], tmp_path: Path
) -> None:
    # NPSBOT_DIGEST_MIN_GROUP_SIZE may be 1 for the customer digest; the README promises a
    # campaign's default never goes below 3, so create must not refuse it.
    invoke({**env, "NPSBOT_DIGEST_MIN_GROUP_SIZE": "1"}, "create", "staff", "--chat-id", "1")

    async def stored() -> list[int]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}")
        async with make_session_factory(engine)() as session:
            sizes = list((await session.exec(select(EnpsCampaign.min_group_size))).all())
        await engine.dispose()
        return sizes

    assert asyncio.run(stored()) == [3]

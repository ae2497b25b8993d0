"""The ``npsbot`` command as an operator types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env; the default SQLite file lands here
    for name in ("NPSBOT_TELEGRAM_TOKEN", "NPSBOT_DATABASE_URL", "NPSBOT_MANAGER_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    return {"NPSBOT_BOT_USERNAME": "acme_nps_bot", "NPSBOT_TELEGRAM_TOKEN": "123:ABC"}


def test_run_without_token_exits_at_once_naming_the_variable(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["run"], env={"NPSBOT_TELEGRAM_TOKEN": ""})
    assert result.exit_code == 2
    assert "NPSBOT_TELEGRAM_TOKEN" in result.output


def test_migrate_creates_the_default_sqlite_file(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "npsbot.db").is_file()


def test_ticket_closed_from_the_shell_is_idempotent(env: dict[str, str]) -> None:
    args = [
        "ticket-closed",
        "--ticket-id",
        "T-1",
        "--customer-id",
        "c-1",
        "--agent",
        "Ivan",
        "--closed-at",
        "2026-11-20T10:00:00",
    ]
    first = runner.invoke(app, args, env=env)
    second = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert one["created"] is True and two["created"] is False
    assert one["survey_id"] == two["survey_id"]
    assert one["status"] == "pending"
    assert one["deep_link"].startswith("https://t.me/acme_nps_bot?start=s")


def test_ticket_closed_with_a_skipped_tag(env: dict[str, str]) -> None:
    args = ["ticket-closed", "--ticket-id", "T-9", "--customer-id", "c-9", "--tag", "spam"]
    result = runner.invoke(app, args, env={**env, "NPSBOT_SKIP_TAGS": "spam, auto-closed"})
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["status"], body["skip_reason"]) == ("skipped", "tag:spam")


def test_digest_print_needs_no_telegram(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["digest", "--print"], env={"NPSBOT_TELEGRAM_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "NPS digest" in result.stdout
    assert "No answers this week" in result.stdout
    assert "<b>" not in result.stdout


def test_digest_without_a_mode_explains(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["digest"], env=env)
    assert result.exit_code == 2
    assert "--print" in result.output


def test_a_bad_setting_is_named_without_a_traceback(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["migrate"], env={**env, "NPSBOT_TIMEZONE": "Mars/Olympus"})
    assert result.exit_code == 2
    assert "NPSBOT_TIMEZONE" in result.output
    assert "Traceback" not in result.output

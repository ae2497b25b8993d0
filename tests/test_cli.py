"""The ``npsbot`` command as an operator types it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from storage.db import make_engine, make_session_factory
from storage.models import Survey, Ticket

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
    assert "No answers in this period" in result.stdout
    assert "<b>" not in result.stdout


def seed_answers(env: dict[str, str]) -> None:
    """Three answered surveys through the shell: 10, 9 and 2 (NPS 33.3), answered just now."""
    scores = {"T-1": 10, "T-2": 9, "T-3": 2}
    for ticket in scores:
        args = ["ticket-closed", "--ticket-id", ticket, "--customer-id", f"c-{ticket}"]
        assert runner.invoke(app, [*args, "--company", "ACME"], env=env).exit_code == 0
    asyncio.run(answer_all(scores))


async def answer_all(scores: dict[str, int]) -> None:
    engine = make_engine("sqlite+aiosqlite:///npsbot.db")
    now = datetime.now(UTC) - timedelta(hours=1)
    try:
        async with make_session_factory(engine)() as session:
            for survey in (await session.exec(select(Survey))).all():
                ticket = await session.get(Ticket, survey.ticket_id)
                assert ticket is not None
                survey.status, survey.sent_at = "answered", now
                survey.score, survey.answered_at = scores[ticket.external_id], now
                session.add(survey)
            await session.commit()
    finally:
        await engine.dispose()


def test_digest_print_for_a_typed_period(env: dict[str, str]) -> None:
    seed_answers(env)
    result = runner.invoke(app, ["digest", "--print", "--period", "30d"], env=env)
    assert result.exit_code == 0, result.output
    assert "NPS: 33, 95% interval " in result.stdout  # (2 promoters - 1 detractor) / 3
    assert "3 responses" in result.stdout


@pytest.mark.parametrize(
    ("period", "message"),
    [("yesterday", "cannot understand the period 'yesterday'"), ("2026-13", "not a month")],
)
def test_digest_print_with_a_bad_period_explains(
    env: dict[str, str], period: str, message: str
) -> None:
    result = runner.invoke(app, ["digest", "--print", "--period", period], env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_export_csv_and_xlsx(env: dict[str, str], tmp_path: Path) -> None:
    seed_answers(env)
    result = runner.invoke(app, ["export", "--period", "7d", "--out", "r.csv"], env=env)
    assert result.exit_code == 0, result.output
    assert "3 responses written to r.csv" in result.stdout
    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["T-1", "T-2", "T-3"]
    assert [row[9] for row in rows[1:]] == ["10", "9", "2"]

    result = runner.invoke(app, ["export", "--format", "xlsx"], env=env)
    assert result.exit_code == 0, result.output
    written = next(tmp_path.glob("nps-*.xlsx"))
    assert written.name in result.stdout
    sheet = load_workbook(written, read_only=True)["responses"]
    assert len(list(sheet.iter_rows(values_only=True))) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "use csv or xlsx"),
        (["--period", "2026-W60"], "not an ISO week"),
        (["--out", "no/such/dir/r.csv"], "cannot write"),
    ],
)
def test_export_errors_are_clear(env: dict[str, str], args: list[str], message: str) -> None:
    result = runner.invoke(app, ["export", *args], env=env)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_failed_export_leaves_the_previous_file_alone(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_answers(env)
    (tmp_path / "r.csv").write_text("last week's export")

    async def fail_half_way(*_args: object, **_kwargs: object) -> int:
        (tmp_path / ".r.csv.partial").write_bytes(b"survey_id,tick")
        raise RuntimeError("the database went away")

    monkeypatch.setattr("bot.cli_commands.export_responses", fail_half_way)
    result = runner.invoke(app, ["export", "--out", "r.csv"], env=env)
    assert isinstance(result.exception, RuntimeError)
    assert (tmp_path / "r.csv").read_text() == "last week's export"
    assert sorted(path.name for path in tmp_path.iterdir() if "r.csv" in path.name) == ["r.csv"]


def test_export_draws_a_bar_on_large_exports(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_answers(env)
    monkeypatch.setattr("bot.cli.PROGRESS_BAR_ROWS", 2)
    result = runner.invoke(app, ["export", "--out", "r.csv"], env=env)
    assert result.exit_code == 0, result.output
    assert "Exporting" in result.output


def test_digest_without_a_mode_explains(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["digest"], env=env)
    assert result.exit_code == 2
    assert "--print" in result.output


def test_a_bad_setting_is_named_without_a_traceback(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["migrate"], env={**env, "NPSBOT_TIMEZONE": "Mars/Olympus"})
    assert result.exit_code == 2
    assert "NPSBOT_TIMEZONE" in result.output
    assert "Traceback" not in result.output

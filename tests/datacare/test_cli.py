"""``npsbot purge`` and ``npsbot import`` as an operator types them: clear errors, no traceback."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import PROGRESS_BAR_ROWS, app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env; the default SQLite file lands here
    for name in ("NPSBOT_TELEGRAM_TOKEN", "NPSBOT_DATABASE_URL", "NPSBOT_MANAGER_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    return {"NPSBOT_TIMEZONE": "UTC"}


def test_import_reports_refused_lines_on_stderr_and_exits_1(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "ticket_id,answered_at,score,comment\n"
        "T-1,2025-10-05T10:00:00Z,9,Lovely\n"
        "T-2,2025-10-05T10:00:00Z,12,My phone is +79001234567\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(path)], env=env)
    assert result.exit_code == 1, result.output
    assert "line 3: score must be a whole number from 0 to 10" in result.stderr
    assert "+7900" not in result.output  # a reason never quotes the client
    assert "imported: 1" in result.stdout and "rejected: 1" in result.stdout
    again = runner.invoke(app, ["import", str(path), "--rejects", "rejects.csv"], env=env)
    assert again.exit_code == 1
    assert "already there (not added again): 1" in again.stdout
    assert (
        (tmp_path / "rejects.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("3,score must be")
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ticket,score\nT-1,9\n", "the header has no ticket_id, answered_at columns"),
        (None, "No such file or directory"),
    ],
)
def test_import_errors_are_clear(
    env: dict[str, str], tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "history.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)], env=env)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_a_clean_large_import_exits_0_with_a_bar(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    rows = "".join(
        f"T-{n},2025-10-05T10:{n % 60:02d}:00Z,{n % 11}\n" for n in range(PROGRESS_BAR_ROWS)
    )
    path.write_text("ticket_id,answered_at,score\n" + rows, encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "Importing" in result.stderr
    assert f"imported: {PROGRESS_BAR_ROWS}" in result.stdout


def test_purge_dry_run_and_refusals(env: dict[str, str], tmp_path: Path) -> None:
    # A dry run changes nothing, the schema included: it does not migrate a database.
    behind = runner.invoke(app, ["purge", "--older-than", "2y", "--dry-run"], env=env)
    assert behind.exit_code == 2, behind.output
    assert "run `npsbot migrate` first" in behind.stderr
    with contextlib.closing(sqlite3.connect(tmp_path / "npsbot.db")) as database:
        tables = database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert tables.fetchall() == []
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    dry = runner.invoke(app, ["purge", "--older-than", "2y", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was changed" in dry.stdout
    assert "surveys anonymised: 0" in dry.stdout
    short = runner.invoke(app, ["purge", "--older-than", "7d"], env=env)
    assert short.exit_code == 2 and "--force" in short.stderr
    forced = runner.invoke(app, ["purge", "--older-than", "7d", "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    bad = runner.invoke(app, ["purge", "--older-than", "two years"], env=env)
    assert bad.exit_code == 2 and "2y, 18m, 12w or 90d" in bad.stderr


@pytest.mark.parametrize("args", [["purge", "--older-than", "2y"], ["import", "history.csv"]])
def test_an_unreachable_database_is_an_error_not_a_traceback(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "history.csv").write_text("ticket_id,answered_at,score\n", encoding="utf-8")
    unreachable = {**env, "NPSBOT_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:9/none"}
    result = runner.invoke(app, args, env=unreachable)
    assert result.exit_code == 2
    assert "the database failed" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["purge", "--older-than", "2y"], ["import", "history.csv"]])
def test_a_database_url_without_an_async_driver_names_the_fix(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "history.csv").write_text("ticket_id,answered_at,score\n", encoding="utf-8")
    plain = {**env, "NPSBOT_DATABASE_URL": "postgresql://npsbot:s3cret@127.0.0.1/npsbot"}
    result = runner.invoke(app, args, env=plain)
    assert result.exit_code == 2, result.output
    assert "use postgresql+asyncpg://" in result.stderr
    assert "run " not in result.stderr  # running it again would not help
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_rejects_into_the_file_being_imported_is_refused_and_the_file_kept(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "history.csv"
    content = "ticket_id,answered_at,score\nT-1,2025-10-05T10:00:00Z,9\nT-2,2025-10-05,99\n"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["import", str(path), "--rejects", "./history.csv"], env=env)
    assert result.exit_code == 2, result.output
    assert "is the file being imported" in result.stderr
    assert path.read_text(encoding="utf-8") == content  # not emptied for the rejects
    assert "imported" not in result.stdout  # nothing was written before the refusal


@pytest.mark.parametrize(
    "args", [["purge", "--older-than", "2y"], ["import", "history.csv"], ["migrate"]]
)
def test_a_database_a_newer_npsbot_migrated_is_one_line_not_a_traceback(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    # A cron purge from an old install during a rolling upgrade meets the new schema.
    (tmp_path / "history.csv").write_text("ticket_id,answered_at,score\n", encoding="utf-8")
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    with contextlib.closing(sqlite3.connect(tmp_path / "npsbot.db")) as database:
        database.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        database.commit()
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert "revision 9999_from_the_future, which this npsbot does not know" in result.stderr
    assert "upgrade npsbot" in result.stderr and "Traceback" not in result.output

"""Themes reach the database: live comments as they are stored, imported ones after the import,
and every comment again on ``npsbot themes --recompute``, in batches, on both databases."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app
from bot.survey.answers import SurveyAnswers
from bot.themes.stored import join_themes, split_themes
from bot.themes.tagger import Tagger
from bot.themes.taxonomy import builtin_taxonomy
from storage.db import SessionFactory
from storage.models import Survey
from storage.themes import CommentScope, count_comments, tag_comments
from tests.test_hostile_input import CLIENT, NOW, waiting_for_comment

TAGGER = Tagger(builtin_taxonomy())
runner = CliRunner()


def test_stored_themes_are_ids_joined_by_semicolons() -> None:
    assert join_themes(("speed", "price")) == "speed;price"
    assert join_themes(()) == ""
    assert split_themes("speed;price") == ("speed", "price")
    assert split_themes("") == split_themes(None) == ()


@pytest.mark.parametrize(
    ("comment", "stored"), [("Ждал два часа, нагрубили", "speed;attitude"), ("спасибо", "")]
)
async def test_a_live_comment_is_stored_with_its_themes(
    sessions: SessionFactory, comment: str, stored: str
) -> None:
    await waiting_for_comment(sessions)
    answers = SurveyAnswers(
        session_factory=sessions,
        company="ACME",
        default_language="ru",
        wake=lambda: None,
        clock=lambda: NOW,
        tagger=TAGGER,
    )
    assert await answers.record_comment(chat_id=CLIENT, user_id=CLIENT, text=comment)
    async with sessions() as session:
        survey = (await session.exec(select(Survey))).one()
    assert (survey.comment, survey.themes) == (comment, stored)


async def seed(sessions: SessionFactory, comments: list[str | None]) -> None:
    """One completed survey per comment, a day apart from NOW backwards, none tagged yet."""
    for _ in comments:
        await waiting_for_comment(sessions)
    async with sessions() as session:
        surveys = (await session.exec(select(Survey).order_by(col(Survey.id)))).all()
        for index, (survey, comment) in enumerate(zip(surveys, comments, strict=True)):
            survey.comment = comment
            survey.commented_at = NOW - timedelta(days=index) if comment is not None else None
            session.add(survey)
        await session.commit()


async def themes_by_comment(sessions: SessionFactory) -> dict[str | None, str | None]:
    async with sessions() as session:
        return {s.comment: s.themes for s in (await session.exec(select(Survey))).all()}


async def test_stored_comments_are_tagged_in_batches_within_the_scope(
    engine: AsyncEngine, sessions: SessionFactory
) -> None:
    comments = ["refund please", "so slow", "rude", "спасибо", "приложение вылетает", None]
    await seed(sessions, comments)
    two_days = CommentScope(since=NOW - timedelta(days=1), until=NOW + timedelta(seconds=1))
    assert await count_comments(engine, two_days) == 2

    batches: list[int] = []
    tagged = await tag_comments(
        engine, lambda text: join_themes(TAGGER.tag(text)), two_days, batch_size=1,
        progress=batches.append,
    )  # fmt: skip

    assert (tagged, batches) == (2, [1, 1])
    assert await themes_by_comment(sessions) == {
        "refund please": "price",
        "so slow": "speed",
        "rude": None,  # outside the period: left as it was
        "спасибо": None,
        "приложение вылетает": None,
        None: None,  # no comment: nothing to tag
    }
    everything = await tag_comments(
        engine, lambda text: join_themes(TAGGER.tag(text)), CommentScope(only_untagged=True),
        batch_size=2,
    )  # fmt: skip
    assert everything == 3
    assert (await themes_by_comment(sessions))["спасибо"] == ""  # tagged, about nothing
    with pytest.raises(ValueError, match="batch_size"):
        await tag_comments(engine, lambda _text: "", CommentScope(), batch_size=0)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    for name in ("NPSBOT_TELEGRAM_TOKEN", "NPSBOT_DATABASE_URL", "NPSBOT_THEMES_FILE"):
        monkeypatch.delenv(name, raising=False)
    return {"NPSBOT_TIMEZONE": "UTC"}


def stored(tmp_path: Path) -> dict[str, str | None]:
    with sqlite3.connect(tmp_path / "npsbot.db") as connection:
        return dict(connection.execute("SELECT comment, themes FROM survey").fetchall())


def test_imported_comments_get_their_themes_and_recompute_follows_the_taxonomy(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "history.csv").write_text(
        "ticket_id,answered_at,score,comment\n"
        "T-1,2025-10-05T10:00:00Z,2,Waited two hours for a refund\n"
        "T-2,2025-11-05T10:00:00Z,9,the courier was lovely\n",
        encoding="utf-8",
    )
    imported = runner.invoke(app, ["import", "history.csv"], env=env)
    assert imported.exit_code == 0, imported.output
    assert stored(tmp_path) == {
        "Waited two hours for a refund": "speed;price",
        "the courier was lovely": "attitude;product",
    }

    (tmp_path / "themes.toml").write_text(
        '[delivery]\nkeywords.en = ["courier"]\n[product]\nremove = true\n', encoding="utf-8"
    )
    changed = {**env, "NPSBOT_THEMES_FILE": "themes.toml"}
    tried = runner.invoke(app, ["themes", "--test", "the courier was lovely"], env=changed)
    assert tried.exit_code == 0, tried.output
    assert tried.stdout.splitlines() == ["attitude: lovely", "delivery: courier"]

    november = runner.invoke(app, ["themes", "--recompute", "--period", "2025-11"], env=changed)
    assert november.exit_code == 0, november.output
    assert "1 comments tagged" in november.stdout
    assert stored(tmp_path)["the courier was lovely"] == "attitude;delivery"
    assert stored(tmp_path)["Waited two hours for a refund"] == "speed;price"  # October: as was


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], 'say --test "some text" or --recompute'),
        (["--test", "x", "--period", "7d"], "--period works with --recompute"),
        (["--recompute", "--period", "soon"], "cannot understand the period 'soon'"),
    ],
)
def test_themes_command_says_what_is_wrong(
    env: dict[str, str], arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["themes", *arguments], env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_a_wrong_themes_file_is_named_with_every_problem(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "themes.toml").write_text('[Bad]\nkeywords.en = ["x"]\n', encoding="utf-8")
    result = runner.invoke(
        app, ["themes", "--test", "x"], env={**env, "NPSBOT_THEMES_FILE": "themes.toml"}
    )
    assert result.exit_code == 2
    assert "themes file themes.toml has 1 problem:" in result.output
    assert "Bad: a theme id" in result.output


def test_no_theme_is_said_so(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["themes", "--test", "👍"], env=env)
    assert (result.exit_code, result.stdout.strip()) == (0, "no theme")

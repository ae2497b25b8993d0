"""Manager commands as a manager reads them: errors in the chat's language, failures said aloud.

The services are the real ones on SQLite; answers are read from the outbox, which is where a
command's reply goes before Telegram sees it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from bot.config import Settings
from bot.managers.reports import ManagerCommands
from bot.services import Services, build_services
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage
from tests.report.helpers import insert_surveys

MANAGERS = -100500
BOSS = 7001


@pytest.fixture(params=["en", "ru"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'npsbot.db'}",
        manager_chat_id=MANAGERS,
        manager_user_ids=[BOSS],
        language=request.param,
        _env_file=None,  # type: ignore[call-arg]
    )
    built = build_services(settings)
    await upgrade_to_head(built.engine)
    yield built
    await built.close()


async def replies(services: Services) -> list[str]:
    async with services.session_factory() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == MANAGERS)
            .order_by(col(OutboxMessage.id))
        )
        return [str(row.payload.get("text", "")) for row in rows.all()]


@pytest.mark.parametrize(
    ("period", "english", "russian"),
    [
        ("2026-W60", "2026-W60 is not an ISO week of that year.", "2026-W60 — нет такой"),
        ("2026-13", "2026-13 is not a month (YYYY-MM, 01 to 12).", "2026-13 — не месяц"),
        ("0d", "between 1 and 3660", "от 1 до 3660"),
        ("2026-10-05..2026-10-01", "ends before it starts", "кончается раньше"),
        ("2026-02-30..2026-03-01", "2026-02-30 is not a date", "2026-02-30 — не дата"),
        ("2000-01-01..2026-01-01", "at most 3660 days", "не длиннее 3660"),
        ("<b>soon</b>", "I do not understand the period &lt;b&gt;soon&lt;/b&gt;.", "&lt;b&gt;"),
        # Years datetime cannot count in, or not with a day and twelve periods to spare.
        ("0000-05", "0000-05: the year must be from 1900 to 9998.", "0000-05 — год должен"),
        ("9999-12", "9999-12: the year must be from 1900 to 9998.", "от 1900 до 9998"),
        ("9999-W52", "9999-W52: the year must be", "9999-W52 — год должен"),
        ("0001-01-01..0001-01-02", "the year must be from 1900", "год должен быть от 1900"),
    ],
)
async def test_a_bad_period_is_explained_in_the_chats_language(
    services: Services, period: str, english: str, russian: str
) -> None:
    await services.commands.run("nps", ManagerCommands.nps, chat_id=MANAGERS, args=[period])

    (reply,) = await replies(services)
    expected = russian if services.settings.language == "ru" else english
    assert expected in reply
    usage = "Периоды" if services.settings.language == "ru" else "Periods look like"
    assert usage in reply


@pytest.mark.parametrize(
    ("command", "period"),
    [("nps", "1900-01"), ("nps", "9998-W52"), ("digest", "1900-01-01..1909-12-31")],
)
async def test_periods_at_the_edge_of_the_years_are_reported(
    services: Services, command: str, period: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A digest's trend reaches twelve periods back: even then it stays inside the calendar."""
    report = {"nps": ManagerCommands.nps, "digest": ManagerCommands.digest_now}[command]
    await services.commands.run(command, report, chat_id=MANAGERS, args=[period])

    assert await replies(services)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_report_that_fails_says_so_in_the_chat_and_the_log(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("openpyxl choked")

    monkeypatch.setattr(type(services.digest), "export", broken)

    await services.commands.run(
        "export", ManagerCommands.export, chat_id=MANAGERS, args=["30d", "xlsx"]
    )

    (reply,) = await replies(services)
    sorry = "Не получилось" if services.settings.language == "ru" else "could not be made"
    assert sorry in reply
    assert "/export failed" in caplog.text


async def test_a_database_outage_is_left_to_the_outage_policy(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(*_args: object, **_kwargs: object) -> str:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError())

    monkeypatch.setattr(type(services.digest), "summary", unreachable)

    with pytest.raises(OperationalError):  # retried by OutagePolicy, not answered with "sorry"
        await services.commands.run("nps", ManagerCommands.nps, chat_id=MANAGERS, args=["7d"])
    assert await replies(services) == []


async def test_themes_answers_with_the_themes_of_the_periods_comments(services: Services) -> None:
    now = services.digest.clock()
    day = timedelta(days=1)
    rows: list[dict[str, object]] = [
        {"ticket": f"S-{n}", "sent_at": now - 3 * day, "answered_at": now - 2 * day,
         "score": 1, "comment": "ждал неделю", "commented_at": now - 2 * day, "themes": "speed"}
        for n in range(12)
    ] + [
        {"ticket": f"P-{n}", "sent_at": now - 3 * day, "answered_at": now - 2 * day,
         "score": 10, "comment": "thanks", "commented_at": now - 2 * day, "themes": ""}
        for n in range(12)
    ]  # fmt: skip
    await insert_surveys(services.engine, rows)

    await services.commands.run("themes", ManagerCommands.themes, chat_id=MANAGERS, args=["7d"])

    (reply,) = await replies(services)
    if services.settings.language == "ru":
        assert "<b>Темы комментариев</b>" in reply and "<b>Скорость</b>: -" in reply
        assert "Сверх шума" in reply and "24 ответа с комментарием" in reply
    else:
        assert "<b>Themes of the comments</b>" in reply and "<b>Speed</b>: -" in reply
        assert "Beyond noise" in reply and "24 answers with a comment" in reply

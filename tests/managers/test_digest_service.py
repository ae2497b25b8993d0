"""DigestService on SQLite and PostgreSQL: what goes into the outbox, and what never should."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.managers import digest as digest_module
from bot.managers.digest import PostOutcome
from bot.services import Services, build_services
from storage.locks import try_transaction_lock
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage
from tests.report.helpers import WEEK, at, insert_surveys

MANAGERS = -100600
AFTER_THE_WEEK = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)  # Monday: the digest of WEEK is due


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=database_url,
        manager_chat_id=MANAGERS,
        timezone="UTC",
        _env_file=None,  # type: ignore[call-arg]
    )
    built = build_services(settings, clock=lambda: AFTER_THE_WEEK)
    await upgrade_to_head(built.engine)
    await insert_surveys(
        built.engine,
        [
            {"ticket": f"T-{n}", "sent_at": at(7, 9), "answered_at": at(7, 10 + n), "score": s}
            for n, s in enumerate((10, 9, 3, 7, 0))
        ],
    )
    yield built
    await built.close()


async def queued_methods(services: Services) -> list[str]:
    async with services.session_factory() as session:
        rows = await session.exec(
            select(OutboxMessage.method)
            .where(OutboxMessage.chat_id == MANAGERS)
            .order_by(col(OutboxMessage.id))
        )
        return list(rows.all())


async def test_text_chart_and_csv_are_queued_in_order_with_the_chart_drawn_off_the_loop(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn_in: list[int] = []
    draw = digest_module.render_trend_chart

    def spy(*args: object, **kwargs: object) -> bytes:
        drawn_in.append(threading.get_ident())
        return draw(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(digest_module, "render_trend_chart", spy)

    await services.digest.send_digest(MANAGERS, WEEK)

    assert await queued_methods(services) == ["sendMessage", "sendPhoto", "sendDocument"]
    assert len(drawn_in) == 1
    assert drawn_in[0] != threading.get_ident()  # a worker thread; the loop keeps serving


async def test_a_csv_over_telegrams_limit_is_left_out_and_the_rest_goes(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(digest_module, "MAX_UPLOAD_BYTES", 100)

    await services.digest.send_digest(MANAGERS, WEEK)

    assert await queued_methods(services) == ["sendMessage", "sendPhoto"]
    assert "over Telegram's limit" in caplog.text


async def test_the_scheduled_digest_is_queued_once(services: Services) -> None:
    first = await services.digest.post()
    second = await services.digest.post()

    assert (first.outcome, second.outcome) == (PostOutcome.QUEUED, PostOutcome.ALREADY_POSTED)
    assert await queued_methods(services) == ["sendMessage", "sendPhoto", "sendDocument"]


async def test_an_instance_that_finds_the_lock_taken_builds_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; one SQLite file means one instance")

    async def must_not_build(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("built a digest another instance is posting")

    period = services.digest.period(AFTER_THE_WEEK)
    async with services.session_factory() as other_instance:
        lock = f"npsbot:digest:{MANAGERS}:{period.start.isoformat()}"
        assert await try_transaction_lock(other_instance, lock)
        monkeypatch.setattr(type(services.digest), "build", must_not_build)

        result = await services.digest.post()

    assert result.outcome is PostOutcome.ALREADY_POSTED
    assert await queued_methods(services) == []

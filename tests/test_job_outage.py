"""Scheduled jobs in a database outage: one WARNING as it starts, one INFO as it ends, no ERROR.

The jobs are the services' own (the sweep, case re-announcements, the eNPS tick, the digest) on
a SQLite file whose folder is not there, and then is: an outage and its end as the driver sees
them. Any other error is still raised, or logged as an ERROR with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from bot.background import CoalescedJob
from bot.config import Settings
from bot.resilience import JobOutage
from bot.services import Services, build_services
from storage.migrate import upgrade_to_head
from tests.intake.test_outage import settle_sqlite_threads

RUNS = 4


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """The services on a database whose folder is not mounted yet."""
    settings = Settings(
        telegram_token="123456:TEST",  # type: ignore[arg-type]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'mounted-later' / 'npsbot.db'}",
        manager_chat_id=-100500,
        _env_file=None,  # type: ignore[call-arg]
    )
    built = build_services(settings)
    yield built
    await built.close()
    await settle_sqlite_threads()


async def database_back(services: Services) -> None:
    """Mount the folder: the same engine finds its database from the next connection on."""
    path = services.settings.database_url.removeprefix("sqlite+aiosqlite:///")
    Path(path).parent.mkdir()
    await upgrade_to_head(services.engine)


def jobs(services: Services) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "survey-sweep": services.sweep.run,
        "case-reannounce": services.desk.reannounce,
        "enps-rounds": services.enps_rounds.tick,
        "weekly-digest": services.digest.post,
    }


def logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == level]


async def test_each_job_logs_an_outage_once_and_its_end_once(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    guarded = {name: JobOutage(name) for name in jobs(services)}
    with caplog.at_level(logging.INFO):
        for _ in range(RUNS):
            for name, job in jobs(services).items():
                await guarded[name].run(job)
        warnings = logged(caplog, logging.WARNING)
        await database_back(services)
        caplog.clear()
        for _ in range(2):
            for name, job in jobs(services).items():
                await guarded[name].run(job)

    assert len(warnings) == len(guarded)
    for name in guarded:
        (warning,) = [text for text in warnings if text.startswith(f"{name}:")]
        assert "the database is unavailable (OperationalError)" in warning
    back = [text for text in logged(caplog, logging.INFO) if "the database is back" in text]
    assert sorted(back) == sorted(
        f"{name}: the database is back after {RUNS} failed runs" for name in guarded
    )
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_any_other_error_is_raised_for_the_error_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def bug() -> None:
        raise IntegrityError("INSERT INTO survey ...", {}, Exception("UNIQUE constraint failed"))

    with caplog.at_level(logging.INFO), pytest.raises(IntegrityError):
        await JobOutage("survey-sweep").run(bug)
    assert caplog.records == []


async def test_a_kicked_job_logs_an_outage_once_and_a_bug_with_its_traceback(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    queue_due = CoalescedJob(services.sweep.queue_due, name="queue-due-surveys")
    with caplog.at_level(logging.INFO):
        for _ in range(RUNS):
            queue_due.kick()
            await queue_due.aclose()
        assert logged(caplog, logging.WARNING) == [
            "queue-due-surveys: the database is unavailable (OperationalError); the job runs "
            "again on schedule, and says when the database is back"
        ]
        await database_back(services)
        queue_due.kick()
        await queue_due.aclose()
    assert logged(caplog, logging.INFO)[-1] == (
        f"queue-due-surveys: the database is back after {RUNS} failed runs"
    )
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]

    async def bug() -> None:
        raise ValueError("a bug, not an outage")

    caplog.clear()
    broken = CoalescedJob(bug, name="queue-due-surveys")
    broken.kick()
    await broken.aclose()
    (error,) = caplog.records
    assert error.levelno == logging.ERROR and error.exc_info is not None


async def test_the_outbox_loop_logs_an_outage_once_and_its_end_once(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, the dispatcher logged a WARNING every round (about once a second) all along."""
    dispatcher = services.dispatcher
    dispatcher.poll_interval = 0.01
    with caplog.at_level(logging.INFO, logger="bot"):
        loop = asyncio.create_task(dispatcher.run())
        for _ in range(100):  # many rounds against the missing database
            await asyncio.sleep(0.01)
        warnings = logged(caplog, logging.WARNING)
        await database_back(services)
        for _ in range(100):
            if any("outbox: the database is back" in text for text in logged(caplog, logging.INFO)):
                break
            await asyncio.sleep(0.01)
        dispatcher.stop()
        await loop
    assert warnings == [
        "outbox: the database is unavailable (OperationalError); the job runs again on "
        "schedule, and says when the database is back"
    ]
    assert any(
        "outbox: the database is back after" in text for text in logged(caplog, logging.INFO)
    )
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
